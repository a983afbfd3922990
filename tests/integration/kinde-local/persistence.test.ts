import { readdir, rm } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { describe, expect, it } from "vitest";
import { callbackParams, codeGrant, get, newCredentials, startServer, startServerForTest } from "./harness.ts";

async function publishedKid(url: string): Promise<string> {
  const body = (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
  return body.keys[0]?.kid ?? "";
}

describe("a restart with the same data folder", () => {
  it("keeps the signing key, users, provider sessions and refresh tokens", async () => {
    const first = await startServer();
    const credentials = newCredentials();
    const { tokens, jar } = await first.signUpWithTokens(credentials);
    const kid = await publishedKid(first.url);
    await first.close();

    const second = await startServerForTest({ dataDir: first.dataDir });
    expect(await publishedKid(second.url)).toBe(kid);

    const refreshed = await second.refresh(tokens.refresh_token);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(tokens.refresh_token);

    // Single sign-on survives: the browser's session cookie still works.
    const sso = await get(second.authorizeUrl(), jar);
    expect(callbackParams(sso).get("code")).toBeTruthy();

    const { response } = await second.signIn(credentials);
    const again = await second.exchangeCode(callbackParams(response).get("code") ?? "");
    expect(again.id_token).toBeTruthy();
    await second.close();
    expect((await readdir(first.dataDir)).sort()).toEqual(["signing-key.json", "store.json"]);
  });

  it("is refused while another server holds the folder", async () => {
    const first = await startServerForTest();
    await expect(startServer({ dataDir: first.dataDir })).rejects.toThrow(/already uses/);
  });
});

describe("shutdown", () => {
  it("lets a request in flight finish before close() resolves", async () => {
    const server = await startServer();
    const { code } = await server.signUp(newCredentials());
    const body = new URLSearchParams(codeGrant(code)).toString();
    // Send the headers and half the body, close the server, then send the rest.
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const request = httpRequest(`${server.url}/oauth2/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": Buffer.byteLength(body) },
      });
      request.on("response", (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString()));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
      });
      request.on("error", reject);
      request.write(body.slice(0, 20));
      setTimeout(() => {
        const closed = server.close();
        setTimeout(() => request.end(body.slice(20)), 50);
        void closed;
      }, 50);
    });
    const { status, text } = await answer;
    expect(status).toBe(200);
    expect(JSON.parse(text)).toHaveProperty("access_token");
    await server.close();
    await expect(fetch(`${server.url}/.well-known/jwks.json`)).rejects.toThrow();
  });
});

describe("an unexpected failure", () => {
  it("is answered with a 500 that reveals nothing, and logged for the developer", async () => {
    const server = await startServer();
    const form = await server.openForm(server.authorizeUrl({ start_page: "registration" }));
    // Pull the data folder out from under the server: the next save fails.
    await rm(server.dataDir, { recursive: true, force: true });
    const response = await form.submit("/auth/sign-up", {
      p_email: newCredentials().email,
      p_password: "long enough pw",
    });
    expect(response.status).toBe(500);
    const html = await response.text();
    expect(html).toContain("Something went wrong");
    expect(html).not.toMatch(/ENOENT|at .*\.ts|store\.json/);
    expect(server.logs.some((line) => line.includes("unexpected error") && line.includes("ENOENT"))).toBe(true);
    expect(server.logs.join("\n")).not.toContain("long enough pw");
    await expect(server.close()).rejects.toThrow(/ENOENT/);
  });
});

import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  callbackParams,
  CLIENT,
  CLIENT_ID,
  CLIENT_SECRET,
  codeGrant,
  decodePayload,
  get,
  newCredentials,
  REDIRECT_URI,
  useServer,
} from "./harness.ts";

const server = useServer({ ttl: { access: 600, id: 300, refresh: 3_600 } });

describe("authorization_code grant", () => {
  it("uses the configured lifetimes", async () => {
    const { tokens } = await server.signUpWithTokens();
    expect(tokens.expires_in).toBe(600);
    const access = decodePayload(tokens.access_token);
    const id = decodePayload(tokens.id_token);
    expect(Number(access.exp) - Number(access.iat)).toBe(600);
    expect(Number(id.exp) - Number(id.iat)).toBe(300);
  });

  it("refuses a reused code and revokes the refresh token it issued", async () => {
    const { code, tokens } = await server.signUpWithTokens();
    const replay = await server.tokenRequest(codeGrant(code));
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe("invalid_grant");
    const afterReplay = await server.refresh(tokens.refresh_token);
    expect(afterReplay.body.error).toBe("invalid_grant");
  });

  it("refuses a wrong secret or client id with invalid_client (401)", async () => {
    const { code } = await server.signUp(newCredentials());
    const attempts: Record<string, string>[] = [
      { client_secret: "wrongsecret0123456789abcdefghijklmnopqrstuv" },
      { client_secret: "" },
      { client_id: "ffffffffffffffffffffffffffffffff" },
    ];
    for (const overrides of attempts) {
      const { status, body } = await server.tokenRequest(codeGrant(code, overrides));
      expect(status).toBe(401);
      expect(body.error).toBe("invalid_client");
    }
    // The failed attempts did not spend the code.
    expect((await server.exchangeCode(code)).access_token).toBeTruthy();
  });

  it("refuses a redirect_uri that differs from the authorization request", async () => {
    const { code } = await server.signUp(newCredentials());
    const { status, body } = await server.tokenRequest(
      codeGrant(code, { redirect_uri: "http://localhost:3999/other" }),
    );
    expect(status).toBe(400);
    expect(body.error).toBe("invalid_grant");
  });

  it("refuses unknown, missing or malformed codes", async () => {
    for (const fields of [codeGrant("not-a-code"), codeGrant("x".repeat(5000)), { ...codeGrant(""), code: "" }]) {
      const { status, body } = await server.tokenRequest(fields);
      expect(status).toBe(400);
      expect(["invalid_grant", "invalid_request"]).toContain(body.error);
    }
  });

  it("expires codes after 10 minutes", async () => {
    const { code } = await server.signUp(newCredentials());
    server.advance(10 * 60_000 + 1_000);
    const { body } = await server.tokenRequest(codeGrant(code));
    expect(body.error).toBe("invalid_grant");
  });

  it("accepts HTTP Basic client authentication", async () => {
    const { code } = await server.signUp(newCredentials());
    const basic = Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64");
    const { status, body } = await server.tokenRequest(
      { grant_type: "authorization_code", redirect_uri: REDIRECT_URI, code },
      { Authorization: `Basic ${basic}` },
    );
    expect(status).toBe(200);
    expect(body.id_token).toBeTruthy();
  });

  it("supports PKCE (S256) when the authorization request used it", async () => {
    const verifier = randomBytes(32).toString("base64url");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const response = await server.submitSignUp(
      server.authorizeUrl({ start_page: "registration", code_challenge: challenge, code_challenge_method: "S256" }),
      newCredentials(),
    );
    const code = callbackParams(response).get("code") ?? "";
    expect((await server.tokenRequest(codeGrant(code, { code_verifier: "wrong".repeat(10) }))).body.error).toBe(
      "invalid_grant",
    );
    // The failed attempt spent the code, as any failed exchange does.
    expect((await server.tokenRequest(codeGrant(code, { code_verifier: verifier }))).body.error).toBe("invalid_grant");
  });
});

describe("refresh_token grant", () => {
  it("rotates the refresh token; parallel use of the old one gets the same answer", async () => {
    const { tokens } = await server.signUpWithTokens();
    const [first, second] = await Promise.all([
      server.refresh(tokens.refresh_token),
      server.refresh(tokens.refresh_token),
    ]);
    expect(first.status).toBe(200);
    expect(first.body).toEqual(second.body);
    expect(first.body.refresh_token).not.toBe(tokens.refresh_token);
    expect(Object.keys(first.body).sort()).toEqual([
      "access_token",
      "expires_in",
      "id_token",
      "refresh_token",
      "scope",
      "token_type",
    ]);

    // Still within the 30 s overlap: the same new tokens again.
    server.advance(20_000);
    expect((await server.refresh(tokens.refresh_token)).body).toEqual(first.body);

    // The new token works, and rotates in turn.
    const next = await server.refresh(String(first.body.refresh_token));
    expect(next.status).toBe(200);
    expect(decodePayload(String(next.body.id_token)).sub).toBe(decodePayload(tokens.id_token).sub);
  });

  it("revokes the whole family when a rotated-out token comes back after the overlap (RFC 9700 reuse detection)", async () => {
    const { tokens } = await server.signUpWithTokens();
    const first = await server.refresh(tokens.refresh_token);
    const newer = String(first.body.refresh_token);
    server.advance(31_000);
    const late = await server.refresh(tokens.refresh_token);
    expect(late.status).toBe(400);
    expect(late.body.error).toBe("invalid_grant");
    expect((await server.refresh(newer)).body.error).toBe("invalid_grant");
    expect(server.logs).toContain("a refresh token was used again after its overlap: its family is revoked");
  });

  it("returns the nonce in the ID token exactly as sent, through single sign-on too, and not on refresh", async () => {
    const nonce = "n-0S6_WzA2Mj /+=?é";
    const signedUp = await server.signUp(newCredentials());
    const sso = callbackParams(await get(server.authorizeUrl({ nonce }), signedUp.jar));
    const tokens = await server.exchangeCode(sso.get("code") ?? "");
    expect(decodePayload(tokens.id_token).nonce).toBe(nonce);
    expect(decodePayload((await server.exchangeCode(signedUp.code)).id_token)).not.toHaveProperty("nonce");
    const refreshed = await server.refresh(tokens.refresh_token);
    expect(decodePayload(String(refreshed.body.id_token))).not.toHaveProperty("nonce");
  });

  it("issues a refresh token only when the offline scope was granted, as Kinde does", async () => {
    const { code, jar } = await server.signUp(newCredentials());
    expect(Object.keys(await server.exchangeCode(code))).toContain("refresh_token");
    const online = callbackParams(await get(server.authorizeUrl({ scope: "openid profile email" }), jar));
    const tokens = await server.exchangeCode(online.get("code") ?? "");
    expect(tokens.scope).toBe("openid profile email");
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.id_token).toBeTruthy();
    expect(tokens.refresh_token).toBeUndefined();
  });

  it("keeps auth_time from the sign-in across refreshes", async () => {
    const { tokens } = await server.signUpWithTokens();
    server.advance(5_000);
    const refreshed = await server.refresh(tokens.refresh_token);
    expect(decodePayload(String(refreshed.body.id_token)).auth_time).toBe(decodePayload(tokens.id_token).auth_time);
  });

  it("refuses unknown, expired or other clients' refresh tokens", async () => {
    const { tokens } = await server.signUpWithTokens();
    expect((await server.refresh("rt_unknown")).body.error).toBe("invalid_grant");
    const wrongClient = await server.tokenRequest({
      grant_type: "refresh_token",
      client_id: "other",
      client_secret: CLIENT_SECRET,
      refresh_token: tokens.refresh_token,
    });
    expect(wrongClient.body.error).toBe("invalid_client");
    server.advance(3_600_000 + 1_000);
    expect((await server.refresh(tokens.refresh_token)).body.error).toBe("invalid_grant");
  });

  it("revocation (RFC 7009) ends a refresh token; unknown tokens still get 200", async () => {
    const { tokens } = await server.signUpWithTokens();
    const revoke = (token: string) =>
      fetch(`${server.url}/oauth2/revoke`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token, ...CLIENT }),
      });
    expect((await revoke(tokens.refresh_token)).status).toBe(200);
    expect((await revoke("rt_unknown")).status).toBe(200);
    expect((await server.refresh(tokens.refresh_token)).body.error).toBe("invalid_grant");
  });
});

describe("token endpoint errors", () => {
  it("answers JSON errors for bad requests", async () => {
    const cases: [Record<string, string>, number, string][] = [
      [CLIENT, 400, "invalid_request"],
      [{ grant_type: "password", ...CLIENT }, 400, "unsupported_grant_type"],
      [{ grant_type: "refresh_token", ...CLIENT }, 400, "invalid_request"],
      [{ grant_type: "authorization_code" }, 401, "invalid_client"],
    ];
    for (const [fields, status, error] of cases) {
      const response = await server.tokenRequest(fields);
      expect(response.status).toBe(status);
      expect(response.body.error).toBe(error);
      expect(typeof response.body.error_description).toBe("string");
    }
  });

  it("refuses a JSON body and repeated parameters", async () => {
    const json = await fetch(`${server.url}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ grant_type: "client_credentials" }),
    });
    expect(json.status).toBe(415);
    expect(((await json.json()) as { error: string }).error).toBe("invalid_request");
    const repeated = await fetch(`${server.url}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `grant_type=client_credentials&grant_type=password&client_id=${CLIENT_ID}&client_secret=${CLIENT_SECRET}`,
    });
    expect(repeated.status).toBe(400);
  });
});

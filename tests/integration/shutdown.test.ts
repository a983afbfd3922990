/**
 * Graceful shutdown (docs/decisions/0023-safe-by-default-in-production.md): SIGTERM with
 * requests in flight, sent to the server or to `npm start`.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { once } from "node:events";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ProcessOutput } from "../../server/ready.ts";
import { baseEnv, listeningLine, ROOT } from "../support/app-process.ts";
import { usersIn } from "../support/database-access.ts";
import { setCookieNames } from "../support/http";
import { kindeFormFields, newPerson, type Person } from "../support/people.ts";
import { signInAs } from "../support/sign-in.ts";
import { TestBrowser, textOf } from "../support/browser.ts";
import { freshDatabaseFile } from "../support/databases.ts";
import { pickPorts } from "../support/ports.ts";
import { startStack } from "../support/stack.ts";
import { useStack } from "../support/use-stack.ts";
import { appEnv } from "../support/test-env";
import { expired } from "../support/tokens";

const HOLD_HOOK = join(ROOT, "tests/integration/hold-token-requests.mjs");

describe("graceful shutdown", () => {
  const stack = useStack();

  it("finishes the write in flight, refuses new connections, disconnects Prisma and exits 0", async () => {
    // It asks for `100 Continue`, so the answer proves the server has the request; the body is
    // then held back until the server has acknowledged the signal.
    const { browser, person } = await signInAs(stack);
    const cookie = await browser.jar.getCookieString(stack.appUrl);
    const body = new URLSearchParams({
      intent: "update-profile",
      firstName: "Shutdown",
      lastName: "Survivor",
    }).toString();

    const req = httpRequest(`${stack.appUrl}/dashboard?index`, {
      method: "POST",
      headers: {
        Cookie: cookie,
        Origin: stack.appUrl,
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": Buffer.byteLength(body),
        Expect: "100-continue",
      },
    });
    const response = once(req, "response") as Promise<[IncomingMessage]>;
    req.flushHeaders();
    // The server has the request (it answered 100 Continue); half the body, and the action
    // is now waiting for the rest.
    await once(req, "continue");
    req.write(body.slice(0, 10));

    const exit = stack.stopApp("SIGTERM");
    await stack.waitForLog("SIGTERM: finishing requests in flight");

    // No new connections once the signal is handled: a new socket (fetch could reuse one it
    // keeps alive, which the server may still be finishing a request on).
    await expect(once(httpRequest(`${stack.appUrl}/`, { agent: false }).end(), "response")).rejects.toThrow();

    req.end(body.slice(10));
    const [res] = await response;
    res.resume();
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe("/dashboard");
    // Its connection closes after this answer instead of waiting for another request.
    expect(res.headers.connection).toBe("close");

    expect(await exit).toBe(0);
    expect(stack.appLog()).toContain("[db] disconnected");
    const [row] = (await usersIn(stack.database)).filter((user) => user.email === person.email);
    expect(row).toMatchObject({ firstName: "Shutdown", lastName: "Survivor" });
  });
});

/** The app's calls to Kinde's token endpoint, held while this is connected (hold-token-requests.mjs). */
async function holdTokenRequests(path: string) {
  const socket = connect(path);
  await once(socket, "connect");
  let held = 0;
  socket.on("data", (data) => (held += data.toString().split("held").length - 1));
  return {
    async waitForHeld(count: number): Promise<void> {
      while (held < count) await once(socket, "data");
    },
    release: () => socket.end("release\n"),
  };
}

/** Submits the local Kinde server's sign-up form, following its answer or not. */
async function signUpAtKinde(appUrl: string, person: Person, browser: TestBrowser, follow: boolean) {
  const form = await browser.get(`${appUrl}/kinde-auth/register`);
  return browser.submitForm(form, kindeFormFields(person, "sign-up"), { follow });
}

/** A person signed in whose access token has expired: their next page refreshes it at Kinde. */
async function signedInDueForRefresh(appUrl: string, kindeDataDir: string) {
  const person = newPerson();
  const browser = new TestBrowser();
  expect((await signUpAtKinde(appUrl, person, browser, true)).url).toBe(`${appUrl}/dashboard`);
  const accessToken = (await browser.cookie(appUrl, "access_token"))!;
  await browser.setCookie(appUrl, "access_token", await expired(kindeDataDir, accessToken));
  return { person, browser };
}

/** Starts a callback and a refresh, and resolves once both wait on the local Kinde server. */
async function callbackAndRefreshInFlight(appUrl: string, kindeDataDir: string, holdSocket: string) {
  const refreshing = await signedInDueForRefresh(appUrl, kindeDataDir);
  const newcomer = { person: newPerson(), browser: new TestBrowser() };
  const kindeAnswer = await signUpAtKinde(appUrl, newcomer.person, newcomer.browser, false);
  const callbackUrl = kindeAnswer.headers.get("Location") ?? "";
  expect(callbackUrl).toContain("/kinde-auth/callback?");
  const hold = await holdTokenRequests(holdSocket);
  const callback = newcomer.browser.get(new URL(callbackUrl, appUrl).href, { follow: false });
  const refresh = refreshing.browser.get(`${appUrl}/dashboard`, { follow: false });
  await hold.waitForHeld(2);
  return { hold, callback, refresh, refreshing, newcomer };
}

type InFlight = Awaited<ReturnType<typeof callbackAndRefreshInFlight>>;

async function expectBothCompleted(appUrl: string, { callback, refresh, refreshing, newcomer }: InFlight) {
  const signedIn = await callback;
  expect(signedIn.status).toBe(302);
  expect(signedIn.headers.get("Location")).toBe(`${appUrl}/auth/success`);
  expect(setCookieNames(signedIn.headers)).toEqual(expect.arrayContaining(["access_token", "refresh_token"]));
  expect(await newcomer.browser.cookie(appUrl, "access_token")).toBeTruthy();

  const refreshed = await refresh;
  expect(refreshed.status).toBe(200);
  expect(textOf(refreshed.html)).toContain(refreshing.person.lastName);
  expect(setCookieNames(refreshed.headers)).toEqual(expect.arrayContaining(["access_token", "refresh_token"]));
}

const childrenOf = (pid: number): number[] =>
  existsSync(`/proc/${pid}`)
    ? readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(" ").filter(Boolean).map(Number)
    : [];

describe.runIf(process.platform === "linux")("shutdown with the local Kinde server as the app's child", () => {
  it("finishes a sign-in callback and a refresh waiting on Kinde, then stops Kinde, then the database", async () => {
    const holdSocket = join(mkdtempSync(join(tmpdir(), "rkp-hold-")), "control.sock");
    const stack = await startStack({
      kinde: "child",
      nodeFlags: ["--import", HOLD_HOOK],
      env: { HOLD_TOKEN_REQUESTS_SOCKET: holdSocket },
    });
    try {
      const [kindePid] = childrenOf(stack.app.pid);
      const inFlight = await callbackAndRefreshInFlight(stack.appUrl, stack.kindeDataDir, holdSocket);

      const exit = stack.stopApp("SIGTERM");
      await stack.waitForLog("SIGTERM: finishing requests in flight");
      inFlight.hold.release();

      await expectBothCompleted(stack.appUrl, inFlight);
      expect(await exit).toBe(0);
      const log = stack.appLog();
      expect(log.indexOf("[server] local Kinde server stopped")).toBeGreaterThan(log.indexOf("GET /dashboard 200"));
      expect(log.indexOf("[db] disconnected")).toBeGreaterThan(log.indexOf("[server] local Kinde server stopped"));
      expect(existsSync(`/proc/${kindePid}`)).toBe(false);
    } finally {
      await stack.stop();
    }
  });

  it("does the same when the host signals `npm start`, and leaves nothing running", async () => {
    const workDir = mkdtempSync(join(tmpdir(), "rkp-npm-start-"));
    const holdSocket = join(workDir, "control.sock");
    const [port = 0, kindePort = 0] = await pickPorts(2);
    const appUrl = `http://localhost:${port}`;
    const kindeDataDir = join(workDir, "kinde");
    const npm = spawn("npm", ["start"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: baseEnv({
        ...appEnv({ siteUrl: appUrl, issuerUrl: `http://localhost:${kindePort}`, databaseFile: "" }),
        DATABASE_URL: `file:${await freshDatabaseFile(workDir, ROOT)}`,
        PORT: String(port),
        KINDE_LOCAL_DATA_DIR: kindeDataDir,
        NODE_OPTIONS: `--import ${HOLD_HOOK}`,
        HOLD_TOKEN_REQUESTS_SOCKET: holdSocket,
      }),
    });
    const output = new ProcessOutput(npm);
    const exited = new Promise<number | null>((resolve) => npm.once("close", resolve));
    let serverPid = -1;
    let kindePid = -1;
    let everyPid: number[] = [];
    try {
      await output.waitFor(listeningLine(port), 60_000);
      [serverPid = -1] = childrenOf(npm.pid!);
      [kindePid = -1] = childrenOf(serverPid);
      everyPid = [npm.pid!, serverPid, ...childrenOf(serverPid), kindePid, ...childrenOf(kindePid)];
      expect(readFileSync(`/proc/${serverPid}/cmdline`, "utf8")).toContain("build/node/server/index.js");
      expect(readFileSync(`/proc/${kindePid}/cmdline`, "utf8")).toContain("kinde-local/main.ts");
      const inFlight = await callbackAndRefreshInFlight(appUrl, kindeDataDir, holdSocket);

      npm.kill("SIGTERM");
      await output.waitFor("SIGTERM: finishing requests in flight");
      inFlight.hold.release();

      await expectBothCompleted(appUrl, inFlight);
      expect(await exited).toBe(0);
      expect(output.text()).toContain("[db] disconnected");
      expect(existsSync(`/proc/${serverPid}`)).toBe(false);
      expect(existsSync(`/proc/${kindePid}`)).toBe(false);
    } finally {
      for (const pid of everyPid) if (existsSync(`/proc/${pid}`)) process.kill(pid, "SIGKILL");
      if (npm.exitCode === null) npm.kill("SIGKILL");
      await exited;
      rmSync(workDir, { recursive: true, force: true });
    }
  }, 90_000);
});

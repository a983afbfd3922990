// Thousands of malformed requests on every route: nothing answers 5xx, the server stays up, nothing stored changes.
import { connect } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { usersIn } from "../support/database-access.ts";
import { kindeAdmin } from "../support/kinde-session.ts";
import { signInAs } from "../support/sign-in.ts";
import { overOneConnection } from "../support/http";
import { inParallel } from "../support/parallel.ts";
import { useStack } from "../support/use-stack.ts";

const stack = useStack();
let validCookies = "";
beforeAll(async () => {
  const { browser } = await signInAs(stack);
  validCookies = await browser.jar.getCookieString(stack.appUrl);
});

const ROUTES = [
  "/",
  "/dashboard",
  "/dashboard?index",
  "/auth/success",
  "/kinde-auth/login",
  "/kinde-auth/register",
  "/kinde-auth/callback",
  "/kinde-auth/logout",
  "/kinde-auth/health",
  "/members",
  "/account/delete",
  "/healthz",
  "/webhooks/kinde",
  "/no-such-page",
];

const big = (size: number) => "x".repeat(size);

const BAD_COOKIES = [
  "access_token=garbage; id_token=garbage; refresh_token=garbage",
  "access_token=%E0%A4%A; id_token=%",
  'id_token={"sub":"kp_1"; access_token=[1,2',
  `access_token=${big(7000)}`,
  Array.from({ length: 150 }, (_, i) => `c${i}=${i}`).join("; "),
  "=; ;;; =x; access_token",
  "ac-state-key=%00%ff; post_login_redirect_url=https://evil.example",
  "rkp_flash=not-signed; rkp_flash=%7B",
];

const BAD_QUERIES = [
  "returnTo=%",
  "returnTo=//evil.example&returnTo=https://evil.example",
  "page=-1",
  "page=1e309",
  "page=NaN&page=2",
  `q=${big(6000)}`,
  "%ZZ=%YY",
  "code=x&state=y",
  "code=&state=&error=",
  "error=access_denied&error_description=%3Cscript%3Ealert(1)%3C/script%3E",
  "state[]=1&code[]=2",
  "index&_data=root",
  "__proto__=x&constructor=y",
];

const BAD_BODIES: { type: string; body: string | Buffer }[] = [
  { type: "application/x-www-form-urlencoded", body: "%%%&&&==" },
  { type: "application/x-www-form-urlencoded", body: "intent=update-profile&firstName=&lastName=" },
  { type: "application/x-www-form-urlencoded", body: `intent=update-profile&firstName=${big(60_000)}` },
  { type: "application/x-www-form-urlencoded", body: "intent=update-profile&firstName=%E0%A4%A" },
  { type: "application/x-www-form-urlencoded", body: "intent=update-profile&firstName=Bad%00Name" },
  { type: "application/x-www-form-urlencoded", body: "intent=update-profile&firstName=%E2%80%AEevil" },
  { type: "application/x-www-form-urlencoded", body: "intent=delete-everything" },
  { type: "application/x-www-form-urlencoded", body: "confirm=no" },
  { type: "application/x-www-form-urlencoded", body: big(200_000) },
  { type: "multipart/form-data; boundary=xyz", body: "--xyz\r\nbroken" },
  { type: "multipart/form-data", body: "no boundary" },
  { type: "application/json", body: '{"intent":"update-profile","firstName":' },
  { type: "text/plain", body: Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28]) },
  { type: "", body: "" },
  { type: "application/jwt", body: "eyJhbGciOiJub25lIn0.eyJ0eXBlIjoidXNlci5kZWxldGVkIn0." },
  { type: "application/jwt; charset=utf-8", body: "a.b.c" },
];

const WRONG_METHODS = ["PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"];

type Outcome = { what: string; status: number };
const FORM = { "Content-Type": "application/x-www-form-urlencoded" };

async function send(path: string, init: RequestInit, cookie: string, base = stack.appUrl): Promise<Outcome> {
  const headers = new Headers(init.headers);
  if (cookie) headers.set("Cookie", cookie);
  const response = await fetch(`${base}${path}`, { ...init, headers, redirect: "manual" });
  await response.arrayBuffer();
  const what = `${init.method ?? "GET"} ${path.slice(0, 80)} cookie=${cookie.slice(0, 30)}`;
  return { what, status: response.status };
}

/** Bytes fetch() would refuse to send: raw invalid UTF-8 and control characters in the path. */
function sendRaw(requestLine: Buffer, base = stack.appUrl): Promise<Outcome> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "localhost");
    let data = "";
    socket.on("data", (chunk) => (data += chunk.toString("latin1")));
    socket.on("end", () =>
      resolve({ what: `raw ${requestLine.toString("latin1").slice(0, 40)}`, status: Number(data.split(" ")[1]) }),
    );
    socket.on("error", reject);
    socket.write(Buffer.concat([requestLine, Buffer.from(`\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`)]));
  });
}

/** Over a thousand `tasks`, none answered 5xx or not at all. */
async function expectNoServerErrors(tasks: (() => Promise<Outcome>)[], server = ""): Promise<void> {
  expect(tasks.length).toBeGreaterThanOrEqual(1000);
  const outcomes = await inParallel(tasks, 16, (task) => task());
  const failures = outcomes.filter((outcome) => !(outcome.status >= 200 && outcome.status < 500));
  expect(failures).toEqual([]);
  console.info(
    `[bad-input] ${server}${outcomes.length} malformed requests, ${failures.length} answered 5xx or not at all`,
  );
}

describe("malformed requests", () => {
  it("never get a 5xx, never crash the server, and change nothing stored", async () => {
    // /auth/success with a valid session is a real sign-in even with a junk query string, so
    // it may move lastSignInAt (and updatedAt); everything else must stay as it was.
    const stored = async () =>
      JSON.stringify((await usersIn(stack.database)).map(({ lastSignInAt: _a, updatedAt: _u, ...row }) => row));
    const before = await stored();
    const tasks: (() => Promise<Outcome>)[] = [];
    const cookieSets = [...BAD_COOKIES, validCookies, ""];
    const origin = { Origin: stack.appUrl };
    const crossSite = { ...FORM, Origin: "https://evil.example" };
    const evil = { method: "POST", body: "intent=update-profile&firstName=Evil", headers: crossSite };

    for (const route of ROUTES) {
      for (const cookie of cookieSets) {
        tasks.push(() => send(route, {}, cookie));
        for (const query of BAD_QUERIES) {
          tasks.push(() => send(`${route}${route.includes("?") ? "&" : "?"}${query}`, {}, cookie));
        }
      }
      for (const method of WRONG_METHODS) tasks.push(() => send(route, { method }, validCookies));
      for (const { type, body } of BAD_BODIES) {
        for (const cookie of [validCookies, BAD_COOKIES[0]!]) {
          const headers = type ? { ...origin, "Content-Type": type } : origin;
          tasks.push(() => send(route, { method: "POST", body: new Uint8Array(Buffer.from(body)), headers }, cookie));
        }
      }
      tasks.push(() => send(route, evil, validCookies));
    }
    for (const raw of [
      "GET /\xc3\x28 HTTP/1.1",
      "GET /dashboard/%C3%28 HTTP/1.1",
      "GET /%ZZ HTTP/1.1",
      "GET /\x01\x02 HTTP/1.1",
      `GET /${big(20_000)} HTTP/1.1`,
      "BREW /coffee HTTP/1.1",
    ]) {
      tasks.push(() => sendRaw(Buffer.from(raw, "latin1")));
    }

    await expectNoServerErrors(tasks);

    // Still up, still healthy, and nothing stored changed.
    expect((await fetch(`${stack.appUrl}/healthz`)).status).toBe(200);
    expect(await stored()).toBe(before);
  }, 180_000);

  it("leave a kept-alive connection usable: a refused body does not become the next request", async () => {
    const form = { ...FORM, Origin: stack.appUrl };
    const responses = await overOneConnection(stack.appUrl, [
      { method: "POST", path: "/dashboard", headers: form, body: Buffer.alloc(200_000, "a") },
      { method: "GET", path: "/" },
      { method: "PUT", path: "/dashboard", headers: form, body: "intent=update-profile" },
      { method: "POST", path: "/dashboard", headers: { ...form, Origin: "https://evil.example" }, body: "x=1" },
      { method: "GET", path: "/healthz" },
    ]);
    expect(responses.map(({ status, reusedSocket }) => [status, reusedSocket])).toEqual([
      [413, false],
      [200, true],
      [405, true],
      [403, true],
      [200, true],
    ]);
  });
});

const KINDE_ROUTES = [
  "/oauth2/auth",
  "/oauth2/token",
  "/oauth2/revoke",
  "/oauth2/v2/user_profile",
  "/.well-known/jwks.json",
  "/.well-known/jwks",
  "/.well-known/openid-configuration",
  "/logout",
  "/auth/sign-in",
  "/auth/sign-up",
  "/auth/cancel",
  "/account",
  "/api/v1/users",
  "/api/v1/user",
  "/no-such-endpoint",
];

it("malformed requests to the local Kinde server never get a 5xx, never crash it, and change no user", async () => {
  const listUsers = async () => JSON.stringify(await (await kindeAdmin(stack)).listUsers());
  const before = await listUsers();
  const base = stack.issuerUrl;
  const tasks: (() => Promise<Outcome>)[] = [];
  const authHeaders: Record<string, string>[] = [
    {},
    { Authorization: "Bearer garbage" },
    { Authorization: "Basic %%%" },
    { Authorization: `Bearer ${big(9000)}` },
  ];
  for (const route of KINDE_ROUTES) {
    for (const cookie of [...BAD_COOKIES, "kinde_local_session=garbage", ""]) {
      tasks.push(() => send(route, {}, cookie, base));
      for (const query of BAD_QUERIES) tasks.push(() => send(`${route}?${query}`, {}, cookie, base));
    }
    for (const headers of authHeaders) tasks.push(() => send(route, { headers }, "", base));
    for (const method of WRONG_METHODS) tasks.push(() => send(route, { method }, "", base));
    for (const { type, body } of BAD_BODIES) {
      const headers: Record<string, string> = type ? { "Content-Type": type } : {};
      tasks.push(() => send(route, { method: "POST", body: new Uint8Array(Buffer.from(body)), headers }, "", base));
    }
    for (const body of [
      "grant_type=authorization_code&code=x",
      "grant_type=refresh_token&refresh_token=%",
      "grant_type=client_credentials&client_id=x&client_secret=y",
      "grant_type=password",
      "grant_type[]=x",
    ]) {
      tasks.push(() => send(route, { method: "POST", body, headers: FORM }, "", base));
    }
  }
  for (const raw of [
    "GET /\xc3\x28 HTTP/1.1",
    "GET /oauth2/auth?%C3%28 HTTP/1.1",
    `GET /${big(20_000)} HTTP/1.1`,
    "BREW /coffee HTTP/1.1",
  ]) {
    tasks.push(() => sendRaw(Buffer.from(raw, "latin1"), base));
  }

  await expectNoServerErrors(tasks, "local Kinde server: ");

  expect((await fetch(`${base}/.well-known/openid-configuration`)).status).toBe(200);
  expect(await listUsers()).toBe(before);
}, 180_000);

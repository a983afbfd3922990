import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { CLIENT_ID, CLIENT_SECRET, useServer } from "./harness.ts";

const server = useServer();

/** Sends bytes as they are (fetch would refuse or repair many of these requests). */
function raw(bytes: string | Buffer): Promise<number> {
  const { port } = server;
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = "";
    const status = () => Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0);
    socket.on("data", (chunk) => (received += chunk.toString("latin1")));
    socket.on("end", () => resolve(status()));
    socket.on("error", (error: NodeJS.ErrnoException) =>
      error.code === "ECONNRESET" ? resolve(status()) : reject(error),
    );
    socket.write(bytes);
    socket.end();
  });
}

/** Any method, header and body, via node:http (fetch forbids TRACE, CONNECT and others). */
function send(
  method: string,
  path: string,
  headers: Record<string, string | number> = {},
  body?: string | Buffer,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: "127.0.0.1", port: server.port, method, path, headers });
    request.on("response", (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    });
    request.on("error", reject);
    request.end(body);
  });
}

const ROUTES = [
  "/",
  "/.well-known/jwks.json",
  "/.well-known/jwks",
  "/.well-known/openid-configuration",
  "/oauth2/auth",
  "/auth/sign-in",
  "/auth/sign-up",
  "/auth/cancel",
  "/oauth2/token",
  "/oauth2/revoke",
  "/oauth2/v2/user_profile",
  "/logout",
  "/account",
  "/api/v1/users",
  "/api/v1/user",
];
const BAD_QUERIES = [
  "%",
  "%zz",
  "a=%E0%A4%A",
  "a=%00%ff",
  "redirect=%C0%AF",
  "&&&==&=",
  "request=" + "x".repeat(5000),
  "a[]=1&a[]=2&__proto__=x",
];
const FORM = "application/x-www-form-urlencoded";

describe("malformed requests never cause a 5xx", () => {
  const statuses: { label: string; status: number }[] = [];
  const record = (label: string, status: number) => statuses.push({ label, status });

  it("wrong methods get 405 with Allow", async () => {
    for (const [method, path] of [
      ["GET", "/oauth2/token"],
      ["PUT", "/oauth2/token"],
      ["POST", "/.well-known/jwks.json"],
      ["DELETE", "/oauth2/auth"],
      ["PATCH", "/logout"],
      ["OPTIONS", "/oauth2/token"],
      ["POST", "/api/v1/users"],
    ] as const) {
      const response = await fetch(`${server.url}${path}`, { method, redirect: "manual" });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get("allow")).toBeTruthy();
    }
    for (const method of ["TRACE", "PROPFIND", "MKCOL", "PURGE"]) record(`${method} /`, await send(method, "/"));
  });

  it("unknown paths get 404, in the right format", async () => {
    const page = await fetch(`${server.url}/nope`);
    expect(page.status).toBe(404);
    expect(page.headers.get("content-type")).toMatch(/html/);
    const api = await fetch(`${server.url}/api/v2/nope`);
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ errors: [{ code: "NOT_FOUND" }] });
    for (const path of ["/oauth2/%zz", "/%", "/.well-known/../oauth2/token", "//", "/oauth2/auth/"]) {
      record(`GET ${path}`, await send("GET", path));
    }
  });

  it("bad query strings on every route", async () => {
    for (const path of ROUTES) {
      for (const query of BAD_QUERIES) {
        record(`GET ${path}?${query.slice(0, 20)}`, await send("GET", `${path}?${query}`));
      }
    }
    const invalid = await fetch(`${server.authorizeUrl()}&x=%zz`);
    expect(invalid.status).toBe(400);
  });

  it("huge URLs and headers", async () => {
    record("long query", await send("GET", `/oauth2/auth?${"a=b&".repeat(2_500)}`));
    record("huge cookie", await send("GET", "/account", { Cookie: `x=${"y".repeat(30_000)}` }));
    record("huge query", await send("GET", `/logout?redirect=${"z".repeat(40_000)}`));
  });

  it("broken cookies are ignored", async () => {
    for (const cookie of [
      "kinde_local_session=%zz",
      "kinde_local_session=",
      "kinde_local_session=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      "=;;;=;a;b=;kinde_local_session",
      'kinde_local_session="unterminated',
      "\u00e9=\u00fc; kinde_local_session=\u00ff",
    ]) {
      for (const path of ["/oauth2/auth", "/account", "/logout"]) {
        const status = await send("GET", path, { Cookie: cookie });
        record(`cookie ${cookie.slice(0, 20)} ${path}`, status);
      }
      const signedOut = await send("GET", "/account", { Cookie: cookie });
      expect(signedOut).toBe(401);
    }
    const form = await send("POST", "/account", { Cookie: "kinde_local_session=%zz", "Content-Type": FORM }, "csrf=x");
    expect(form).toBe(401);
  });

  it("malformed and oversized bodies", async () => {
    const targets = ["/oauth2/token", "/oauth2/revoke", "/auth/sign-in", "/auth/sign-up", "/account"];
    const bodies: [string, Record<string, string | number>, string | Buffer][] = [
      ["bad percent", { "Content-Type": FORM }, "grant_type=%zz&code=%"],
      ["invalid utf-8", { "Content-Type": FORM }, Buffer.from([0x61, 0x3d, 0xff, 0xfe, 0xc0])],
      ["json", { "Content-Type": "application/json" }, '{"grant_type": '],
      ["multipart", { "Content-Type": "multipart/form-data; boundary=x" }, "--x\r\n\r\n--x--"],
      ["no content type", {}, "grant_type=client_credentials"],
      ["empty", { "Content-Type": FORM }, ""],
      ["repeated", { "Content-Type": FORM }, "request_id=a&request_id=b&p_email=x&p_email=y"],
      ["binary", { "Content-Type": FORM }, Buffer.from(Array.from({ length: 1024 }, (_, index) => index % 256))],
      ["huge field", { "Content-Type": FORM }, `p_password=${"a".repeat(60_000)}&p_email=a%40b.co&request_id=x`],
    ];
    for (const path of targets) {
      for (const [label, headers, body] of bodies)
        record(`POST ${path} ${label}`, await send("POST", path, headers, body));
      const big = await send("POST", path, { "Content-Type": FORM }, `a=${"b".repeat(100 * 1024)}`);
      expect(big, `${path} oversized`).toBe(413);
      const chunked = await send(
        "POST",
        path,
        { "Content-Type": FORM, "Transfer-Encoding": "chunked" },
        "x".repeat(200 * 1024),
      );
      expect(chunked, `${path} oversized chunked`).toBe(413);
    }
    record(
      "PATCH json garbage",
      await send(
        "PATCH",
        "/api/v1/user?id=kp_x",
        { "Content-Type": "application/json", Authorization: "Bearer x" },
        "{{{",
      ),
    );
  });

  it("malformed credentials and bearer tokens", async () => {
    const headers = [
      "Bearer",
      "Bearer ",
      "Bearer a.b.c",
      "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
      "Basic",
      "Basic !!!",
      `Basic ${Buffer.from("no-colon").toString("base64")}`,
      `Basic ${Buffer.from("%zz:%zz").toString("base64")}`,
      `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64")}==`,
      "Digest x",
      `Bearer ${"a".repeat(9000)}`,
    ];
    for (const authorization of headers) {
      for (const path of ["/oauth2/v2/user_profile", "/api/v1/users"]) {
        record(`${authorization.slice(0, 15)} ${path}`, await send("GET", path, { Authorization: authorization }));
      }
      record(
        `${authorization.slice(0, 15)} token`,
        await send(
          "POST",
          "/oauth2/token",
          { Authorization: authorization, "Content-Type": FORM },
          "grant_type=client_credentials",
        ),
      );
    }
  });

  it("garbage at the HTTP level", async () => {
    for (const bytes of [
      "HELLO\r\n\r\n",
      "GET http://evil.example/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "GET /oauth2/auth?\u0000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\nConnection: close\r\n\r\n",
      "POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\nabc",
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00]),
    ]) {
      record(`raw ${String(bytes).slice(0, 20)}`, await raw(bytes));
    }
  });

  it("saw no 5xx and logged no unexpected error", () => {
    expect(statuses.length).toBeGreaterThan(150);
    expect(statuses.filter(({ status }) => status >= 500)).toEqual([]);
    expect(server.logs.filter((line) => line.includes("unexpected error"))).toEqual([]);
  });

  it("still works afterwards", async () => {
    const response = await fetch(`${server.url}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect((await server.signUpWithTokens()).tokens.access_token).toBeTruthy();
  });
});

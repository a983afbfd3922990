/**
 * The Management API's user endpoints with Kinde's shapes: create, list with next_token
 * paging, read, PATCH, DELETE, scopes and the rate limit.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  callbackParams,
  CLIENT,
  decodePayload,
  hiddenRequestId,
  newCredentials,
  postForm,
  startServer,
  startServerForTest,
  type TestBrowser,
  useServer,
} from "./harness.ts";
import { api, managementToken, useManagementApi } from "./management-api.ts";

const server = useServer();
const admin = useManagementApi(server);

interface ListPage {
  code: string;
  users: Record<string, unknown>[];
  next_token: string | null;
}

function setupFields(html: string): { request_id: string; setup_id: string } {
  const setup = /name="setup_id" value="([^"]+)"/.exec(html)?.[1];
  if (!setup) throw new Error("no setup_id in the page");
  return { request_id: hiddenRequestId(html), setup_id: setup };
}

/** Posts the "Choose a password" form of this page. */
function setPassword(html: string, password: string, jar?: TestBrowser, fields: Record<string, string> = {}) {
  return postForm(`${server.url}/auth/set-password`, { ...setupFields(html), p_password: password, ...fields }, jar);
}

describe("POST /api/v1/user", () => {
  it("creates a user from Kinde's body and answers Kinde's shape", async () => {
    const email = `Created-${Date.now()}@Example.com`;
    const created = await admin.api("POST", "/api/v1/user", {
      profile: { given_name: "Katherine", family_name: "Johnson" },
      identities: [{ type: "email", details: { email } }],
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^kp_[0-9a-f]{32}$/) as string,
      created: true,
      identities: [{ type: "email", result: { created: true } }],
    });
    const id = String(created.body.id);
    const read = await admin.api("GET", `/api/v1/user?id=${id}`);
    expect(read.body).toMatchObject({
      id,
      preferred_email: email.toLowerCase(),
      first_name: "Katherine",
      last_name: "Johnson",
      is_suspended: false,
      total_sign_ins: 0,
      last_signed_in: null,
    });
  });

  it("refuses a taken email (409), bad bodies (400) and a token without create:users (403)", async () => {
    const email = newCredentials().email;
    await admin.createUser({ email });
    const again = await admin.api("POST", "/api/v1/user", {
      identities: [{ type: "email", details: { email: email.toUpperCase() } }],
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ errors: [{ code: "USER_ALREADY_EXISTS" }] });
    for (const body of [
      {},
      { identities: [] },
      { identities: [{ type: "email", details: { email: "not-an-email" } }] },
      { identities: [{ type: "phone", details: { phone: "+61400000000" } }] },
      { profile: { given_name: "x".repeat(101) }, identities: [{ type: "email", details: { email: "a@b.co" } }] },
    ]) {
      const answer = await admin.api<{ errors: { code: string }[] }>("POST", "/api/v1/user", body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.errors[0]?.code).toMatch(/^[A-Z_]+$/);
    }
    const readOnly = await managementToken(server, { scope: "read:users" });
    const forbidden = await api(server, readOnly, "POST", "/api/v1/user", {
      identities: [{ type: "email", details: { email: "forbidden@example.com" } }],
    });
    expect(forbidden.status).toBe(403);
  });
});

describe("a user created through the API", () => {
  it("chooses a password at the first sign-in, then signs in with it", async () => {
    const email = newCredentials().email;
    const id = await admin.createUser({ email, givenName: "Mary" });
    const first = await server.signIn({ email, password: "anything at all" });
    expect(first.response.status).toBe(200);
    const html = await first.response.text();
    expect(html).toContain("<h1>Choose a password</h1>");
    expect(html).toContain("has no password yet");

    const tooShort = await setPassword(html, "short", first.jar);
    expect(tooShort.status).toBe(400);
    const retry = await tooShort.text();
    expect(retry).toContain("Use at least 8 characters.");

    const chosen = await setPassword(retry, "chosen password", first.jar);
    const tokens = await server.exchangeCode(callbackParams(chosen).get("code") ?? "");
    expect(decodePayload(tokens.id_token)).toMatchObject({ sub: id, given_name: "Mary" });

    // From now on the password is theirs.
    const wrong = await server.signIn({ email, password: "anything at all" });
    expect(wrong.response.status).toBe(401);
    const right = await server.signIn({ email, password: "chosen password" });
    expect(callbackParams(right.response).get("code")).toBeTruthy();
    const read = await admin.api("GET", `/api/v1/user?id=${id}`);
    expect(read.body).toMatchObject({ total_sign_ins: 2, failed_sign_ins: 1 });
  });

  it("cannot have a password chosen through a stale or foreign setup form", async () => {
    const email = newCredentials().email;
    await admin.createUser({ email });
    const first = await server.signIn({ email, password: "x" });
    const forged = await setPassword(await first.response.text(), "long enough pw", undefined, { setup_id: "forged" });
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain("This sign-in link has expired");
  });
});

describe("PATCH /api/v1/user", () => {
  it("changes names and picture; the next tokens and user_profile carry them", async () => {
    const credentials = newCredentials();
    const { tokens, id } = await server.signUpWithTokens(credentials);
    const picture = "https://images.example.com/ada.png";
    const patched = await admin.patchUser(id, { given_name: "Augusta", family_name: null, picture });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({
      id,
      given_name: "Augusta",
      family_name: null,
      email: credentials.email,
      is_suspended: false,
      is_password_reset_requested: false,
      picture,
    });
    const refreshed = await server.refresh(tokens.refresh_token);
    expect(decodePayload(String(refreshed.body.id_token))).toMatchObject({
      given_name: "Augusta",
      family_name: null,
      picture,
    });
    const profile = await server.userProfile(String(refreshed.body.access_token));
    expect(await profile.json()).toMatchObject({ given_name: "Augusta", picture });
    for (const body of [{ picture: "javascript:alert(1)" }, { is_suspended: "yes" }, { given_name: 5 }]) {
      expect((await admin.patchUser(id, body)).status, JSON.stringify(body)).toBe(400);
    }
  });

  it("is_password_reset_requested makes the next sign-in choose a new password", async () => {
    const credentials = newCredentials();
    const { id } = await server.signUpWithTokens(credentials);
    await admin.patchUser(id, { is_password_reset_requested: true });
    // A wrong current password does not get to the reset page.
    expect((await server.signIn({ ...credentials, password: "not the password" })).response.status).toBe(401);
    const page = await server.signIn(credentials);
    const html = await page.response.text();
    expect(html).toContain("A password reset was requested");
    const done = await setPassword(html, "brand new password", page.jar);
    expect(callbackParams(done).get("code")).toBeTruthy();
    expect((await server.signIn(credentials)).response.status).toBe(401);
    expect(
      callbackParams((await server.signIn({ ...credentials, password: "brand new password" })).response).get("code"),
    ).toBeTruthy();
    // The reset is done; an empty PATCH leaves the names as they were.
    const patched = await admin.patchUser(id, {});
    expect(patched.body).toMatchObject({
      given_name: "Ada",
      family_name: "Lovelace",
      is_password_reset_requested: false,
    });
  });
});

describe("DELETE /api/v1/user", () => {
  it("removes the user: gone from reads and lists, sign-in, refresh and user_profile refused", async () => {
    const credentials = newCredentials({ firstName: "Grace", lastName: "Hopper" });
    const { id, tokens } = await server.signUpWithTokens(credentials);
    const byEmail = `/api/v1/users?email=${encodeURIComponent(credentials.email)}`;
    expect((await admin.api<ListPage>("GET", byEmail)).body).toMatchObject({
      code: "OK",
      next_token: null,
      users: [{ id, email: credentials.email, first_name: "Grace", last_name: "Hopper" }],
    });
    const deleted = await admin.api("DELETE", `/api/v1/user?id=${id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ code: "OK", message: "User successfully deleted" });
    const gone = await admin.api("GET", `/api/v1/user?id=${id}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({ errors: [{ code: "USER_NOT_FOUND", message: expect.any(String) as string }] });
    expect((await admin.api("DELETE", `/api/v1/user?id=${id}`)).status).toBe(404);
    expect((await admin.api<ListPage>("GET", byEmail)).body.users).toEqual([]);
    expect((await server.signIn(credentials)).response.status).toBe(401);
    expect((await server.refresh(tokens.refresh_token)).body.error).toBe("invalid_grant");
    expect((await server.userProfile(tokens.access_token)).status).toBe(401);
  });
});

describe("GET /api/v1/users with 1,200 users", () => {
  const own = useServer();
  const bulk = useManagementApi(own);
  const created = new Set<string>();

  beforeAll(async () => {
    const started = performance.now();
    // A few requests at a time, as a sync script or a seeding test would send them.
    const emails = Array.from({ length: 1_200 }, (_, index) => `bulk-${index}@example.com`);
    const workers = Array.from({ length: 6 }, async () => {
      for (let email = emails.shift(); email !== undefined; email = emails.shift()) {
        created.add(await bulk.createUser({ email, givenName: "Bulk", familyName: email.slice(5, -12) }));
      }
    });
    await Promise.all(workers);
    own.logs.push(`created 1,200 users in ${Math.round(performance.now() - started)} ms`);
  }, 60_000);

  async function listAll(pageSize: number, between?: (page: number) => Promise<void>) {
    const seen: Record<string, unknown>[] = [];
    const sizes: number[] = [];
    let next: string | null = null;
    do {
      const query: string = next === null ? "" : `&next_token=${next}`;
      const page: ListPage = (await bulk.api<ListPage>("GET", `/api/v1/users?page_size=${pageSize}${query}`)).body;
      expect(page.code).toBe("OK");
      seen.push(...page.users);
      sizes.push(page.users.length);
      next = page.next_token;
      expect(next ?? "").toMatch(/^[A-Za-z0-9_-]*$/);
      await between?.(sizes.length);
    } while (next !== null);
    return { seen, sizes };
  }

  it("pages through every user exactly once, 500 at most per page, with every documented field", async () => {
    const { seen, sizes } = await listAll(500);
    expect(sizes).toEqual([500, 500, 200]);
    expect(new Set(seen.map((user) => user.id))).toEqual(created);
    for (const user of seen) {
      expect(user).toMatchObject({
        id: expect.stringMatching(/^kp_/) as string,
        provided_id: null,
        email: expect.stringMatching(/^bulk-\d+@example\.com$/) as string,
        username: null,
        first_name: "Bulk",
        last_name: expect.stringMatching(/^\d+$/) as string,
        is_suspended: false,
        picture: null,
        total_sign_ins: 0,
        failed_sign_ins: 0,
        last_signed_in: null,
      });
      expect(Date.parse(String(user.created_on))).not.toBeNaN();
    }
    expect((await bulk.api("GET", "/api/v1/users?page_size=501")).status).toBe(400);
    expect((await bulk.api("GET", "/api/v1/users?next_token=bm9wZQ")).status).toBe(400);
  });

  it("skips no one when users are deleted between pages", async () => {
    const victims: string[] = [];
    const { seen } = await listAll(300, async (page) => {
      if (page !== 1) return;
      // Delete two users already listed: offset paging would now skip two others.
      const first = await bulk.api<ListPage>("GET", "/api/v1/users?page_size=2");
      for (const user of first.body.users) {
        victims.push(String(user.id));
        await bulk.api("DELETE", `/api/v1/user?id=${String(user.id)}`);
      }
    });
    expect(victims).toHaveLength(2);
    // Everyone who existed when the listing started was listed once (the two were listed before they went).
    expect(seen).toHaveLength(1_200);
    expect(new Set(seen.map((user) => user.id))).toEqual(created);
  });
});

describe("rate limiting", () => {
  it("answers 429 with RateLimit-Reset once a client exceeds the limit, per client, until the window ends", async () => {
    const limited = await startServerForTest({
      apiRateLimit: { requests: 3, windowSeconds: 20 },
      applications: [{ clientId: "m2m-rate-test", clientSecret: "R4teL1m1tS3cr3tR4teL1m1tS3cr3t", type: "m2m" }],
    });
    const appToken = await managementToken(limited);
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof api>> | undefined;
    for (let index = 0; index < 4; index++) {
      const answer = await api(limited, appToken, "GET", "/api/v1/users");
      statuses.push(answer.status);
      if (answer.status === 429) refused = answer;
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const reset = Number(refused?.headers.get("RateLimit-Reset"));
    expect(reset).toBeGreaterThanOrEqual(1);
    expect(reset).toBeLessThanOrEqual(20);
    expect(refused?.body).toMatchObject({ errors: [{ code: "TOO_MANY_REQUESTS" }] });

    // Another client has its own budget.
    const other = await managementToken(limited, {
      clientId: "m2m-rate-test",
      clientSecret: "R4teL1m1tS3cr3tR4teL1m1tS3cr3t",
    });
    expect((await api(limited, other, "GET", "/api/v1/users")).status).toBe(200);

    limited.advance(reset * 1000);
    expect((await api(limited, appToken, "GET", "/api/v1/users")).status).toBe(200);
  });
});

describe("authentication and scopes", () => {
  it("refuses user tokens, missing scopes and tokens of an application that is gone, with Kinde's errors", async () => {
    const { tokens } = await server.signUpWithTokens();
    const readOnly = await managementToken(server, { scope: "read:users" });
    expect(decodePayload(readOnly).aud).toEqual([`${server.url}/api`]);
    expect((await api(server, readOnly, "GET", "/api/v1/users")).status).toBe(200);
    const nobody = "/api/v1/user?id=kp_00000000000000000000000000000000";
    const cases: [token: string, method: string, path: string, status: number][] = [
      ["", "GET", "/api/v1/users", 401],
      [tokens.access_token, "GET", "/api/v1/users", 401],
      [readOnly, "PATCH", nobody, 403],
      [readOnly, "DELETE", nobody, 403],
      [readOnly, "GET", "/api/v1/user", 400],
      [readOnly, "GET", "/api/v1/user?id=nope", 404],
    ];
    for (const [token, method, path, status] of cases) {
      const answer = await api<{ errors: { code: string }[] }>(
        server,
        token,
        method,
        path,
        method === "PATCH" ? {} : undefined,
      );
      expect(answer.status, `${method} ${path}`).toBe(status);
      expect(answer.body.errors[0]?.code).toMatch(/^[A-Z_]+$/);
    }
    const everything = await server.tokenRequest({
      grant_type: "client_credentials",
      ...CLIENT,
      scope: "admin:everything",
    });
    expect(everything.body.error).toBe("invalid_scope");
    const other = await startServer({
      applications: [{ clientId: "m2m-temporary", clientSecret: "T3mp0r4ryS3cr3tT3mp0r4ryS3cr3t", type: "m2m" }],
    });
    const orphan = await managementToken(other, {
      clientId: "m2m-temporary",
      clientSecret: "T3mp0r4ryS3cr3tT3mp0r4ryS3cr3t",
    });
    expect((await api(other, orphan, "GET", "/api/v1/users")).status).toBe(200);
    await other.close();
    // Same data folder (same key) and address (same iss), but the application is no longer configured.
    const restarted = await startServerForTest({ dataDir: other.dataDir, issuer: other.url, port: other.port });
    const refused = await api(restarted, orphan, "GET", "/api/v1/users");
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ errors: [{ code: "TOKEN_INVALID" }] });
  });
});

describe("bad input to the new endpoints", () => {
  it("gets a 4xx, never a 5xx", async () => {
    const send = (path: string, headers: Record<string, string>, body: string) =>
      fetch(`${server.url}${path}`, { method: "POST", headers, body, redirect: "manual" }).then((r) => r.status);
    const auth = { Authorization: `Bearer ${admin.token}` };
    const cases: [string, Record<string, string>, string, number][] = [
      ["/api/v1/user", { ...auth, "Content-Type": "application/json" }, "{not json", 400],
      ["/api/v1/user", { ...auth, "Content-Type": "application/json" }, "[]", 400],
      ["/api/v1/user", { ...auth, "Content-Type": "application/json" }, "null", 400],
      ["/api/v1/user", { ...auth, "Content-Type": "text/plain" }, "{}", 415],
      ["/api/v1/user", { ...auth, "Content-Type": "application/json" }, `{"a":"${"x".repeat(70_000)}"}`, 413],
      ["/api/v1/user", { "Content-Type": "application/json" }, "{}", 401],
      ["/auth/set-password", { "Content-Type": "application/x-www-form-urlencoded" }, "", 400],
      ["/auth/set-password", { "Content-Type": "application/x-www-form-urlencoded" }, "setup_id=%zz", 400],
      ["/auth/set-password", { "Content-Type": "application/x-www-form-urlencoded" }, "request_id=a&request_id=b", 400],
      ["/auth/set-password", { "Content-Type": "application/json" }, "{}", 415],
    ];
    for (const [path, headers, body, status] of cases) {
      expect(await send(path, headers, body), `${path} ${body.slice(0, 30)}`).toBe(status);
    }
    const crossSite = await send(
      "/auth/set-password",
      { "Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "cross-site" },
      "request_id=a&setup_id=b&p_password=long+enough+pw",
    );
    expect(crossSite).toBe(403);
    expect(server.logs.filter((line) => line.includes("unexpected error"))).toEqual([]);
  });
});

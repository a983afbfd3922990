/**
 * The Management API client against a small stand-in for Kinde (a real HTTP server in this
 * process): paging, 429 backoff as Kinde asks, bounded retries, and one-line errors.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { text } from "node:stream/consumers";
import { afterEach, describe, expect, it } from "vitest";
import { EnvError, parseManagementEnv } from "~/lib/config/env-schema.server";
import {
  createKindeManagementClient,
  KindeManagementError,
  retryDelayMs,
} from "~/lib/kinde-sync/management-api.server";
import { pickPort } from "../../support/ports.ts";

type Handler = (request: IncomingMessage, response: ServerResponse, url: URL) => void;

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function fakeKinde(api: Handler, token: Handler = grantToken): Promise<string> {
  server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (url.pathname === "/oauth2/token") token(request, response, url);
    else api(request, response, url);
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  response.writeHead(status, { "Content-Type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

function grantToken(_request: IncomingMessage, response: ServerResponse) {
  send(response, 200, { access_token: "token-1", token_type: "bearer", expires_in: 86_400 });
}

const user = (n: number) => ({ id: `kp_${n.toString(16).padStart(32, "0")}`, email: `u${n}@example.com` });

function client(issuerUrl: string, waits: number[] = [], lines: string[] = []) {
  return createKindeManagementClient(
    { issuerUrl, clientId: "id", clientSecret: "secret", credentials: "KINDE_M2M_CLIENT_ID/KINDE_M2M_CLIENT_SECRET" },
    { sleep: async (ms) => void waits.push(ms), log: (line) => lines.push(line) },
  );
}

async function listAll(issuerUrl: string, waits?: number[], lines?: string[]) {
  const pages: string[][] = [];
  for await (const page of client(issuerUrl, waits, lines).listUsers(2)) pages.push(page.map((u) => u.id));
  return pages;
}

/** The message `promise` fails with: a KindeManagementError, on one line. */
async function failure(promise: Promise<unknown>): Promise<string> {
  const error = await promise.catch((reason: unknown) => reason);
  expect(error).toBeInstanceOf(KindeManagementError);
  expect((error as Error).message).not.toContain("\n");
  return (error as Error).message;
}

describe("listing users", () => {
  it("asks for a client_credentials token for the Management API and follows next_token to the end", async () => {
    const tokenRequests: URLSearchParams[] = [];
    const pagesAsked: (string | null)[] = [];
    const issuer = await fakeKinde(
      (request, response, url) => {
        expect(request.headers.authorization).toBe("Bearer token-1");
        expect(url.searchParams.get("page_size")).toBe("2");
        const next = url.searchParams.get("next_token");
        pagesAsked.push(next);
        if (next === null) send(response, 200, { code: "OK", users: [user(1), user(2)], next_token: "n_2" });
        else send(response, 200, { code: "OK", users: [user(3)], next_token: null });
      },
      async (request, response) => {
        tokenRequests.push(new URLSearchParams(await text(request)));
        grantToken(request, response);
      },
    );
    expect(await listAll(issuer)).toEqual([[user(1).id, user(2).id], [user(3).id]]);
    expect(pagesAsked).toEqual([null, "n_2"]);
    expect(tokenRequests).toHaveLength(1);
    expect(Object.fromEntries(tokenRequests[0]!)).toEqual({
      grant_type: "client_credentials",
      client_id: "id",
      client_secret: "secret",
      audience: `${issuer}/api`,
    });
  });

  it("waits as long as RateLimit-Reset says on a 429, then carries on", async () => {
    let calls = 0;
    const issuer = await fakeKinde((_request, response) => {
      calls++;
      if (calls <= 2) send(response, 429, { errors: [{ code: "TOO_MANY_REQUESTS" }] }, { "RateLimit-Reset": "3" });
      else send(response, 200, { users: [user(1)], next_token: null });
    });
    const waits: number[] = [];
    const lines: string[] = [];
    expect(await listAll(issuer, waits, lines)).toEqual([[user(1).id]]);
    expect(waits).toEqual([3000, 3000]);
    expect(lines[0]).toBe("Kinde rate limited (429) for the user list (page 1): waiting 3 s (retry 1 of 5)");
  });

  it("gives up after a bounded number of retries with one clear line", async () => {
    const issuer = await fakeKinde((_request, response) => send(response, 429, {}, { "RateLimit-Reset": "1" }));
    const waits: number[] = [];
    expect(await failure(listAll(issuer, waits))).toBe(
      "Kinde rate limited (429) for the user list (page 1), still after 5 retries",
    );
    expect(waits).toHaveLength(5);
  });

  it("fetches a new token once when the API says the old one expired", async () => {
    let tokens = 0;
    const issuer = await fakeKinde(
      (request, response) => {
        if (request.headers.authorization === "Bearer token-1")
          send(response, 401, { errors: [{ code: "TOKEN_INVALID" }] });
        else send(response, 200, { users: [user(7)], next_token: null });
      },
      (_request, response) => send(response, 200, { access_token: `token-${++tokens}` }),
    );
    expect(await listAll(issuer)).toEqual([[user(7).id]]);
    expect(tokens).toBe(2);
  });

  it("refuses a listing that repeats its next_token instead of paging forever", async () => {
    const issuer = await fakeKinde((_request, response) =>
      send(response, 200, { users: [user(1)], next_token: "again" }),
    );
    expect(await failure(listAll(issuer))).toBe("Kinde repeated a next_token on the user list (page 2)");
  });
});

describe("one-line errors", () => {
  it("says which credentials Kinde refused", async () => {
    const issuer = await fakeKinde(
      () => {},
      (_request, response) => send(response, 401, { error: "invalid_client", error_description: "bad secret" }),
    );
    expect(await failure(listAll(issuer))).toBe(
      "Kinde refused the client credentials in KINDE_M2M_CLIENT_ID/KINDE_M2M_CLIENT_SECRET (invalid_client); for real Kinde use an M2M application authorised for the Management API",
    );
  });

  it("says when the application lacks the read:users scope", async () => {
    const issuer = await fakeKinde((_request, response) => send(response, 403, { errors: [{ code: "FORBIDDEN" }] }));
    expect(await failure(listAll(issuer))).toMatch(/^Kinde refused the user list \(page 1\) \(403\): .*read:users/);
  });

  it("lists an organization's members page by page, and names the scope a refused request needs", async () => {
    const code = "org_0123456789a";
    const issuer = await fakeKinde((_request, response, url) => {
      if (url.pathname === "/api/v1/organization") return send(response, 403, { errors: [{ code: "FORBIDDEN" }] });
      const second = url.searchParams.get("next_token") === "next";
      const organization_users = second ? [{ ...user(2), roles: ["admin"] }] : [{ ...user(1), roles: null }];
      send(response, 200, { code: "OK", organization_users, next_token: second ? null : "next" });
    });
    const pages = [];
    for await (const page of client(issuer).listMembers(code, 1)) pages.push(page);
    expect(pages).toEqual([[{ kindeId: user(1).id }], [{ kindeId: user(2).id, roleKeys: ["admin"] }]]);
    expect(await failure(client(issuer).organizationExists(code))).toMatch(
      /^Kinde refused an organization lookup \(403\): .*read:organizations scope/,
    );
  });

  it("says when nothing listens at the issuer, without retrying", async () => {
    const issuer = `http://127.0.0.1:${await pickPort()}`;
    const waits: number[] = [];
    expect(await failure(listAll(issuer, waits))).toBe(`cannot reach Kinde at ${issuer} (ECONNREFUSED)`);
    expect(waits).toEqual([]);
  });

  it("says when the answer is not a user list", async () => {
    const issuer = await fakeKinde((_request, response) => send(response, 200, { users: [{ id: 42 }] }));
    expect(await failure(listAll(issuer))).toBe("Kinde's answer for the user list (page 1) is not the user list");
  });
});

it("tells a user Kinde has from one it does not", async () => {
  const issuer = await fakeKinde((_request, response, url) => {
    if (url.searchParams.get("id") === user(1).id) send(response, 200, { id: user(1).id });
    else send(response, 404, { errors: [{ code: "USER_NOT_FOUND" }] });
  });
  const kinde = client(issuer);
  expect(await kinde.userExists(user(1).id)).toBe(true);
  expect(await kinde.userExists(user(2).id)).toBe(false);
});

it("reads RateLimit-Reset as seconds from now, or as a Unix time, and caps the retry delay at a minute", () => {
  const answer = (headers: Record<string, string>) => new Response(null, { status: 429, headers });
  expect(retryDelayMs(answer({ "RateLimit-Reset": "2" }), 0)).toBe(2000);
  expect(retryDelayMs(answer({ "RateLimit-Reset": "2000000010" }), 0, 2_000_000_000_000)).toBe(10_000);
  expect(retryDelayMs(answer({ "RateLimit-Reset": "3600" }), 0)).toBe(60_000);
  expect(retryDelayMs(answer({ "Retry-After": "4" }), 0)).toBe(4000);
  expect(retryDelayMs(answer({}), 3)).toBe(8000);
  expect(retryDelayMs(answer({ "RateLimit-Reset": "soon" }), 0)).toBe(1000);
});

describe("configuration", () => {
  const base = {
    KINDE_ISSUER_URL: "https://acme.kinde.com/",
    KINDE_CLIENT_ID: "0123456789abcdef0123456789abcdef",
    KINDE_CLIENT_SECRET: "testsecret0123456789abcdefghijklmnopqrstuvwxyz",
  };
  it("uses the M2M application when both of its variables are set, the app's own client otherwise", () => {
    expect(parseManagementEnv(base)).toEqual({
      issuerUrl: "https://acme.kinde.com",
      clientId: base.KINDE_CLIENT_ID,
      clientSecret: base.KINDE_CLIENT_SECRET,
      credentials: "KINDE_CLIENT_ID/KINDE_CLIENT_SECRET",
    });
    const m2m = { KINDE_M2M_CLIENT_ID: "abcdef0123", KINDE_M2M_CLIENT_SECRET: "m2msecret0123456789abcdefghij" };
    expect(parseManagementEnv({ ...base, ...m2m })).toMatchObject({
      clientId: m2m.KINDE_M2M_CLIENT_ID,
      clientSecret: m2m.KINDE_M2M_CLIENT_SECRET,
      credentials: "KINDE_M2M_CLIENT_ID/KINDE_M2M_CLIENT_SECRET",
    });
  });

  it("names the variable that is missing or malformed", () => {
    expect(() => parseManagementEnv({ ...base, KINDE_M2M_CLIENT_ID: "abc" })).toThrow(
      "KINDE_M2M_CLIENT_SECRET must be set too when KINDE_M2M_CLIENT_ID is set",
    );
    expect(() => parseManagementEnv({ ...base, KINDE_M2M_CLIENT_ID: "a b", KINDE_M2M_CLIENT_SECRET: "x" })).toThrow(
      EnvError,
    );
    expect(() => parseManagementEnv({ KINDE_ISSUER_URL: base.KINDE_ISSUER_URL })).toThrow("KINDE_CLIENT_ID is missing");
  });
});

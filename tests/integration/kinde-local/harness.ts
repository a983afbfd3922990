/**
 * Starts the local Kinde server on a free port with a throwaway data folder, and speaks to
 * it over HTTP the way a browser and the Kinde SDK do.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { TestBrowser } from "../../support/browser.ts";
import {
  createKindeLocalServer,
  type KindeLocalServer,
  type KindeLocalServerOptions,
} from "../../../kinde-local/server.ts";

export const CLIENT_ID = "0123456789abcdef0123456789abcdef";
export const CLIENT_SECRET = "k1nd3L0calT3stS3cr3t0123456789abcdefABCDEF";
export const SITE_URL = "http://localhost:3999";
export const REDIRECT_URI = `${SITE_URL}/kinde-auth/callback`;
export const CONFIG_PATH = fileURLToPath(new URL("../../../kinde-local/config.json", import.meta.url));

export { TestBrowser };

export interface TestServer extends KindeLocalServer {
  dataDir: string;
  logs: string[];
  /** Moves the server's clock forward. */
  advance(ms: number): void;
}

export async function startServer(
  options: Partial<KindeLocalServerOptions> & { dataDir?: string; startAt?: number } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "kinde-local-it-")));
  let offset = 0;
  const logs: string[] = [];
  const server = await createKindeLocalServer({
    issuer: "http://127.0.0.1:0",
    port: 0,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    siteUrl: SITE_URL,
    configPath: CONFIG_PATH,
    log: (line) => logs.push(line),
    clock: () => Date.now() + offset,
    ...options,
    dataDir,
  });
  return { ...server, dataDir, logs, advance: (ms) => void (offset += ms) };
}

export function authorizeUrl(server: KindeLocalServer, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({
    state: "0123456789abcdef0123456789ab",
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    response_type: "code",
    scope: "openid profile email offline",
    ...extra,
  });
  return `${server.url}/oauth2/auth?${params}`;
}

/** A GET with the cookies of `jar` (a browser), if any; no redirect is followed. */
export function get(url: string, jar?: TestBrowser, headers: Record<string, string> = {}): Promise<Response> {
  return (jar ?? new TestBrowser()).fetch(url, { headers });
}

export function postForm(
  url: string,
  fields: Record<string, string>,
  jar?: TestBrowser,
  headers: Record<string, string> = {},
): Promise<Response> {
  return (jar ?? new TestBrowser()).fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields),
  });
}

export function hiddenRequestId(html: string): string {
  const match = /name="request_id" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error("no request_id in the page");
  return match[1];
}

/** The callback URL the server redirected to, checked to be the app's. */
export function callbackParams(response: Response): URLSearchParams {
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get("Location") ?? "");
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
  return location.searchParams;
}

export interface Credentials {
  email: string;
  password: string;
  firstName?: string;
  lastName?: string;
}

let counter = 0;
export function newCredentials(overrides: Partial<Credentials> = {}): Credentials {
  counter += 1;
  return {
    email: `user${counter}-${Date.now()}@example.com`,
    password: "correct horse battery",
    firstName: "Ada",
    lastName: "Lovelace",
    ...overrides,
  };
}

/** Opens a sign-up page (any authorization URL asking for one) and submits it; returns the answer. */
export async function submitSignUp(
  server: KindeLocalServer,
  authorize: string,
  credentials: Credentials,
  jar: TestBrowser,
) {
  const page = await get(authorize, jar);
  expect(page.status).toBe(200);
  return postForm(
    `${server.url}/auth/sign-up`,
    {
      request_id: hiddenRequestId(await page.text()),
      p_first_name: credentials.firstName ?? "",
      p_last_name: credentials.lastName ?? "",
      p_email: credentials.email,
      p_password: credentials.password,
    },
    jar,
  );
}

/** Walks the sign-up page as a browser would; returns the code the app receives. */
export async function signUp(server: KindeLocalServer, credentials: Credentials, jar = new TestBrowser()) {
  const response = await submitSignUp(server, authorizeUrl(server, { start_page: "registration" }), credentials, jar);
  const params = callbackParams(response);
  return { code: params.get("code") ?? "", state: params.get("state"), scope: params.get("scope"), jar };
}

export async function signIn(
  server: KindeLocalServer,
  credentials: Credentials,
  jar = new TestBrowser(),
  extra: Record<string, string> = {},
) {
  const page = await get(authorizeUrl(server, extra), jar);
  expect(page.status).toBe(200);
  const response = await postForm(
    `${server.url}/auth/sign-in`,
    { request_id: hiddenRequestId(await page.text()), p_email: credentials.email, p_password: credentials.password },
    jar,
  );
  return { response, jar };
}

export interface TokenSet {
  access_token: string;
  id_token: string;
  refresh_token: string;
  expires_in: number;
  scope: string;
  token_type: string;
}

/** POST /oauth2/token exactly as @kinde-oss/kinde-typescript-sdk sends it. */
export async function tokenRequest(
  server: KindeLocalServer,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${server.url}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8", ...headers },
    body: new URLSearchParams(fields),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export async function exchangeCode(server: KindeLocalServer, code: string): Promise<TokenSet> {
  const { status, body } = await tokenRequest(server, {
    grant_type: "authorization_code",
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uri: REDIRECT_URI,
    code,
  });
  expect(body.error).toBeUndefined();
  expect(status).toBe(200);
  return body as unknown as TokenSet;
}

export function refresh(server: KindeLocalServer, refreshToken: string) {
  return tokenRequest(server, {
    grant_type: "refresh_token",
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    refresh_token: refreshToken,
  });
}

export function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}

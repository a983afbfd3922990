/** The local Kinde server on a free port with a throwaway data folder, spoken to over HTTP as a browser and the Kinde SDK do. */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, expect, onTestFinished } from "vitest";
import { TestBrowser } from "../../support/browser.ts";
import { createKindeLocalServer, type KindeLocalServerOptions } from "../../../kinde-local/server.ts";

export const CLIENT_ID = "0123456789abcdef0123456789abcdef";
export const CLIENT_SECRET = "k1nd3L0calT3stS3cr3t0123456789abcdefABCDEF";
export const SITE_URL = "http://localhost:3999";
export const REDIRECT_URI = `${SITE_URL}/kinde-auth/callback`;
export const CONFIG_PATH = fileURLToPath(new URL("../../../kinde-local/config.json", import.meta.url));

export { TestBrowser };
export { decodeJwt as decodePayload } from "jose";

/** The default application's credentials as token request fields. */
export const CLIENT = { client_id: CLIENT_ID, client_secret: CLIENT_SECRET };

export const codeGrant = (code: string, overrides: Record<string, string> = {}) => ({
  grant_type: "authorization_code",
  ...CLIENT,
  redirect_uri: REDIRECT_URI,
  code,
  ...overrides,
});

export type ServerOptions = Partial<KindeLocalServerOptions> & { dataDir?: string };

export interface Credentials {
  email: string;
  password: string;
  firstName?: string;
  lastName?: string;
}

export interface TokenSet {
  access_token: string;
  id_token: string;
  refresh_token: string;
  expires_in: number;
  scope: string;
  token_type: string;
}

export type TestServer = Awaited<ReturnType<typeof startServer>>;

export async function startServer(options: ServerOptions = {}) {
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
  const authorizeUrl = (extra: Record<string, string> = {}) =>
    `${server.url}/oauth2/auth?${new URLSearchParams({
      state: "0123456789abcdef0123456789ab",
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      scope: "openid profile email offline",
      ...extra,
    })}`;
  const openForm = async (authorize: string, jar = new TestBrowser()) => {
    const page = await get(authorize, jar);
    expect(page.status).toBe(200);
    const html = await page.text();
    const requestId = hiddenRequestId(html);
    const submit = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
      postForm(`${server.url}${path}`, { request_id: requestId, ...fields }, jar, headers);
    return { html, requestId, jar, submit };
  };
  const submitSignUp = async (authorize: string, credentials: Credentials, jar?: TestBrowser) =>
    (await openForm(authorize, jar)).submit("/auth/sign-up", {
      p_first_name: credentials.firstName ?? "",
      p_last_name: credentials.lastName ?? "",
      p_email: credentials.email,
      p_password: credentials.password,
    });
  const tokenRequest = async (fields: Record<string, string>, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8", ...headers },
      body: new URLSearchParams(fields),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return {
    ...server,
    dataDir,
    logs,
    /** Moves the server's clock forward. */
    advance: (ms: number) => void (offset += ms),
    authorizeUrl,
    /** Opens the sign-in or sign-up page of an authorization URL; `submit` posts a form with its request id. */
    openForm,
    /** Opens a sign-up page (any authorization URL asking for one) and submits it; returns the answer. */
    submitSignUp,
    /** Walks the sign-up page as a browser would; returns the code the app receives. */
    async signUp(credentials: Credentials, jar = new TestBrowser()) {
      const params = callbackParams(await submitSignUp(authorizeUrl({ start_page: "registration" }), credentials, jar));
      return { code: params.get("code") ?? "", state: params.get("state"), scope: params.get("scope"), jar };
    },
    /** A new person signed up and their code exchanged: their tokens and user id. */
    async signUpWithTokens(credentials = newCredentials(), jar = new TestBrowser()) {
      const { code } = await this.signUp(credentials, jar);
      const tokens = await this.exchangeCode(code);
      return { tokens, id: String(decodeJwt(tokens.id_token).sub), code, credentials, jar };
    },
    async signIn(credentials: Credentials, jar = new TestBrowser(), extra: Record<string, string> = {}) {
      const form = await openForm(authorizeUrl(extra), jar);
      const fields = { p_email: credentials.email, p_password: credentials.password };
      return { response: await form.submit("/auth/sign-in", fields), jar };
    },
    /** POST /oauth2/token exactly as @kinde-oss/kinde-typescript-sdk sends it. */
    tokenRequest,
    async exchangeCode(code: string) {
      const { status, body } = await tokenRequest(codeGrant(code));
      expect(body.error).toBeUndefined();
      expect(status).toBe(200);
      return body as unknown as TokenSet;
    },
    userProfile: (accessToken: string) =>
      fetch(`${server.url}/oauth2/v2/user_profile`, { headers: { Authorization: `Bearer ${accessToken}` } }),
    refresh: (refreshToken: string) =>
      tokenRequest({ grant_type: "refresh_token", ...CLIENT, refresh_token: refreshToken }),
  };
}

/** The file's server: started before its tests, closed after them. */
export function useServer(options: ServerOptions | (() => ServerOptions) = {}): TestServer {
  const server = {} as TestServer;
  beforeAll(async () => {
    Object.assign(server, await startServer(typeof options === "function" ? options() : options));
  });
  afterAll(() => server.close());
  return server;
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

/** A server of the test's own, closed when the test ends. */
export async function startServerForTest(options: ServerOptions = {}) {
  const server = await startServer(options);
  onTestFinished(() => server.close());
  return server;
}

/** The committed config.json with some top-level fields replaced, written into `dir`; returns its path. */
export async function configWith(dir: string, fields: Record<string, unknown>): Promise<string> {
  const base = JSON.parse(await readFile(CONFIG_PATH, "utf8")) as Record<string, unknown>;
  const path = join(dir, `config-${Math.random().toString(16).slice(2)}.json`);
  await writeFile(path, JSON.stringify({ ...base, ...fields }));
  return path;
}

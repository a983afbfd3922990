// The part of Kinde's Management API that users:sync needs; every failure is a one-line KindeManagementError.
import { z } from "zod";
import type { ManagementEnv } from "../config/env-schema.server";
import { cleanOrganizationName, KINDE_ORG_CODE } from "./organization-facts.server";
import type { KindeProfileFacts } from "./user-facts.server";

export class KindeManagementError extends Error {
  override name = "KindeManagementError";
}

export interface KindeApiUser extends KindeProfileFacts {
  id: string;
  lastSignedIn: Date | null;
}

export interface KindeApiOrganization {
  code: string;
  name: string | null;
}

export interface KindeApiMember {
  kindeId: string;
  /** Role keys; undefined when the listing gives none. */
  roleKeys?: string[];
}

export interface ManagementClientOptions {
  fetch?: typeof fetch;
  /** Tests replace it to see the waits without taking them. */
  sleep?: (ms: number) => Promise<void>;
  log?: (line: string) => void;
  maxRetries?: number;
  requestTimeoutMs?: number;
}

export const KINDE_PAGE_SIZE = 500;
const MAX_WAIT_MS = 60_000;
const MAX_PAGES = 100_000;
const UNREACHABLE = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|bad port|certificate|CERT_/i;

const tokenResponse = z.object({ access_token: z.string().min(1) });
const tokenError = z.object({ error: z.string(), error_description: z.string().optional() });

const apiUser = z.object({
  id: z.string().regex(/^kp_[A-Za-z0-9]{1,64}$/),
  email: z.string().nullish(),
  first_name: z.string().nullish(),
  last_name: z.string().nullish(),
  picture: z.string().nullish(),
  is_suspended: z.boolean().nullish(),
  last_signed_in: z.string().nullish(),
});
const userList = z.object({ users: z.array(apiUser).nullish(), next_token: z.string().nullish() });
const organizationList = z.object({
  organizations: z.array(z.object({ code: z.string().regex(KINDE_ORG_CODE), name: z.string().nullish() })).nullish(),
  next_token: z.string().nullish(),
});
const memberList = z.object({
  organization_users: z
    .array(z.object({ id: apiUser.shape.id, roles: z.array(z.string().min(1).max(128)).max(100).nullish() }))
    .nullish(),
  next_token: z.string().nullish(),
});

function toUser(user: z.infer<typeof apiUser>): KindeApiUser {
  const lastSignedIn = user.last_signed_in ? new Date(user.last_signed_in) : null;
  return {
    id: user.id,
    email: user.email ?? null,
    firstName: user.first_name ?? null,
    lastName: user.last_name ?? null,
    picture: user.picture ?? null,
    suspended: user.is_suspended ?? false,
    lastSignedIn: lastSignedIn && !Number.isNaN(lastSignedIn.getTime()) ? lastSignedIn : null,
  };
}

/** RateLimit-Reset (seconds, or a Unix time) or Retry-After, else an exponential backoff; at most a minute. */
export function retryDelayMs(response: Response | null, retry: number, now = Date.now()): number {
  const header = response?.headers.get("RateLimit-Reset") ?? response?.headers.get("Retry-After");
  const seconds = header === null || header === undefined ? Number.NaN : Number(header.trim());
  let ms = 2 ** retry * 1000;
  if (Number.isFinite(seconds) && seconds >= 0) ms = seconds > 1e9 ? seconds * 1000 - now : seconds * 1000;
  return Math.min(Math.max(ms, 0), MAX_WAIT_MS);
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error && error.name === "TimeoutError") return "no answer in time";
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

async function readJson(response: Response, what: string): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    throw new KindeManagementError(`Kinde answered ${what} with something that is not JSON (${response.status})`);
  }
}

interface Transport {
  config: ManagementEnv;
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  log: (line: string) => void;
  maxRetries: number;
  timeoutMs: number;
}

/** `scope`: the Management API scope the request needs, named when Kinde refuses it. */
type Get = (path: string, what: string, scope: string, write?: { method: string; body: unknown }) => Promise<Response>;

// Retried on 429, 5xx and timeouts; nothing listening, an unknown host or a bad certificate will not mend.
async function send(t: Transport, what: string, url: string, init: RequestInit): Promise<Response> {
  for (let retry = 0; ; retry++) {
    let response: Response | null = null;
    let failure: string;
    try {
      response = await t.fetch(url, { ...init, signal: AbortSignal.timeout(t.timeoutMs) });
      if (response.status !== 429 && response.status < 500) return response;
      failure = response.status === 429 ? "rate limited (429)" : `answered ${response.status}`;
    } catch (error) {
      const reason = describeNetworkError(error);
      if (retry >= t.maxRetries || UNREACHABLE.test(reason)) {
        throw new KindeManagementError(`cannot reach Kinde at ${t.config.issuerUrl} (${reason})`);
      }
      failure = `did not answer (${reason})`;
    }
    if (retry >= t.maxRetries) {
      throw new KindeManagementError(`Kinde ${failure} for ${what}, still after ${t.maxRetries} retries`);
    }
    await response?.body?.cancel();
    const wait = retryDelayMs(response, retry);
    t.log(`Kinde ${failure} for ${what}: waiting ${Math.ceil(wait / 1000)} s (retry ${retry + 1} of ${t.maxRetries})`);
    await t.sleep(wait);
  }
}

async function fetchToken(t: Transport): Promise<string> {
  const { config } = t;
  const response = await send(t, "the token request", `${config.issuerUrl}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: config.clientId,
      client_secret: config.clientSecret,
      audience: `${config.issuerUrl}/api`,
    }),
  });
  const body = await readJson(response, "the token request");
  const granted = tokenResponse.safeParse(body);
  if (response.ok && granted.success) return granted.data.access_token;
  const refused = tokenError.safeParse(body);
  const reason = refused.success ? refused.data.error : `HTTP ${response.status}`;
  if (reason === "invalid_client" || response.status === 401) {
    throw new KindeManagementError(
      `Kinde refused the client credentials in ${config.credentials} (${reason}); for real Kinde use an M2M application authorised for the Management API`,
    );
  }
  throw new KindeManagementError(`Kinde refused the Management API token (${reason})`);
}

interface PageOf<Item> {
  /** e.g. "the user list": each request is `${list} (page n)`. */
  list: string;
  path: string;
  scope: string;
  pageSize: number;
  /** The page's items, or null when the answer is not such a page. */
  read: (body: unknown) => { items: Item[]; nextToken?: string | null } | null;
}

async function* listPages<Item>(get: Get, { list, path, scope, pageSize, read }: PageOf<Item>): AsyncGenerator<Item[]> {
  let nextToken: string | null | undefined;
  const seen = new Set<string>();
  for (let page = 1; page <= MAX_PAGES; page++) {
    const query = new URLSearchParams({ page_size: String(pageSize) });
    if (nextToken) query.set("next_token", nextToken);
    const what = `${list} (page ${page})`;
    const response = await get(`${path}?${query}`, what, scope);
    if (!response.ok) throw new KindeManagementError(`Kinde answered ${response.status} for ${what}`);
    const parsed = read(await readJson(response, what));
    if (!parsed) throw new KindeManagementError(`Kinde's answer for ${what} is not ${list}`);
    yield parsed.items;
    nextToken = parsed.nextToken;
    if (!nextToken) return;
    // A token seen before would page forever.
    if (seen.has(nextToken)) throw new KindeManagementError(`Kinde repeated a next_token on ${what}`);
    seen.add(nextToken);
  }
  throw new KindeManagementError(`Kinde's ${list.replace(/^the /, "")} did not end after ${MAX_PAGES} pages`);
}

function listUsers(get: Get, pageSize: number): AsyncGenerator<KindeApiUser[]> {
  return listPages(get, {
    list: "the user list",
    path: "/api/v1/users",
    scope: "read:users",
    pageSize,
    read: (body) => {
      const parsed = userList.safeParse(body);
      return parsed.success
        ? { items: (parsed.data.users ?? []).map(toUser), nextToken: parsed.data.next_token }
        : null;
    },
  });
}

function listOrganizations(get: Get, pageSize: number): AsyncGenerator<KindeApiOrganization[]> {
  return listPages(get, {
    list: "the organization list",
    path: "/api/v1/organizations",
    scope: "read:organizations",
    pageSize,
    read: (body) => {
      const parsed = organizationList.safeParse(body);
      if (!parsed.success) return null;
      const items = (parsed.data.organizations ?? []).map(({ code, name }) => ({
        code,
        name: cleanOrganizationName(name),
      }));
      return { items, nextToken: parsed.data.next_token };
    },
  });
}

function listMembers(get: Get, code: string, pageSize: number): AsyncGenerator<KindeApiMember[]> {
  return listPages(get, {
    list: `the members of ${code}`,
    path: `/api/v1/organizations/${encodeURIComponent(code)}/users`,
    scope: "read:organization_users",
    pageSize,
    read: (body) => {
      const parsed = memberList.safeParse(body);
      if (!parsed.success) return null;
      const items = (parsed.data.organization_users ?? []).map(({ id, roles }) => ({
        kindeId: id,
        roleKeys: roles ?? undefined,
      }));
      return { items, nextToken: parsed.data.next_token };
    },
  });
}

// The local server answers 404 {"errors":[{"code":"..._NOT_FOUND"}]}; either sign means Kinde does not have it.
async function exists(get: Get, path: string, what: string, scope: string, notFound: string): Promise<boolean> {
  const response = await get(path, what, scope);
  if (response.ok) {
    await response.body?.cancel();
    return true;
  }
  const body = await response.text().catch(() => "");
  if (response.status === 404 || (response.status === 400 && body.includes(notFound))) return false;
  throw new KindeManagementError(`Kinde answered ${response.status} for ${what}`);
}

async function findUserIdByEmail(get: Get, email: string): Promise<string | null> {
  const what = "a user lookup by email";
  const response = await get(`/api/v1/users?${new URLSearchParams({ email })}`, what, "read:users");
  if (!response.ok) throw new KindeManagementError(`Kinde answered ${response.status} for ${what}`);
  const parsed = userList.safeParse(await readJson(response, what));
  if (!parsed.success) throw new KindeManagementError(`Kinde's answer for ${what} is not the user list`);
  const wanted = email.toLowerCase();
  return parsed.data.users?.find((user) => user.email?.toLowerCase() === wanted)?.id ?? null;
}

/** false: they were a member already (Kinde leaves a member's roles as they are). */
async function addMember(get: Get, code: string, userId: string, roleKeys?: string[]): Promise<boolean> {
  const what = `adding a member to ${code}`;
  const body = { users: [{ id: userId, ...(roleKeys ? { roles: roleKeys } : {}) }] };
  const path = `/api/v1/organizations/${encodeURIComponent(code)}/users`;
  const response = await get(path, what, "create:organization_users", { method: "POST", body });
  if (response.ok) {
    const added = z.object({ users_added: z.array(z.string()).nullish() }).safeParse(await readJson(response, what));
    return added.success && (added.data.users_added ?? []).includes(userId);
  }
  const detail = (await response.text().catch(() => "")).slice(0, 200);
  throw new KindeManagementError(`Kinde answered ${response.status} for ${what}${detail ? `: ${detail}` : ""}`);
}

export function createKindeManagementClient(config: ManagementEnv, options: ManagementClientOptions = {}) {
  const t: Transport = {
    config,
    fetch: options.fetch ?? fetch,
    sleep: options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    log: options.log ?? (() => {}),
    maxRetries: options.maxRetries ?? 5,
    timeoutMs: options.requestTimeoutMs ?? 30_000,
  };
  let token: Promise<string> | undefined;

  // A token that expired meanwhile is fetched again once.
  const get: Get = async (path, what, scope, write) => {
    for (let attempt = 1; ; attempt++) {
      token ??= fetchToken(t);
      const bearer = await token.catch((error: unknown) => {
        token = undefined;
        throw error;
      });
      const response = await send(t, what, `${config.issuerUrl}${path}`, {
        method: write?.method ?? "GET",
        headers: {
          Authorization: `Bearer ${bearer}`,
          Accept: "application/json",
          ...(write ? { "Content-Type": "application/json" } : {}),
        },
        body: write && JSON.stringify(write.body),
      });
      if (response.status === 401 && attempt === 1) {
        token = undefined;
        continue;
      }
      if (response.status === 401 || response.status === 403) {
        throw new KindeManagementError(
          `Kinde refused ${what} (${response.status}): the application in ${config.credentials} needs the ${scope} scope on the Management API`,
        );
      }
      return response;
    }
  };

  return {
    listUsers: (pageSize = KINDE_PAGE_SIZE) => listUsers(get, pageSize),
    userExists: (id: string) =>
      exists(get, `/api/v1/user?${new URLSearchParams({ id })}`, "a user lookup", "read:users", "USER_NOT_FOUND"),
    listOrganizations: (pageSize = KINDE_PAGE_SIZE) => listOrganizations(get, pageSize),
    listMembers: (code: string, pageSize = KINDE_PAGE_SIZE) => listMembers(get, code, pageSize),
    findUserIdByEmail: (email: string) => findUserIdByEmail(get, email),
    addMember: (code: string, userId: string, roleKeys?: string[]) => addMember(get, code, userId, roleKeys),
    organizationExists: (code: string) =>
      exists(
        get,
        `/api/v1/organization?${new URLSearchParams({ code })}`,
        "an organization lookup",
        "read:organizations",
        "ORGANIZATION_NOT_FOUND",
      ),
  };
}

export type KindeManagementClient = ReturnType<typeof createKindeManagementClient>;

/**
 * Who is signed in. Every loader that needs the person goes through here, so that:
 * - the Kinde session is read once per request, however many loaders ask (the SDK verifies
 *   token signatures on every helper call, and a refresh must not run twice);
 * - the SDK's Set-Cookie headers (refreshed or cleared tokens) reach the browser.
 */
import { redirect, type AppLoadContext } from "@remix-run/node";
import { getUserByKindeId, type KindeProfile, type User } from "~/models/user.server";
import { claimsFromSession, claimsFromTokens, profileFromIdToken, type KindeClaims } from "./kinde-claims.server";
import { getKindeSession } from "./kinde.server";
import { verifyKindeCookies } from "./kinde-tokens.server";
import { safeRedirect } from "./safe-redirect";

export interface KindeAuth {
  kindeUser: KindeProfile;
  /** Permissions, organizations and feature flags from the same verified tokens. */
  claims: () => Promise<KindeClaims>;
  /** Set-Cookie headers from the SDK (refreshed or expired tokens): pass them on. */
  headers: Headers;
}

export interface OptionalKindeAuth extends Omit<KindeAuth, "kindeUser"> {
  kindeUser: KindeProfile | null;
}

// The SDK keeps its tokens in these cookies; without any of them nobody can be signed in.
const KINDE_TOKEN_COOKIES = /(?:^|;\s*)(?:access_token|id_token|refresh_token)=/;

/** What every loader and action receives; `context` is one object per HTTP request. */
export interface RequestArgs {
  request: Request;
  context: AppLoadContext;
}

// Remix hands each loader its own copy of the Request, but one `context` object for the
// whole HTTP request, so the context keys the per-request caches (root loader + route
// loader = one token check and one row read). Actions that change the row redirect, so no
// loader in the same request sees a stale cached row.
const authByRequest = new WeakMap<object, Promise<OptionalKindeAuth>>();
const userByRequest = new WeakMap<object, Promise<User | null>>();
const cacheKey = ({ request, context }: RequestArgs): object =>
  typeof context === "object" && context ? context : request;

/** Where a request came from, as a same-site path to come back to after signing in. */
function currentPath(request: Request): string {
  const url = new URL(request.url);
  return safeRedirect(`${url.pathname}${url.search}`);
}

export function loginUrl(returnTo: string): string {
  return `/kinde-auth/login?${new URLSearchParams({ returnTo: safeRedirect(returnTo) })}`;
}

export function hasKindeCookies(request: Request): boolean {
  return KINDE_TOKEN_COOKIES.test(request.headers.get("Cookie") ?? "");
}

// Every cookie the SDK may leave behind for a session (kinde-remix-sdk 1.1.4).
const KINDE_SESSION_COOKIES = [
  "access_token",
  "id_token",
  "refresh_token",
  "user",
  "id_token_payload",
  "access_token_payload",
];

/**
 * When the tokens are unusable (a failed refresh, a forged cookie) the SDK gives up without
 * telling the browser, so the dead cookies would be sent, verified and refused on every
 * request. Expire the ones the browser sent.
 */
function expireDeadKindeCookies(request: Request, headers: Headers): void {
  const sent = new Set((request.headers.get("Cookie") ?? "").split(/;\s*/).map((pair) => pair.split("=")[0]));
  const secure = process.env.NODE_ENV === "production" ? "; Secure" : "";
  const alreadySet = new Set(headers.getSetCookie().map((cookie) => cookie.split("=")[0]));
  for (const name of KINDE_SESSION_COOKIES) {
    if (sent.has(name) && !alreadySet.has(name)) {
      headers.append("Set-Cookie", `${name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${secure}`);
    }
  }
}

async function readKindeAuth(request: Request): Promise<OptionalKindeAuth> {
  // No token cookie at all: nobody is signed in, and there is nothing to verify or refresh.
  if (!hasKindeCookies(request)) {
    return { kindeUser: null, claims: async () => claimsFromTokens({}, null), headers: new Headers() };
  }
  // Fast path: both token cookies verify as they are (the common case, no refresh due).
  const verified = await verifyKindeCookies(request);
  if (verified) {
    const claims = claimsFromTokens(verified.access, verified.id);
    return { kindeUser: profileFromIdToken(verified.id), claims: async () => claims, headers: new Headers() };
  }
  // Otherwise the SDK decides: it refreshes an expired access token (new cookies in
  // `headers`) or finds nobody signed in.
  const session = await getKindeSession(request);
  const kindeUser = await session.getUser();
  const headers = new Headers(session.headers);
  if (!kindeUser?.id) {
    expireDeadKindeCookies(request, headers);
    return { kindeUser: null, claims: async () => claimsFromTokens({}, null), headers };
  }
  let claims: Promise<KindeClaims> | undefined;
  return { kindeUser, claims: () => (claims ??= claimsFromSession(session)), headers };
}

/**
 * The Kinde user of this request, or null. A missing, expired (and not refreshable),
 * tampered or forged token all mean "signed out": the SDK verifies the signature against
 * the issuer's keys and answers null rather than throwing.
 */
export function getKindeAuth(args: RequestArgs): Promise<OptionalKindeAuth> {
  const key = cacheKey(args);
  let auth = authByRequest.get(key);
  if (!auth) {
    auth = readKindeAuth(args.request);
    authByRequest.set(key, auth);
  }
  return auth;
}

/** The Kinde user, or a redirect to sign-in that comes back to `returnTo`. */
export async function requireKindeAuth(args: RequestArgs, returnTo = currentPath(args.request)): Promise<KindeAuth> {
  const auth = await getKindeAuth(args);
  if (!auth.kindeUser) throw redirect(loginUrl(returnTo), { headers: auth.headers });
  return { ...auth, kindeUser: auth.kindeUser };
}

function getStoredUser(args: RequestArgs, kindeId: string): Promise<User | null> {
  const key = cacheKey(args);
  let user = userByRequest.get(key);
  if (!user) {
    user = getUserByKindeId(kindeId);
    userByRequest.set(key, user);
  }
  return user;
}

/**
 * The signed-in person's stored row. Without a session: sign-in, then back here. With a
 * session but no row (the database was reset, or the account deleted in another tab):
 * through /auth/success again, which recreates it from Kinde.
 */
export async function requireUser(args: RequestArgs): Promise<KindeAuth & { user: User }> {
  const returnTo = currentPath(args.request);
  const auth = await requireKindeAuth(args, returnTo);
  const user = await getStoredUser(args, auth.kindeUser.id);
  if (!user) {
    throw redirect(`/auth/success?${new URLSearchParams({ returnTo })}`, { headers: auth.headers });
  }
  return { ...auth, user };
}

/**
 * For pages anyone may see (the header's "signed in as"): the stored user if there is a
 * valid session and a row, else null. Visitors without Kinde cookies cost nothing.
 */
export async function getOptionalUser(args: RequestArgs): Promise<{ user: User | null; headers: Headers }> {
  if (!hasKindeCookies(args.request)) return { user: null, headers: new Headers() };
  const auth = await getKindeAuth(args);
  if (!auth.kindeUser) return { user: null, headers: auth.headers };
  try {
    return { user: await getStoredUser(args, auth.kindeUser.id), headers: auth.headers };
  } catch (error) {
    // Public pages keep working while the database is unavailable (db.server.ts turns that
    // into a 503 Response); the header just shows no one.
    if (error instanceof Response && error.status === 503) return { user: null, headers: auth.headers };
    throw error;
  }
}

/**
 * Who is signed in. Every loader that needs the person goes through here, so that:
 * - the Kinde session is read once per request, however many loaders ask (the SDK verifies
 *   token signatures on every helper call, and a refresh must not run twice);
 * - the SDK's Set-Cookie headers (refreshed or cleared tokens) reach the browser.
 */
import { redirect, type AppLoadContext } from "@remix-run/node";
import { isKindeIdentityDeleted } from "~/models/deleted-kinde-identity.server";
import { getUserByKindeId, upsertUserFromKinde, type KindeProfile, type User } from "~/models/user.server";
import { expiredCookie, requestCookies, setCookiePair } from "../http/cookies.server";
import { claimsFromTokens, profileFromIdToken, type KindeClaims } from "./claims.server";
import { getKindeSession } from "./kinde-sdk.server";
import { checkKindeCookies, checkKindeTokens, type VerifiedKindeTokens } from "./tokens.server";
import { safeRedirect } from "./safe-redirect";

export interface KindeAuth {
  kindeUser: KindeProfile;
  /** Permissions, organizations and feature flags from the same verified tokens. */
  claims: () => Promise<KindeClaims>;
  /** Set-Cookie headers from the SDK (refreshed or expired tokens): pass them on. */
  headers: Headers;
  /** When Kinde issued the ID token (its `iat`): the time of what it says about the person. */
  idTokenIssuedAt: () => Promise<Date | null>;
}

export interface OptionalKindeAuth extends Omit<KindeAuth, "kindeUser"> {
  kindeUser: KindeProfile | null;
}

// The SDK keeps its tokens in these cookies; without any of them nobody can be signed in.
const KINDE_TOKEN_COOKIES = ["access_token", "id_token", "refresh_token"];

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
const checkedUserByRequest = new WeakMap<object, Promise<User | null>>();
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
  const cookies = requestCookies(request);
  return KINDE_TOKEN_COOKIES.some((name) => cookies[name] !== undefined);
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
 * Signs the browser out of its Kinde session: when the tokens are unusable (a failed refresh,
 * a forged or foreign token) the SDK gives up without telling the browser, so the dead cookies
 * would be sent, checked and refused on every request. Every one the browser sent is expired.
 */
function expireKindeCookies(request: Request): Headers {
  const headers = new Headers();
  const sent = requestCookies(request);
  for (const name of KINDE_SESSION_COOKIES) {
    if (sent[name] !== undefined) headers.append("Set-Cookie", expiredCookie(name));
  }
  return headers;
}

function issuedAt(iat: unknown): Date | null {
  return typeof iat === "number" && Number.isFinite(iat) ? new Date(iat * 1000) : null;
}

function signedOut(headers: Headers): OptionalKindeAuth {
  return {
    kindeUser: null,
    claims: async () => claimsFromTokens({}, null),
    headers,
    idTokenIssuedAt: async () => null,
  };
}

function signedIn({ access, id }: VerifiedKindeTokens, headers: Headers): OptionalKindeAuth {
  const claims = claimsFromTokens(access, id);
  return {
    kindeUser: profileFromIdToken(id),
    claims: async () => claims,
    headers,
    idTokenIssuedAt: async () => issuedAt(id.iat),
  };
}

/** Tokens that are not this application's (or not Kinde's) mean signed out, never a refresh. */
function refused(request: Request, reason: string): OptionalKindeAuth {
  console.warn(`[auth] refused the Kinde token cookies: ${reason}`);
  return signedOut(expireKindeCookies(request));
}

/** The new tokens among the SDK's Set-Cookie headers after a refresh. */
function refreshedTokens(headers: Headers): { accessToken: string; idToken: string } | null {
  const set = new Map(
    headers
      .getSetCookie()
      .map(setCookiePair)
      .filter((pair) => pair !== null)
      .map((pair) => [pair.name, pair.value]),
  );
  const accessToken = set.get("access_token");
  const idToken = set.get("id_token");
  return accessToken && idToken ? { accessToken, idToken } : null;
}

async function readKindeAuth(request: Request): Promise<OptionalKindeAuth> {
  // No token cookie at all: nobody is signed in, and there is nothing to verify or refresh.
  if (!hasKindeCookies(request)) return signedOut(new Headers());
  const check = await checkKindeCookies(request);
  if (check.status === "valid") return signedIn(check.tokens, new Headers());
  if (check.status === "rejected") return refused(request, check.reason);
  // Kinde's keys cannot be had: nobody is recognised now, and the cookies stay for later.
  if (check.status === "unavailable") return signedOut(new Headers());
  // Genuine and this application's, but expired: the SDK refreshes them (its Set-Cookie headers
  // carry the new tokens), and what it hands back must pass the same checks.
  const session = await getKindeSession(request);
  const refreshed = refreshedTokens(session.headers);
  if (!refreshed) return refused(request, "the refresh failed");
  const again = await checkKindeTokens(refreshed.accessToken, refreshed.idToken);
  if (again.status === "valid") return signedIn(again.tokens, new Headers(session.headers));
  if (again.status === "unavailable") return signedOut(new Headers(session.headers));
  return refused(request, `after a refresh: ${again.status === "rejected" ? again.reason : "still expired"}`);
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
 * Signs out a person Kinde suspended or deleted, or a session from before the person deleted
 * their account here, even though their token has not expired: every Kinde cookie the browser
 * sent is expired (refreshed ones the SDK was about to set are dropped), and they are sent to
 * sign in, where Kinde decides.
 */
function revokedSession(request: Request, returnTo: string, why: "suspended" | "deleted" | "left"): Response {
  console.info(
    why === "left"
      ? "[auth] signed out a session from before its account was deleted here"
      : `[auth] signed out a person ${why} at Kinde`,
  );
  return redirect(loginUrl(returnTo), { headers: expireKindeCookies(request) });
}

/**
 * The stored row of a valid session, or a sign-out response for a person suspended or deleted
 * at Kinde. The suspension is read from the row the page needs anyway; only a missing row
 * costs one more query, for the tombstone.
 */
function checkedUser(args: RequestArgs, kindeId: string, returnTo: string): Promise<User | null> {
  const key = cacheKey(args);
  let checked = checkedUserByRequest.get(key);
  if (!checked) {
    checked = (async () => {
      const user = await getStoredUser(args, kindeId);
      if (user?.suspendedAt) throw revokedSession(args.request, returnTo, "suspended");
      if (!user && (await isKindeIdentityDeleted(kindeId))) throw revokedSession(args.request, returnTo, "deleted");
      return user;
    })();
    checkedUserByRequest.set(key, checked);
  }
  return checked;
}

/**
 * The signed-in person's stored row. Without a session: sign-in, then back here. Suspended or
 * deleted at Kinde: signed out. With a session but no row (the database was reset, or the
 * account deleted in another tab): through /auth/success again, which recreates it from Kinde.
 */
export async function requireUser(args: RequestArgs): Promise<KindeAuth & { user: User }> {
  const returnTo = currentPath(args.request);
  const auth = await requireKindeAuth(args, returnTo);
  const user = await checkedUser(args, auth.kindeUser.id, returnTo);
  if (!user) {
    throw redirect(`/auth/success?${new URLSearchParams({ returnTo })}`, { headers: auth.headers });
  }
  return { ...auth, user };
}

// The sign-in flow itself: /auth/success applies the sign-in and signs out a revoked person on
// its own, and the SDK's routes must be able to set fresh cookies over old ones.
const SIGN_IN_FLOW = /^\/(?:kinde-auth\/|auth\/success$)/;

/**
 * For pages anyone may see (the header's "signed in as"): the stored user if there is a
 * valid session and a row, else null. Visitors without Kinde cookies cost nothing. A person
 * suspended or deleted at Kinde is signed out here too.
 */
export async function getOptionalUser(args: RequestArgs): Promise<{ user: User | null; headers: Headers }> {
  if (!hasKindeCookies(args.request)) return { user: null, headers: new Headers() };
  const auth = await getKindeAuth(args);
  if (!auth.kindeUser) return { user: null, headers: auth.headers };
  const returnTo = currentPath(args.request);
  try {
    const user = SIGN_IN_FLOW.test(new URL(args.request.url).pathname)
      ? await getStoredUser(args, auth.kindeUser.id)
      : await checkedUser(args, auth.kindeUser.id, returnTo);
    return { user, headers: auth.headers };
  } catch (error) {
    // Public pages keep working while the database is unavailable (db.server.ts turns that
    // into a 503 Response); the header just shows no one.
    if (error instanceof Response && error.status === 503) return { user: null, headers: auth.headers };
    throw error;
  }
}

/**
 * /auth/success: stores what the ID token says about the person (at the token's `iat`), then
 * sends them on. A person suspended before the token was issued, or deleted at Kinde, is
 * signed out instead; a token issued after a suspension lifts it.
 */
export async function completeSignIn(args: RequestArgs, returnTo: string): Promise<Response> {
  const { kindeUser, headers, idTokenIssuedAt } = await getKindeAuth(args);
  // No valid Kinde session (cookie missing, expired, forged): sign in first, then come back.
  if (!kindeUser) throw redirect(loginUrl(returnTo), { headers });
  const user = await upsertUserFromKinde(kindeUser, new Date(), (await idTokenIssuedAt()) ?? undefined);
  if (!user)
    return revokedSession(args.request, returnTo, (await isKindeIdentityDeleted(kindeUser.id)) ? "deleted" : "left");
  if (user.suspendedAt) return revokedSession(args.request, returnTo, "suspended");
  return redirect(returnTo, { headers });
}

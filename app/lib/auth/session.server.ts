// The entry for "who is signed in": requireUser, getOptionalUser, completeSignIn (/auth/success).
import { redirect, type AppLoadContext } from "@remix-run/node";
import { isKindeIdentityDeleted } from "~/models/deleted-kinde-identity.server";
import { syncMembershipsFromRefresh } from "~/models/organization.server";
import { getUserByKindeId, upsertUserFromKinde, type KindeProfile, type User } from "~/models/user.server";
import { membershipFactsFromTokens } from "../kinde-sync/organization-facts.server";
import { expiredCookie, requestCookies, setCookiePair } from "../http/cookies.server";
import { perRequest } from "../http/per-request.server";
import type { KindeClaims } from "./claims";
import { claimsFromTokens, profileFromIdToken } from "./claims.server";
import { getKindeSession } from "./kinde-sdk.server";
import { checkKindeCookies, checkKindeTokens, type VerifiedKindeTokens } from "./tokens.server";
import { safeRedirect } from "./safe-redirect";

interface OptionalKindeAuth {
  kindeUser: KindeProfile | null;
  claims: KindeClaims;
  /** The SDK's Set-Cookie headers (refreshed or expired tokens): pass them on. */
  headers: Headers;
  idTokenIssuedAt: Date | null;
  tokens: VerifiedKindeTokens | null;
}

type KindeAuth = OptionalKindeAuth & { kindeUser: KindeProfile };

export interface RequestArgs {
  request: Request;
  context: AppLoadContext;
}

// Without any of the token cookies nobody can be signed in; the rest are what the SDK
// (kinde-remix-sdk 1.1.4) may also leave behind for a session.
const KINDE_TOKEN_COOKIES = ["access_token", "id_token", "refresh_token"];
const KINDE_SESSION_COOKIES = [...KINDE_TOKEN_COOKIES, "user", "id_token_payload", "access_token_payload"];

// Remix hands each loader its own copy of the Request but one `context` for the whole HTTP
// request, so root loader + route loader share one token check and one row read. Actions that
// change the row redirect, so no loader of the same request sees a stale row.
const byRequest = ({ request, context }: RequestArgs): object =>
  typeof context === "object" && context ? context : request;

function currentPath(request: Request): string {
  const url = new URL(request.url);
  return safeRedirect(`${url.pathname}${url.search}`);
}

function loginUrl(returnTo: string): string {
  return `/kinde-auth/login?${new URLSearchParams({ returnTo: safeRedirect(returnTo) })}`;
}

function hasKindeCookies(request: Request): boolean {
  const cookies = requestCookies(request);
  return KINDE_TOKEN_COOKIES.some((name) => cookies[name] !== undefined);
}

// Unusable tokens (a failed refresh, a forged or foreign token) are dropped by the SDK without
// telling the browser, which would send them, and have them refused, on every request.
function expireKindeCookies(request: Request): Headers {
  const headers = new Headers();
  const sent = requestCookies(request);
  for (const name of KINDE_SESSION_COOKIES) {
    if (sent[name] !== undefined) headers.append("Set-Cookie", expiredCookie(name));
  }
  return headers;
}

function signedOut(headers: Headers): OptionalKindeAuth {
  return { kindeUser: null, claims: claimsFromTokens({}, null), headers, idTokenIssuedAt: null, tokens: null };
}

function signedIn(tokens: VerifiedKindeTokens, headers: Headers): OptionalKindeAuth {
  const { access, id } = tokens;
  const iat = id.iat;
  return {
    tokens,
    kindeUser: profileFromIdToken(id),
    claims: claimsFromTokens(access, id),
    headers,
    idTokenIssuedAt: typeof iat === "number" && Number.isFinite(iat) ? new Date(iat * 1000) : null,
  };
}

function refused(request: Request, reason: string): OptionalKindeAuth {
  console.warn(`[auth] refused the Kinde token cookies: ${reason}`);
  return signedOut(expireKindeCookies(request));
}

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

// A failure leaves the stored memberships as they were: access still needs them, and the next refresh tries again.
async function followMemberships({ tokens, kindeUser, idTokenIssuedAt }: OptionalKindeAuth): Promise<void> {
  if (!tokens || !kindeUser || !idTokenIssuedAt) return;
  try {
    await syncMembershipsFromRefresh(
      kindeUser.id,
      membershipFactsFromTokens(tokens.access, tokens.id),
      idTokenIssuedAt,
    );
  } catch (error) {
    console.warn(`[auth] memberships not updated after a token refresh: ${String(error).slice(0, 200)}`);
  }
}

// Genuine and this application's but expired: what the SDK's refresh hands back must pass the same checks.
async function refreshKindeAuth(request: Request): Promise<OptionalKindeAuth> {
  const session = await getKindeSession(request);
  const refreshed = refreshedTokens(session.headers);
  if (!refreshed) return refused(request, "the refresh failed");
  const again = await checkKindeTokens(refreshed.accessToken, refreshed.idToken);
  if (again.status === "valid") {
    const auth = signedIn(again.tokens, new Headers(session.headers));
    await followMemberships(auth);
    return auth;
  }
  if (again.status === "unavailable") return signedOut(new Headers(session.headers));
  return refused(request, `after a refresh: ${again.status === "rejected" ? again.reason : "still expired"}`);
}

const getKindeAuth = perRequest(byRequest, async ({ request }: RequestArgs): Promise<OptionalKindeAuth> => {
  if (!hasKindeCookies(request)) return signedOut(new Headers());
  const check = await checkKindeCookies(request);
  if (check.status === "valid") return signedIn(check.tokens, new Headers());
  if (check.status === "rejected") return refused(request, check.reason);
  // Kinde's keys cannot be had: nobody is recognised now, and the cookies stay for later.
  if (check.status === "unavailable") return signedOut(new Headers());
  return refreshKindeAuth(request);
});

const getStoredUser = perRequest(byRequest, (_args: RequestArgs, kindeId: string) => getUserByKindeId(kindeId));

function revokedSession(request: Request, returnTo: string, why: "suspended" | "deleted" | "left"): Response {
  console.info(
    why === "left"
      ? "[auth] signed out a session from before its account was deleted here"
      : `[auth] signed out a person ${why} at Kinde`,
  );
  // Refreshed cookies the SDK was about to set are dropped; at sign-in Kinde decides.
  return redirect(loginUrl(returnTo), { headers: expireKindeCookies(request) });
}

const checkedUser = perRequest(byRequest, async (args: RequestArgs, kindeId: string, returnTo: string) => {
  const user = await getStoredUser(args, kindeId);
  if (user?.suspendedAt) throw revokedSession(args.request, returnTo, "suspended");
  if (!user && (await isKindeIdentityDeleted(kindeId))) throw revokedSession(args.request, returnTo, "deleted");
  return user;
});

// A session without a row (database reset, account deleted in another tab) goes through /auth/success to recreate it.
export async function requireUser(args: RequestArgs): Promise<KindeAuth & { user: User }> {
  const returnTo = currentPath(args.request);
  const auth = await getKindeAuth(args);
  if (!auth.kindeUser) throw redirect(loginUrl(returnTo), { headers: auth.headers });
  const user = await checkedUser(args, auth.kindeUser.id, returnTo);
  if (!user) {
    throw redirect(`/auth/success?${new URLSearchParams({ returnTo })}`, { headers: auth.headers });
  }
  return { ...auth, kindeUser: auth.kindeUser, user };
}

// In the sign-in flow /auth/success signs out a revoked person itself, and the SDK's routes
// must be able to set fresh cookies over old ones.
const SIGN_IN_FLOW = /^\/(?:kinde-auth\/|auth\/success$)/;

export async function getOptionalUser(
  args: RequestArgs,
): Promise<{ user: User | null; claims: KindeClaims | null; headers: Headers }> {
  if (!hasKindeCookies(args.request)) return { user: null, claims: null, headers: new Headers() };
  const auth = await getKindeAuth(args);
  if (!auth.kindeUser) return { user: null, claims: null, headers: auth.headers };
  try {
    const user = SIGN_IN_FLOW.test(new URL(args.request.url).pathname)
      ? await getStoredUser(args, auth.kindeUser.id)
      : await checkedUser(args, auth.kindeUser.id, currentPath(args.request));
    return { user, claims: user && auth.claims, headers: auth.headers };
  } catch (error) {
    // Public pages keep working while the database is unavailable (a 503): the header shows no one.
    if (error instanceof Response && error.status === 503) return { user: null, claims: null, headers: auth.headers };
    throw error;
  }
}

export async function completeSignIn(args: RequestArgs, returnTo: string): Promise<Response> {
  const { kindeUser, headers, idTokenIssuedAt, tokens } = await getKindeAuth(args);
  if (!kindeUser || !tokens) throw redirect(loginUrl(returnTo), { headers });
  const memberships = membershipFactsFromTokens(tokens.access, tokens.id);
  const user = await upsertUserFromKinde(kindeUser, new Date(), idTokenIssuedAt ?? undefined, memberships);
  if (!user)
    return revokedSession(args.request, returnTo, (await isKindeIdentityDeleted(kindeUser.id)) ? "deleted" : "left");
  if (user.suspendedAt) return revokedSession(args.request, returnTo, "suspended");
  return redirect(returnTo, { headers });
}

/**
 * The app's side of the Kinde flow, around the SDK's `handleAuth`: it closes the SDK's open
 * redirect, keeps /kinde-auth/health private, and turns callback failures into a page.
 */
import { env } from "../config/env.server";
import { handleAuth } from "./kinde-sdk.server";
import { safeRedirect } from "./safe-redirect";

export type AuthProblem = "cancelled" | "expired" | "rejected" | "unreachable";

export class AuthFlowError extends Error {
  constructor(
    readonly problem: AuthProblem,
    detail: string,
  ) {
    super(detail);
  }
}

/**
 * The SDK keeps the sign-in `state` it is generating on one object shared by the whole
 * process, across awaits (kinde-typescript-sdk 2.15, AuthorizationCode.createAuthorizationURL):
 * two sign-ins started at the same moment can swap states, and both then fail with "state
 * mismatch". So the SDK builds one authorization URL at a time; it takes well under a
 * millisecond once the SDK is loaded.
 */
let authorizationQueue: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(task: () => Promise<T>): Promise<T> {
  const run = authorizationQueue.then(task, task);
  authorizationQueue = run.catch(() => undefined);
  return run;
}

/**
 * /kinde-auth/login and /register. The SDK stores `?returnTo=` and later redirects to it
 * unchecked; here it is replaced by /auth/success carrying a same-site path, so every sign-in
 * passes through the upsert and can only end on this site.
 */
export async function startAuth(request: Request, action: "login" | "register"): Promise<Response> {
  const url = new URL(request.url);
  const returnTo = url.searchParams.get("returnTo");
  if (returnTo !== null) {
    url.searchParams.set("returnTo", `/auth/success?${new URLSearchParams({ returnTo: safeRedirect(returnTo) })}`);
  }
  return oneAtATime(() => handleAuth(new Request(url, { headers: request.headers }), action));
}

function isOnThisSite(location: string): boolean {
  if (safeRedirect(location, "") === location) return true;
  try {
    return new URL(location).origin === new URL(env.KINDE_SITE_URL).origin;
  } catch {
    return false;
  }
}

/** /kinde-auth/callback: the SDK checks state, exchanges the code and stores the tokens. */
export async function finishAuth(request: Request): Promise<Response> {
  const params = new URL(request.url).searchParams;
  const error = params.get("error");
  if (error) {
    throw new AuthFlowError(
      error === "access_denied" ? "cancelled" : "rejected",
      `provider answered error=${error.slice(0, 64)}`,
    );
  }
  if (!params.get("code") || !params.get("state")) {
    throw new AuthFlowError("expired", "callback without code or state");
  }
  let response: Response;
  try {
    response = await handleAuth(request, "callback");
  } catch (cause) {
    throw classifyCallbackError(cause);
  }
  // Defence in depth: whatever the SDK redirects to must be on this site.
  const location = response.headers.get("Location") ?? "";
  if (!isOnThisSite(location)) {
    response.headers.set("Location", "/auth/success");
  }
  return response;
}

function classifyCallbackError(cause: unknown): AuthFlowError {
  const message = cause instanceof Error ? cause.message : String(cause);
  // The SDK's messages carry no tokens, only what went wrong; keep them short in logs anyway.
  const detail = message.slice(0, 200);
  if (/state/i.test(message)) return new AuthFlowError("expired", detail);
  if (/fetch failed|ECONNREFUSED|ENOTFOUND|ETIMEDOUT|network|JSON/i.test(message)) {
    return new AuthFlowError("unreachable", detail);
  }
  return new AuthFlowError("rejected", detail);
}

/** POST /kinde-auth/logout: clears the SDK's cookies and ends the Kinde session. */
export async function signOut(request: Request): Promise<Response> {
  return handleAuth(request, "logout");
}

/** The SDK's health route prints the configuration (client id included) to anyone. */
export async function health(request: Request): Promise<Response> {
  if (env.NODE_ENV === "production") throw new Response("Not found", { status: 404 });
  return handleAuth(request, "health");
}

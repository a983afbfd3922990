// /kinde-auth/*: the SDK's handleAuth with its open redirect closed, health kept private, callback failures made a page.
import { serialize } from "cookie";
import { env } from "../config/env.server";
import { requestCookies, setCookiePair } from "../http/cookies.server";
import { handleAuth } from "./kinde-sdk.server";
import { safeRedirect } from "./safe-redirect";

const STATE_COOKIE = "ac-state-key";

export type AuthProblem = "cancelled" | "expired" | "rejected" | "unreachable";

export class AuthFlowError extends Error {
  constructor(
    readonly problem: AuthProblem,
    detail: string,
  ) {
    super(detail);
  }
}

// Workaround: the SDK keeps the `state` it generates on one process-wide object across awaits
// (kinde-typescript-sdk 2.15), so two sign-ins at once could swap states; one URL at a time.
let authorizationQueue: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(task: () => Promise<T>): Promise<T> {
  const run = authorizationQueue.then(task, task);
  authorizationQueue = run.catch(() => undefined);
  return run;
}

// The state cookie must read back as the state sent to Kinde. universal-cookie, under the SDK, reads a value that
// is valid JSON as that JSON, so a random hex state such as "1234e567…" (about 1 in 150,000) is stored as
// "Infinity" or a rounded number, and its callback fails.
function stateKept(response: Response): boolean {
  const location = response.headers.get("Location");
  const sent = location ? new URL(location).searchParams.get("state") : null;
  const kept = response.headers
    .getSetCookie()
    .map(setCookiePair)
    .find((pair) => pair?.name === STATE_COOKIE)?.value;
  if (sent === null || kept === undefined) return true;
  try {
    return sent === kept && typeof JSON.parse(kept) === "string";
  } catch {
    return sent === kept;
  }
}

// The SDK redirects to `?returnTo=` unchecked: it becomes /auth/success with a same-site path.
export async function startAuth(request: Request, action: "login" | "register"): Promise<Response> {
  const url = new URL(request.url);
  const returnTo = url.searchParams.get("returnTo");
  if (returnTo !== null) {
    url.searchParams.set("returnTo", `/auth/success?${new URLSearchParams({ returnTo: safeRedirect(returnTo) })}`);
  }
  const headers = new Headers(request.headers);
  for (let attempt = 1; ; attempt++) {
    const response = await oneAtATime(() => handleAuth(new Request(url, { headers }), action));
    if (stateKept(response) || attempt === 3) return response;
    // Without the state cookie the SDK draws a new state rather than reusing it.
    const { [STATE_COOKIE]: _dropped, ...kept } = requestCookies(request);
    headers.set(
      "Cookie",
      Object.entries(kept)
        .map(([name, value]) => serialize(name, value))
        .join("; "),
    );
  }
}

function isOnThisSite(location: string): boolean {
  if (safeRedirect(location, "") === location) return true;
  try {
    return new URL(location).origin === new URL(env.KINDE_SITE_URL).origin;
  } catch {
    return false;
  }
}

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
  const location = response.headers.get("Location") ?? "";
  if (!isOnThisSite(location)) {
    response.headers.set("Location", "/auth/success");
  }
  return response;
}

function classifyCallbackError(cause: unknown): AuthFlowError {
  const message = cause instanceof Error ? cause.message : String(cause);
  const detail = message.slice(0, 200);
  if (/state/i.test(message)) return new AuthFlowError("expired", detail);
  if (/fetch failed|ECONNREFUSED|ENOTFOUND|ETIMEDOUT|network|JSON/i.test(message)) {
    return new AuthFlowError("unreachable", detail);
  }
  return new AuthFlowError("rejected", detail);
}

export async function signOut(request: Request): Promise<Response> {
  return handleAuth(request, "logout");
}

// The SDK's health route prints the configuration (client id included) to anyone.
export async function health(request: Request): Promise<Response> {
  if (env.NODE_ENV === "production") throw new Response("Not found", { status: 404 });
  return handleAuth(request, "health");
}

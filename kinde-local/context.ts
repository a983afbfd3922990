import type { IncomingMessage, ServerResponse } from "node:http";
import type { ClaimsConfigSource } from "./config.ts";
import type { AuthorizationCode, AuthorizationRequest, ExpiringMap } from "./flows.ts";
import type { Params } from "./http.ts";
import type { SigningKey } from "./keys.ts";
import type { Clock, StoredSession, Store } from "./store.ts";
import type { TokenLifetimes } from "./tokens.ts";

/** Everything a handler may use; built once per server. */
export interface AppContext {
  issuer: string;
  clientId: string;
  clientSecret: string;
  siteUrl: string;
  siteOrigin: string;
  /** The only redirect_uri accepted: what the Kinde SDK derives from KINDE_SITE_URL. */
  redirectUri: string;
  lifetimes: TokenLifetimes;
  key: SigningKey;
  store: Store;
  config: ClaimsConfigSource;
  authorizationRequests: ExpiringMap<AuthorizationRequest>;
  codes: ExpiringMap<AuthorizationCode>;
  clock: Clock;
  log: (line: string) => void;
}

export interface RequestContext {
  request: IncomingMessage;
  response: ServerResponse;
  path: string;
  /** The query string as sent, still encoded (for /logout, see routes/logout.ts). */
  rawQuery: string;
  query: Params;
  cookies: Map<string, string>;
}

export type Handler = (context: RequestContext) => Promise<void>;

/**
 * Cookies on localhost are shared across ports, so this must differ from every cookie the
 * app or the Kinde SDK sets (access_token, id_token, refresh_token, ac-state-key,
 * post_login_redirect_url, __session).
 */
export const SESSION_COOKIE = "kinde_local_session";

export function currentSession(
  app: AppContext,
  context: RequestContext,
): { id: string; session: StoredSession } | undefined {
  const id = context.cookies.get(SESSION_COOKIE);
  if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
  const session = app.store.getSession(id);
  return session ? { id, session } : undefined;
}

/** No Secure attribute: the server speaks plain http on localhost. */
export function sessionCookie(id: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;
}

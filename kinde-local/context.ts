import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApplicationRegistry } from "./applications.ts";
import type { ClaimsConfigSource } from "./config.ts";
import type { AuthorizationCode, AuthorizationRequest, ExpiringMap, PasswordSetup } from "./flows.ts";
import { SESSION_COOKIE } from "./cookies.ts";
import type { Params } from "./http.ts";
import type { SigningKey } from "./keys.ts";
import { claimsFor, type Organization } from "./organizations.ts";
import type { RateLimiter } from "./rate-limit.ts";
import type { Clock, StoredSession, StoredUser, Store } from "./store.ts";
import type { TokenLifetimes } from "./tokens.ts";
import { webhookUser, type WebhookSource } from "./webhook-events.ts";
import type { WebhookOutbox } from "./webhooks.ts";

/** Everything a handler may use; built once per server. */
export interface AppContext {
  issuer: string;
  /** The default application's site: links on this server's pages go there. */
  siteUrl: string;
  applications: ApplicationRegistry;
  lifetimes: TokenLifetimes;
  key: SigningKey;
  store: Store;
  config: ClaimsConfigSource;
  authorizationRequests: ExpiringMap<AuthorizationRequest>;
  codes: ExpiringMap<AuthorizationCode>;
  passwordSetups: ExpiringMap<PasswordSetup>;
  webhooks: WebhookOutbox;
  apiRateLimiter: RateLimiter;
  clock: Clock;
  log: (line: string) => void;
}

/** Sends user.created or user.updated with the user as Kinde shapes it. */
export async function emitUserEvent(
  app: AppContext,
  type: "user.created" | "user.updated",
  source: WebhookSource,
  user: StoredUser,
): Promise<void> {
  const claims = claimsFor(await app.config.current(), app.store, user, null);
  if (claims) await app.webhooks.emit(type, source, { user: webhookUser(user, claims) });
}

/** organization.deleted carries only the code. */
export async function emitOrganizationEvent(
  app: AppContext,
  type: "organization.created" | "organization.updated" | "organization.deleted",
  source: WebhookSource,
  organization: Pick<Organization, "code"> & Partial<Organization>,
): Promise<void> {
  const shaped =
    type === "organization.deleted"
      ? { code: organization.code }
      : { code: organization.code, external_id: null, handle: null, name: organization.name };
  await app.webhooks.emit(type, source, { organization: shaped });
}

/** The client's address as Kinde reports it in user.authenticated (IPv4-mapped IPv6 unwrapped). */
export function clientAddress(request: IncomingMessage): string | null {
  return request.socket.remoteAddress?.replace(/^::ffff:/, "") ?? null;
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

export function currentSession(
  app: AppContext,
  context: RequestContext,
): { id: string; session: StoredSession } | undefined {
  const id = context.cookies.get(SESSION_COOKIE);
  if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
  const session = app.store.getSession(id);
  return session ? { id, session } : undefined;
}

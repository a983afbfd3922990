import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Application } from "../applications.ts";
import type { AppContext, Handler } from "../context.ts";
import { decodeFormComponent, HttpError, readForm, sendEmpty, sendJson, type Params } from "../http.ts";
import { ExpiringMap } from "../flows.ts";
import { secretsEqual } from "../passwords.ts";
import { claimsFor } from "../organizations.ts";
import { hashSecret, REFRESH_OVERLAP_MS, type RefreshGrant } from "../store.ts";
import {
  COOKIE_SAFE_TOKEN_BYTES,
  MANAGEMENT_SCOPES,
  managementAudience,
  signManagementToken,
  signUserTokens,
} from "../tokens.ts";

interface UserTokenResponse {
  access_token: string;
  expires_in: number;
  id_token: string;
  refresh_token?: string;
  scope: string;
  token_type: "bearer";
}

const BASIC_CHALLENGE = { "WWW-Authenticate": 'Basic realm="kinde-local"' };
const invalidRequest = (message: string) => new HttpError(400, "invalid_request", message);
const invalidGrant = (message: string) => new HttpError(400, "invalid_grant", message);
const unauthorizedClient = (message: string) => new HttpError(400, "unauthorized_client", message);

const TOKEN_PARAMETERS = [
  "grant_type",
  "client_id",
  "client_secret",
  "code",
  "redirect_uri",
  "code_verifier",
  "refresh_token",
  "scope",
  "audience",
] as const;

/** client_secret_post (what the Kinde SDK uses) or client_secret_basic. */
async function authenticateClient(app: AppContext, request: IncomingMessage, form: Params): Promise<Application> {
  const header = request.headers.authorization;
  const basic = header === undefined ? undefined : basicCredentials(header);
  const { client_id: formId, client_secret: formSecret } = form.pick(["client_id", "client_secret"]);
  if (basic && formSecret !== undefined) throw invalidRequest("Use only one client authentication method");
  if (basic && formId !== undefined && formId !== basic.id) {
    throw invalidRequest("client_id does not match the Authorization header");
  }
  const id = basic?.id ?? formId;
  const secret = basic?.secret ?? formSecret;
  const headers = basic ? BASIC_CHALLENGE : {};
  if (id === undefined) throw new HttpError(401, "invalid_client", "Client authentication is required", headers);
  const application = await app.applications.find(id);
  // Compared even for an unknown client, so timing does not tell which client ids exist.
  const expected = application?.clientSecret ?? "\u0000unknown client";
  const secretMatches = secret !== undefined && secretsEqual(secret, expected);
  if (!application || !secretMatches)
    throw new HttpError(401, "invalid_client", "Client authentication failed", headers);
  return application;
}

/** RFC 6749 section 2.3.1: the id and secret are form-encoded before base64. */
function basicCredentials(header: string): { id: string; secret: string } {
  const match = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  const decoded = match?.[1] ? Buffer.from(match[1], "base64").toString("utf8") : "";
  const colon = decoded.indexOf(":");
  try {
    if (colon > 0)
      return {
        id: decodeFormComponent(decoded.slice(0, colon)),
        secret: decodeFormComponent(decoded.slice(colon + 1)),
      };
  } catch {
    // Invalid percent-encoding: malformed, as below.
  }
  throw new HttpError(401, "invalid_client", "Malformed Authorization header", BASIC_CHALLENGE);
}

function verifierMatches(verifier: string, challenge: string): boolean {
  return createHash("sha256").update(verifier, "ascii").digest("base64url") === challenge;
}

/** Parallel requests holding the same old refresh token all receive the same new tokens. */
type RecentRefreshes = ExpiringMap<{
  expiresAt: number;
  familyId: string | undefined;
  response: Promise<UserTokenResponse>;
}>;

type Fields = Partial<Record<(typeof TOKEN_PARAMETERS)[number], string>>;

export function tokenRoutes(app: AppContext) {
  const recent: RecentRefreshes = new ExpiringMap(app.clock);
  return {
    async token({ request, response }) {
      const form = await readForm(request);
      const fields = form.pick(TOKEN_PARAMETERS);
      const client = await authenticateClient(app, request, form);
      const grantType = fields.grant_type;
      const userGrant = grantType === "authorization_code" || grantType === "refresh_token";
      if (userGrant && client.type !== "regular") {
        throw unauthorizedClient("A machine-to-machine application can only use client_credentials");
      }
      if (grantType === "client_credentials" && !client.managementApi) {
        throw unauthorizedClient("This application may not use the Management API (use an m2m application)");
      }
      let body: object;
      if (!grantType) throw invalidRequest("The grant_type parameter is required");
      else if (grantType === "authorization_code") body = await exchangeCode(app, recent, client.clientId, fields);
      else if (grantType === "refresh_token") body = await refresh(app, recent, client.clientId, fields);
      else if (grantType === "client_credentials") body = await clientCredentials(app, client, fields);
      else {
        const supported = "Supported: authorization_code, refresh_token, client_credentials";
        throw new HttpError(400, "unsupported_grant_type", supported);
      }
      sendJson(response, 200, body, { Pragma: "no-cache" });
    },

    /** RFC 7009: always 200 for a well-formed request, whether or not the token was known. */
    async revoke({ request, response }) {
      const form = await readForm(request);
      const { token } = form.pick(["token", "token_type_hint"]);
      await authenticateClient(app, request, form);
      if (!token) throw invalidRequest("The token parameter is required");
      // Access tokens are self-contained JWTs and cannot be revoked; they simply expire.
      const familyId = token.length <= 200 ? app.store.familyOf(token) : undefined;
      if (familyId !== undefined) {
        recent.deleteWhere((entry) => entry.familyId === familyId);
        await app.store.revokeFamily(familyId);
      }
      sendEmpty(response, 200);
    },
  } satisfies Record<string, Handler>;
}

function activeUser(app: AppContext, userId: string) {
  const user = app.store.getUser(userId);
  if (!user) throw invalidGrant("The user no longer exists");
  if (user.isSuspended) throw invalidGrant("The user is suspended");
  return user;
}

async function userTokenResponse(
  app: AppContext,
  grant: RefreshGrant,
  refreshToken: string | undefined,
  nonce?: string,
) {
  const user = activeUser(app, grant.userId);
  const claims = claimsFor(await app.config.current(), app.store, user, grant.orgCode);
  if (!claims) throw invalidGrant("The user is no longer a member of the organization they signed in to");
  const { accessToken, idToken } = await signUserTokens(app.key, {
    issuer: app.issuer,
    clientId: grant.clientId,
    user,
    claims,
    scope: grant.scope,
    audience: grant.audience,
    authTime: grant.authTime,
    nonce,
    lifetimes: app.lifetimes,
    now: app.clock(),
  });
  for (const [name, token] of [
    ["access", accessToken],
    ["ID", idToken],
  ] as const) {
    if (token.length > COOKIE_SAFE_TOKEN_BYTES) {
      app.log(
        `warning: the ${name} token is ${token.length} bytes; browsers drop cookies over 4096 bytes (trim config.json)`,
      );
    }
  }
  const response: UserTokenResponse = {
    access_token: accessToken,
    expires_in: app.lifetimes.access,
    id_token: idToken,
    ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
    scope: grant.scope.join(" "),
    token_type: "bearer",
  };
  return response;
}

async function exchangeCode(app: AppContext, recent: RecentRefreshes, clientId: string, fields: Fields) {
  const { code, redirect_uri: redirectUri, code_verifier: verifier } = fields;
  if (!code) throw invalidRequest("The code parameter is required");
  if (!redirectUri) throw invalidRequest("The redirect_uri parameter is required");
  const record = code.length <= 200 ? app.codes.get(code) : undefined;
  if (!record) throw invalidGrant("The authorization code is invalid or expired");
  const replayed = "The authorization code was already used; the tokens issued with it are revoked";
  if (record.used) {
    // RFC 6749 section 4.1.2: a replayed code may mean it leaked; revoke what it issued.
    app.codes.delete(code);
    recent.deleteWhere((entry) => entry.familyId === record.familyId);
    await app.store.revokeFamily(record.familyId);
    throw invalidGrant(replayed);
  }
  record.used = true;
  if (record.clientId !== clientId) throw invalidGrant("The authorization code was issued to another client");
  activeUser(app, record.userId);
  if (record.redirectUri !== redirectUri) throw invalidGrant("redirect_uri does not match the authorization request");
  if (record.codeChallenge !== undefined) {
    if (verifier === undefined || !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) {
      throw invalidGrant("A valid code_verifier is required");
    }
    if (!verifierMatches(verifier, record.codeChallenge)) throw invalidGrant("code_verifier does not match");
  } else if (verifier !== undefined) {
    throw invalidGrant("code_verifier given but the authorization request had no code_challenge");
  }
  const { userId, scope, audience, authTime, familyId, orgCode } = record;
  const grant: RefreshGrant = { userId, clientId, scope, audience, authTime, familyId, orgCode };
  // As on Kinde, a refresh token only for the offline scope.
  const refreshToken = scope.includes("offline") ? await app.store.issueRefreshToken(grant) : undefined;
  const response = await userTokenResponse(app, grant, refreshToken, record.nonce);
  if (!app.codes.get(code)) {
    // Replayed while we were issuing: the replay revoked the family, ours included.
    await app.store.revokeFamily(record.familyId);
    throw invalidGrant(replayed);
  }
  return response;
}

async function refresh(app: AppContext, recent: RecentRefreshes, clientId: string, fields: Fields) {
  const token = fields.refresh_token;
  if (!token) throw invalidRequest("The refresh_token parameter is required");
  const refused = "The refresh token is invalid, expired or already used";
  const key = `${clientId}:${hashSecret(token)}`;
  const now = app.clock();
  const answered = recent.get(key)?.response;
  if (answered) {
    // The token's record disappears when it is revoked (suspension, deletion, revoke).
    const owner = app.store.ownerOf(token);
    if (owner === undefined) {
      recent.delete(key);
      throw invalidGrant(refused);
    }
    activeUser(app, owner);
    return answered;
  }
  // Registered before any await, so a parallel request with the same token waits for
  // this answer instead of rotating again.
  const familyId = token.length <= 200 ? app.store.familyOf(token) : undefined;
  const response = (async () => {
    const rotated = token.length <= 200 ? await app.store.rotateRefreshToken(token, clientId) : undefined;
    if (rotated === "reused" && familyId !== undefined) {
      app.log("a refresh token was used again after its overlap: its family is revoked");
      recent.deleteWhere((entry) => entry.familyId === familyId);
    }
    if (!rotated || rotated === "reused") throw invalidGrant(refused);
    return userTokenResponse(app, rotated.grant, rotated.token);
  })();
  recent.set(key, { expiresAt: now + REFRESH_OVERLAP_MS, familyId, response });
  response.catch(() => recent.delete(key));
  return response;
}

async function clientCredentials(app: AppContext, client: Application, fields: Fields) {
  const audience = fields.audience;
  if (audience !== undefined && audience !== managementAudience(app.issuer)) {
    throw new HttpError(400, "invalid_target", `The only API here is ${managementAudience(app.issuer)}`);
  }
  const requested = fields.scope?.split(" ").filter(Boolean) ?? client.scopes;
  const known: readonly string[] = MANAGEMENT_SCOPES;
  if (!requested.every((scope) => known.includes(scope))) {
    throw new HttpError(400, "invalid_scope", `Supported scopes: ${MANAGEMENT_SCOPES.join(" ")}`);
  }
  if (!requested.every((scope) => client.scopes.includes(scope))) {
    throw new HttpError(400, "invalid_scope", `This application may have: ${client.scopes.join(" ")}`);
  }
  const scope = [...new Set(requested)];
  const lifetimeSeconds = app.lifetimes.access;
  const input = { issuer: app.issuer, clientId: client.clientId, scope, lifetimeSeconds, now: app.clock() };
  return {
    access_token: await signManagementToken(app.key, input),
    expires_in: lifetimeSeconds,
    scope: scope.join(" "),
    token_type: "bearer",
  };
}

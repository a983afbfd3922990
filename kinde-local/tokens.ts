import { createHash, randomUUID } from "node:crypto";
import { jwtVerify, SignJWT, type JWTPayload } from "jose";
import type { UserClaims } from "./config.ts";
import { SIGNING_ALGORITHM, type SigningKey } from "./keys.ts";
import type { StoredUser } from "./store.ts";

export type TokenLifetimes = Record<"access" | "id" | "refresh", number>;

/** What an ID token carries besides at_hash (nonce when the authorization request sent one); discovery lists them. */
export const ID_TOKEN_CLAIMS = [
  "aud",
  "auth_time",
  "azp",
  "email",
  "email_verified",
  "exp",
  "family_name",
  "given_name",
  "iat",
  "iss",
  "jti",
  "name",
  "nonce",
  "org_codes",
  "organizations",
  "picture",
  "sub",
  "updated_at",
];

export const DEFAULT_LIFETIMES: TokenLifetimes = { access: 86_400, id: 3_600, refresh: 1_296_000 };

/** The Remix SDK stores each token in its own cookie; browsers drop cookies over 4096 bytes. */
export const COOKIE_SAFE_TOKEN_BYTES = 3_800;

export interface UserTokenInput {
  issuer: string;
  clientId: string;
  user: StoredUser;
  claims: UserClaims;
  scope: string[];
  /** Requested API audiences; Kinde puts [] in the access token when there are none. */
  audience: string[];
  authTime: number;
  /** Only in the ID token of a code exchange. */
  nonce?: string | undefined;
  lifetimes: TokenLifetimes;
  now: number;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

export function displayName(user: Pick<StoredUser, "givenName" | "familyName">): string | null {
  const name = [user.givenName, user.familyName].filter(Boolean).join(" ");
  return name === "" ? null : name;
}

/** Webhook tokens too: like Kinde's, they have no iss, exp or aud. */
export async function signJwt(key: SigningKey, payload: JWTPayload): Promise<string> {
  // Header keys in this order; keys.ts checks that atob() can decode the result.
  return new SignJWT(payload)
    .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: "JWT" })
    .sign(key.privateKey);
}

/** OIDC Core 3.1.3.6: base64url of the left half of SHA-256 of the access token's ASCII. */
export function atHash(accessToken: string): string {
  const digest = createHash("sha256").update(accessToken, "ascii").digest();
  return digest.subarray(0, digest.length / 2).toString("base64url");
}

export async function signUserTokens(
  key: SigningKey,
  input: UserTokenInput,
): Promise<{ accessToken: string; idToken: string }> {
  const { issuer, clientId, user, claims, lifetimes } = input;
  const iat = seconds(input.now);
  const accessToken = await signJwt(key, {
    aud: input.audience,
    azp: clientId,
    exp: iat + lifetimes.access,
    feature_flags: claims.featureFlags,
    iat,
    iss: issuer,
    jti: randomUUID(),
    ...(claims.orgCode === null ? {} : { org_code: claims.orgCode, org_name: claims.orgName }),
    permissions: claims.permissions,
    roles: claims.roles,
    scp: input.scope,
    sub: user.id,
  });
  const idToken = await signJwt(key, {
    at_hash: atHash(accessToken),
    aud: [clientId],
    auth_time: seconds(input.authTime),
    azp: clientId,
    email: user.email,
    email_verified: true,
    exp: iat + lifetimes.id,
    family_name: user.familyName,
    given_name: user.givenName,
    iat,
    iss: issuer,
    jti: randomUUID(),
    name: displayName(user),
    ...(input.nonce === undefined ? {} : { nonce: input.nonce }),
    org_codes: claims.orgCodes,
    organizations: claims.organizations,
    picture: user.picture,
    sub: user.id,
    updated_at: seconds(Date.parse(user.updatedAt)),
  });
  return { accessToken, idToken };
}

export const MANAGEMENT_SCOPES = [
  "read:users",
  "create:users",
  "update:users",
  "delete:users",
  "read:organizations",
  "create:organizations",
  "update:organizations",
  "delete:organizations",
  "read:organization_users",
  "create:organization_users",
  "delete:organization_users",
  "read:organization_user_roles",
  "create:organization_user_roles",
] as const;

export function managementAudience(issuer: string): string {
  return `${issuer}/api`;
}

export async function signManagementToken(
  key: SigningKey,
  input: { issuer: string; clientId: string; scope: string[]; lifetimeSeconds: number; now: number },
): Promise<string> {
  const iat = seconds(input.now);
  return signJwt(key, {
    aud: [managementAudience(input.issuer)],
    azp: input.clientId,
    exp: iat + input.lifetimeSeconds,
    gty: ["client_credentials"],
    iat,
    iss: input.issuer,
    jti: randomUUID(),
    scp: input.scope,
  });
}

export async function verifyToken(
  key: SigningKey,
  token: string,
  options: { issuer: string; now: number; audience?: string },
): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, key.publicKey, {
    algorithms: [SIGNING_ALGORITHM],
    issuer: options.issuer,
    currentDate: new Date(options.now),
    ...(options.audience === undefined ? {} : { audience: options.audience }),
  });
  return payload;
}

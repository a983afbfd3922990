// The Kinde token cookies verified with jose and pinned to this application: docs/decisions/0016-pin-kinde-tokens.md.
import { compactVerify, createRemoteJWKSet, decodeJwt, errors, type JWTPayload } from "jose";
import { requestCookies } from "../http/cookies.server";
import { env } from "../config/env.server";

/** The issuer's signing keys, cached by jose; webhooks are verified with the same set. */
export const kindeJwks = createRemoteJWKSet(new URL(`${env.KINDE_ISSUER_URL}/.well-known/jwks.json`));

export interface VerifiedKindeTokens {
  access: JWTPayload;
  id: JWTPayload;
}

export type KindeTokenCheck =
  | { status: "valid"; tokens: VerifiedKindeTokens }
  | { status: "expired" }
  | { status: "rejected"; reason: string }
  | { status: "unavailable" };

export interface KindePins {
  issuer: string;
  clientId: string;
  audiences: readonly string[];
}

export const appPins: KindePins = {
  issuer: env.KINDE_ISSUER_URL,
  clientId: env.KINDE_CLIENT_ID,
  // The SDK sends KINDE_AUDIENCE as one `audience` parameter, so it is one audience.
  audiences: env.KINDE_AUDIENCE ? [env.KINDE_AUDIENCE] : [],
};

const audienceOf = (payload: JWTPayload): string[] =>
  typeof payload.aud === "string" ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];

/** Why this pair is not this application's, or null. The ID token's expiry is not checked, as the SDK does not. */
export function pinProblem(access: JWTPayload, id: JWTPayload, pins: KindePins): string | null {
  if (access.iss !== pins.issuer) return "access token from another issuer";
  if (access.azp !== pins.clientId) return "access token for another application";
  const accessAudience = audienceOf(access);
  if (!pins.audiences.every((audience) => accessAudience.includes(audience))) return "access token for another API";
  if (id.iss !== pins.issuer) return "ID token from another issuer";
  if (!audienceOf(id).includes(pins.clientId)) return "ID token for another application";
  if (id.azp !== undefined && id.azp !== pins.clientId) return "ID token for another application";
  if (typeof access.sub !== "string" || access.sub === "" || id.sub !== access.sub) return "tokens of two people";
  return null;
}

const accessExpired = (access: JWTPayload, now = Date.now()) =>
  typeof access.exp !== "number" || access.exp * 1000 <= now;

// A browser sends the same pair until a refresh, so verified pairs are remembered by their text (expiry still
// checked on each use). Only verified pairs enter and the map is bounded, so forged cookies cannot fill it.
const VERIFIED_CACHE_SIZE = 1_000;
const verifiedPairs = new Map<string, VerifiedKindeTokens>();

function rememberVerified(key: string, tokens: VerifiedKindeTokens): void {
  if (verifiedPairs.size >= VERIFIED_CACHE_SIZE) {
    const oldest = verifiedPairs.keys().next().value;
    if (oldest !== undefined) verifiedPairs.delete(oldest);
  }
  verifiedPairs.set(key, tokens);
}

// Failures that are the token's fault; anything else (timeout, network, a bad JWKS answer) is the keys'.
const TOKEN_FAULTS = [
  errors.JWSInvalid,
  errors.JWTInvalid,
  errors.JOSEAlgNotAllowed,
  errors.JOSENotSupported,
  errors.JWSSignatureVerificationFailed,
  errors.JWKSNoMatchingKey,
  errors.JWKSMultipleMatchingKeys,
  errors.JWKInvalid,
];

export async function checkKindeTokens(accessToken: string, idToken: string): Promise<KindeTokenCheck> {
  const key = `${accessToken} ${idToken}`;
  const known = verifiedPairs.get(key);
  if (known) {
    if (!accessExpired(known.access)) return { status: "valid", tokens: known };
    verifiedPairs.delete(key);
    return { status: "expired" };
  }
  let tokens: VerifiedKindeTokens;
  try {
    await Promise.all([
      compactVerify(accessToken, kindeJwks, { algorithms: ["RS256"] }),
      compactVerify(idToken, kindeJwks, { algorithms: ["RS256"] }),
    ]);
    tokens = { access: decodeJwt(accessToken), id: decodeJwt(idToken) };
  } catch (error) {
    if (!TOKEN_FAULTS.some((fault) => error instanceof fault)) return { status: "unavailable" };
    return { status: "rejected", reason: "not signed by the issuer's keys" };
  }
  const problem = pinProblem(tokens.access, tokens.id, appPins);
  if (problem) return { status: "rejected", reason: problem };
  if (accessExpired(tokens.access)) return { status: "expired" };
  rememberVerified(key, tokens);
  return { status: "valid", tokens };
}

// Without both there is nothing to refresh: the SDK needs the access token.
export function checkKindeCookies(request: Request): Promise<KindeTokenCheck> {
  const cookies = requestCookies(request);
  const accessToken = cookies.access_token;
  const idToken = cookies.id_token;
  if (!accessToken || !idToken) {
    return Promise.resolve({ status: "rejected", reason: "token cookies missing" });
  }
  return checkKindeTokens(accessToken, idToken);
}

/**
 * The fast path for "who is this?": verify the Kinde token cookies once per request with
 * jose (native RSA, JWKS cached per process) instead of through the SDK, whose helpers each
 * re-verify the signature with a pure-JavaScript RSA library.
 *
 * It accepts exactly what the SDK would accept without a refresh: an access token with a
 * valid RS256 signature from the issuer's keys that has not expired, and an ID token with a
 * valid signature (the SDK does not check the ID token's expiry). Anything else returns null
 * and the caller goes through the SDK, which refreshes or signs out and sets the cookies.
 */
import { compactVerify, createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from "jose";
import { env } from "./env.server";

/**
 * The issuer's signing keys, cached by jose (fetched again after 10 minutes, or at most every
 * 30 s when a token names a key id it does not know). Webhooks are verified with the same set.
 */
export const kindeJwks = createRemoteJWKSet(new URL(`${env.KINDE_ISSUER_URL}/.well-known/jwks.json`));

export interface VerifiedKindeTokens {
  access: JWTPayload;
  id: JWTPayload;
}

function readCookie(header: string, name: string): string | null {
  for (const part of header.split(";")) {
    const index = part.indexOf("=");
    if (index === -1 || part.slice(0, index).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(index + 1).trim());
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * Tokens that already passed the signature check, by their exact text: a browser sends the
 * same pair on every request until they are refreshed, and a signature cannot change its
 * verdict. Expiry is still checked on every use. Only verified tokens ever enter, and the
 * map is bounded (oldest dropped first), so it cannot be filled by forged cookies.
 */
const VERIFIED_CACHE_SIZE = 1_000;
const verifiedPairs = new Map<string, VerifiedKindeTokens>();

function rememberVerified(key: string, tokens: VerifiedKindeTokens): void {
  if (verifiedPairs.size >= VERIFIED_CACHE_SIZE) {
    const oldest = verifiedPairs.keys().next().value;
    if (oldest !== undefined) verifiedPairs.delete(oldest);
  }
  verifiedPairs.set(key, tokens);
}

function notExpired(tokens: VerifiedKindeTokens): boolean {
  return typeof tokens.access.exp === "number" && tokens.access.exp * 1000 > Date.now();
}

export async function verifyKindeCookies(request: Request): Promise<VerifiedKindeTokens | null> {
  const header = request.headers.get("Cookie") ?? "";
  const accessToken = readCookie(header, "access_token");
  const idToken = readCookie(header, "id_token");
  if (!accessToken || !idToken) return null;
  const key = `${accessToken} ${idToken}`;
  const known = verifiedPairs.get(key);
  if (known) {
    if (notExpired(known)) return known;
    verifiedPairs.delete(key);
    return null;
  }
  try {
    const [{ payload: access }] = await Promise.all([
      jwtVerify(accessToken, kindeJwks, { algorithms: ["RS256"] }),
      compactVerify(idToken, kindeJwks, { algorithms: ["RS256"] }),
    ]);
    const id = decodeJwt(idToken);
    if (typeof id.sub !== "string" || id.sub !== access.sub) return null;
    const tokens = { access, id };
    rememberVerified(key, tokens);
    return tokens;
  } catch {
    // Expired, forged, unknown key, garbage, or the issuer unreachable: let the SDK decide.
    return null;
  }
}

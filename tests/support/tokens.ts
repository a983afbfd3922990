// Tokens re-signed with the local Kinde server's key (time passing) or with keys and algorithms not Kinde's.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeJwt, decodeProtectedHeader, generateKeyPair, importJWK, SignJWT, type JWTPayload } from "jose";

export async function signWithKindeKey(kindeDataDir: string, claims: JWTPayload, kid?: string): Promise<string> {
  const file = JSON.parse(readFileSync(join(kindeDataDir, "signing-key.json"), "utf8")) as {
    kid: string;
    privateJwk: Record<string, string>;
  };
  const key = await importJWK({ ...file.privateJwk, alg: "RS256" }, "RS256");
  return new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: kid ?? file.kid, typ: "JWT" }).sign(key);
}

export async function signWithOtherKey(claims: JWTPayload, kid: string): Promise<string> {
  const { privateKey } = await generateKeyPair("RS256");
  return new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid, typ: "JWT" }).sign(privateKey);
}

export function unsigned(claims: JWTPayload): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode({ alg: "none", typ: "JWT" })}.${encode(claims)}.`;
}

export async function expired(kindeDataDir: string, token: string): Promise<string> {
  const claims = decodeJwt(token);
  const now = Math.floor(Date.now() / 1000);
  return signWithKindeKey(
    kindeDataDir,
    { ...claims, iat: now - 7200, exp: now - 60 },
    decodeProtectedHeader(token).kid,
  );
}

export { decodeJwt };

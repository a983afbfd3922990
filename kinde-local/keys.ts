import { randomBytes } from "node:crypto";
import { chmod } from "node:fs/promises";
import { join } from "node:path";
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from "jose";
import { z } from "zod";
import { readJsonFile, writeFileAtomic } from "./files.ts";

export const SIGNING_ALGORITHM = "RS256";
export const KEY_FILE = "signing-key.json";

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: { kty: "RSA"; use: "sig"; alg: typeof SIGNING_ALGORITHM; kid: string; n: string; e: string };
}

const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/);

const keyFileSchema = z.object({
  kid: z.string().regex(/^[A-Za-z0-9:]{1,100}$/, "must be ASCII letters, digits and colons"),
  createdAt: z.string(),
  privateJwk: z.object({
    kty: z.literal("RSA"),
    n: base64url,
    e: base64url,
    d: base64url,
    p: base64url,
    q: base64url,
    dp: base64url,
    dq: base64url,
    qi: base64url,
  }),
});

/** Kept in the data folder: the Kinde SDK caches the JWKS for the life of the app process. */
export async function loadOrCreateSigningKey(dataDir: string): Promise<SigningKey> {
  const path = join(dataDir, KEY_FILE);
  const file = await readJsonFile(path, keyFileSchema, "signing key file", "delete it to make a new key");
  if (file === undefined) {
    const created = await generateSigningKey();
    await writeFileAtomic(path, `${JSON.stringify(created.file, null, 2)}\n`, 0o600);
    return created.key;
  }
  assertHeaderDecodableWithAtob(file.kid);
  // Tighten permissions in case the file was copied around with a looser mode.
  await chmod(path, 0o600);
  return importSigningKey(file.kid, file.privateJwk);
}

async function generateSigningKey() {
  const { privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { modulusLength: 2048, extractable: true });
  const privateJwk = await exportJWK(privateKey);
  const kid = newKid();
  const parsedJwk = keyFileSchema.shape.privateJwk.parse(privateJwk);
  return {
    file: { kid, createdAt: new Date().toISOString(), privateJwk: parsedJwk },
    key: await importSigningKey(kid, parsedJwk),
  };
}

/** Kinde's JWT validator decodes the header with atob(), which rejects `-` and `_`: hex and colons never make them. */
function newKid(): string {
  const kid = (randomBytes(16).toString("hex").match(/../g) ?? []).join(":");
  assertHeaderDecodableWithAtob(kid);
  return kid;
}

export function assertHeaderDecodableWithAtob(kid: string): void {
  const header = Buffer.from(JSON.stringify({ alg: SIGNING_ALGORITHM, kid, typ: "JWT" })).toString("base64url");
  if (/[-_]/.test(header)) {
    throw new Error(`The key id ${kid} would make JWT headers that Kinde's validator cannot decode`);
  }
}

async function importSigningKey(kid: string, privateJwk: JWK): Promise<SigningKey> {
  const { n, e } = privateJwk;
  if (!n || !e) throw new Error("The signing key has no modulus or exponent");
  const publicJwk = { kty: "RSA", use: "sig", alg: SIGNING_ALGORITHM, kid, n, e } as const;
  // An RSA JWK always imports as a CryptoKey (only symmetric keys come back as bytes).
  const privateKey = (await importJWK(privateJwk, SIGNING_ALGORITHM)) as CryptoKey;
  const publicKey = (await importJWK({ kty: "RSA", n, e }, SIGNING_ALGORITHM)) as CryptoKey;
  return { kid, privateKey, publicKey, publicJwk };
}

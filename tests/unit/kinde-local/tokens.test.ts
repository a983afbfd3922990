import { createHash } from "node:crypto";
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { resolveUserClaims, parseClaimsConfig } from "../../../kinde-local/config.ts";
import { KEY_FILE, loadOrCreateSigningKey, type SigningKey } from "../../../kinde-local/keys.ts";
import type { StoredUser } from "../../../kinde-local/store.ts";
import { buildEvent, webhookUser } from "../../../kinde-local/webhook-events.ts";
import {
  atHash,
  COOKIE_SAFE_TOKEN_BYTES,
  DEFAULT_LIFETIMES,
  ID_TOKEN_CLAIMS,
  managementAudience,
  signManagementToken,
  signUserTokens,
  verifyToken,
} from "../../../kinde-local/tokens.ts";

const ISSUER = "http://localhost:3001";
const CLIENT_ID = "0123456789abcdef0123456789abcdef";
const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);

const ROLES = [
  { id: "role_1", key: "member", name: "Member", permissions: ["read:profile"] },
  { id: "role_2", key: "admin", name: "Admin", permissions: ["read:profile"] },
];
const config = parseClaimsConfig(
  {
    organizations: [{ code: "org_0123456789a", name: "Demo Org" }],
    roles: ROLES,
    defaults: {
      org_code: "org_0123456789a",
      permissions: ["read:profile"],
      roles: ["member"],
      feature_flags: { theme: { t: "s", v: "pink" }, is_dark_mode: { t: "b", v: false } },
    },
  },
  "test",
);

const user: StoredUser = {
  id: "kp_0123456789abcdef0123456789abcdef",
  email: "ada@example.com",
  givenName: "Ada",
  familyName: "Lovelace",
  passwordHash: "scrypt$16384$8$1$c2FsdA$aGFzaA",
  picture: null,
  providedId: null,
  isSuspended: false,
  isPasswordResetRequested: false,
  createdAt: new Date(NOW - 60_000).toISOString(),
  updatedAt: new Date(NOW - 30_000).toISOString(),
  lastSignedInAt: null,
  signInCount: 0,
  failedSignInCount: 0,
};

let key: SigningKey;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "kinde-local-keys-"));
  key = await loadOrCreateSigningKey(dataDir);
});

function issue(overrides: Partial<Parameters<typeof signUserTokens>[1]> = {}) {
  return signUserTokens(key, {
    issuer: ISSUER,
    clientId: CLIENT_ID,
    user,
    claims: resolveUserClaims(config, user.email),
    scope: ["openid", "profile", "email", "offline"],
    audience: [],
    authTime: NOW - 5_000,
    lifetimes: DEFAULT_LIFETIMES,
    now: NOW,
    ...overrides,
  });
}

const verifyAt = (token: string) =>
  jwtVerify(token, createLocalJWKSet({ keys: [key.publicJwk] }), { issuer: ISSUER, currentDate: new Date(NOW) });

describe("signing key", () => {
  it("is stored with mode 0600 and reloaded with the same kid", async () => {
    const info = await stat(join(dataDir, KEY_FILE));
    expect(info.mode & 0o777).toBe(0o600);
    const again = await loadOrCreateSigningKey(dataDir);
    expect(again.kid).toBe(key.kid);
    expect(again.publicJwk).toEqual(key.publicJwk);
  });

  it("publishes only public RSA parts, with use sig and a plain ASCII kid", () => {
    expect(Object.keys(key.publicJwk).sort()).toEqual(["alg", "e", "kid", "kty", "n", "use"]);
    expect(key.publicJwk).toMatchObject({ kty: "RSA", use: "sig", alg: "RS256", e: "AQAB" });
    expect(key.kid).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2})+$/);
    // 2048-bit modulus: 256 bytes.
    expect(Buffer.from(key.publicJwk.n, "base64url")).toHaveLength(256);
  });

  it("refuses a corrupted key file with a clear message", async () => {
    const broken = await mkdtemp(join(tmpdir(), "kinde-local-keys-"));
    await writeFile(join(broken, KEY_FILE), "{not json");
    await expect(loadOrCreateSigningKey(broken)).rejects.toThrow(/not valid JSON/);
    expect(await readFile(join(broken, KEY_FILE), "utf8")).toBe("{not json");
  });
});

describe("user tokens", () => {
  it("have Kinde's header, decodable with plain atob like @kinde/jwt-validator does", async () => {
    const { accessToken, idToken } = await issue();
    for (const token of [accessToken, idToken]) {
      expect(decodeProtectedHeader(token)).toEqual({ alg: "RS256", kid: key.kid, typ: "JWT" });
      const [header] = token.split(".");
      expect(JSON.parse(atob(header ?? ""))).toMatchObject({ kid: key.kid });
    }
  });

  it("access token carries exactly Kinde's claims", async () => {
    const { accessToken } = await issue();
    const { payload } = await verifyAt(accessToken);
    expect(payload).toEqual({
      aud: [],
      azp: CLIENT_ID,
      iss: ISSUER,
      sub: user.id,
      scp: ["openid", "profile", "email", "offline"],
      org_code: "org_0123456789a",
      org_name: "Demo Org",
      permissions: ["read:profile"],
      roles: [{ id: "role_1", key: "member", name: "Member" }],
      feature_flags: { theme: { t: "s", v: "pink" }, is_dark_mode: { t: "b", v: false } },
      jti: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/) as string,
      iat: NOW / 1000,
      exp: NOW / 1000 + DEFAULT_LIFETIMES.access,
    });
  });

  it("puts a requested audience in the access token", async () => {
    const { accessToken } = await issue({ audience: ["https://api.example.com"] });
    const { payload } = await verifyAt(accessToken);
    expect(payload.aud).toEqual(["https://api.example.com"]);
  });

  it("ID token carries the profile, org codes and a correct at_hash", async () => {
    const { accessToken, idToken } = await issue();
    const { payload } = await verifyAt(idToken);
    // Exactly what discovery advertises, at_hash added and no nonce (none was asked for).
    const advertised = ID_TOKEN_CLAIMS.filter((claim) => claim !== "nonce");
    expect(Object.keys(payload).sort()).toEqual([...advertised, "at_hash"].sort());
    expect(payload).toMatchObject({
      aud: [CLIENT_ID],
      azp: CLIENT_ID,
      email: "ada@example.com",
      email_verified: true,
      given_name: "Ada",
      family_name: "Lovelace",
      name: "Ada Lovelace",
      picture: null,
      sub: user.id,
      org_codes: ["org_0123456789a"],
      auth_time: (NOW - 5_000) / 1000,
      updated_at: Math.floor(Date.parse(user.updatedAt) / 1000),
    });
    expect(payload.exp).toBe(NOW / 1000 + DEFAULT_LIFETIMES.id);
    const digest = createHash("sha256").update(accessToken).digest();
    expect(payload.at_hash).toBe(digest.subarray(0, 16).toString("base64url"));
    expect(atHash(accessToken)).toBe(payload.at_hash);
  });

  it("gives null names for a user who entered none", async () => {
    const { idToken } = await issue({ user: { ...user, givenName: null, familyName: null } });
    const { payload } = await verifyAt(idToken);
    expect(payload).toMatchObject({ given_name: null, family_name: null, name: null });
  });

  it("honours configured lifetimes", async () => {
    const { accessToken, idToken } = await issue({ lifetimes: { access: 60, id: 30, refresh: 90 } });
    expect((await verifyAt(accessToken)).payload.exp).toBe(NOW / 1000 + 60);
    expect((await verifyAt(idToken)).payload.exp).toBe(NOW / 1000 + 30);
  });

  it("stays well under the 4 KB cookie limit, even with non-ASCII names", async () => {
    const { accessToken, idToken } = await issue({ user: { ...user, givenName: "Zoë", familyName: "Ångström-Øre" } });
    expect(accessToken.length).toBeLessThan(COOKIE_SAFE_TOKEN_BYTES / 2);
    expect(idToken.length).toBeLessThan(COOKIE_SAFE_TOKEN_BYTES / 2);
    const { payload } = await verifyAt(idToken);
    expect(payload.family_name).toBe("Ångström-Øre");
  });

  it("stays under the cookie limit for a person in ten organizations with 100-character ASCII names", async () => {
    const organizations = Array.from({ length: 10 }, (_, index) => ({
      id: `org_${index.toString(16).padStart(11, "0")}`,
      name: "x".repeat(100),
    }));
    const base = resolveUserClaims(config, user.email);
    const claims = { ...base, orgCodes: organizations.map((organization) => organization.id), organizations };
    const { accessToken, idToken } = await issue({ claims });
    expect(accessToken.length).toBeLessThan(COOKIE_SAFE_TOKEN_BYTES);
    expect(idToken.length).toBeLessThan(COOKIE_SAFE_TOKEN_BYTES);
  });

  it("omits org_code and org_name for a person in no organization", async () => {
    const claims = { ...resolveUserClaims(config, user.email), orgCode: null, orgName: null, orgCodes: [] };
    const { accessToken } = await issue({ claims: { ...claims, organizations: [], permissions: [], roles: [] } });
    const { payload } = await verifyAt(accessToken);
    expect(payload).not.toHaveProperty("org_code");
    expect(payload).not.toHaveProperty("org_name");
  });

  it("verifyToken checks expiry, issuer and signature", async () => {
    const { accessToken } = await issue({ lifetimes: { access: 60, id: 60, refresh: 60 } });
    await expect(verifyToken(key, accessToken, { issuer: ISSUER, now: NOW + 30_000 })).resolves.toMatchObject({
      sub: user.id,
    });
    await expect(verifyToken(key, accessToken, { issuer: ISSUER, now: NOW + 61_000 })).rejects.toThrow();
    await expect(verifyToken(key, accessToken, { issuer: "http://evil.example", now: NOW })).rejects.toThrow();
    const [header, payload, signature] = accessToken.split(".");
    const tampered = `${header}.${payload}x.${signature}`;
    await expect(verifyToken(key, tampered, { issuer: ISSUER, now: NOW })).rejects.toThrow();
  });
});

describe("management tokens", () => {
  it("are for the API audience, with no user", async () => {
    const token = await signManagementToken(key, {
      issuer: ISSUER,
      clientId: CLIENT_ID,
      scope: ["read:users"],
      lifetimeSeconds: 600,
      now: NOW,
    });
    const { payload } = await verifyAt(token);
    expect(payload).toMatchObject({
      aud: [managementAudience(ISSUER)],
      azp: CLIENT_ID,
      gty: ["client_credentials"],
      scp: ["read:users"],
      exp: NOW / 1000 + 600,
    });
    expect(payload.sub).toBeUndefined();
    expect(managementAudience(ISSUER)).toBe("http://localhost:3001/api");
  });
});

describe("webhook payloads", () => {
  it("carry Kinde's user fields; roles and permissions only for the current organization", () => {
    const twoOrgs = parseClaimsConfig(
      {
        organizations: [
          { code: "org_a", name: "A" },
          { code: "org_b", name: "B" },
        ],
        roles: ROLES,
        defaults: {
          org_code: "org_a",
          org_codes: ["org_a", "org_b"],
          permissions: ["read:profile"],
          roles: ["member"],
        },
      },
      "test",
    );
    const suspended = { ...user, givenName: null, isSuspended: true };
    const payloadUser = webhookUser(suspended, resolveUserClaims(twoOrgs, user.email));
    expect(payloadUser).toEqual({
      email: "ada@example.com",
      first_name: "",
      id: user.id,
      is_password_reset_requested: false,
      is_suspended: true,
      last_name: "Lovelace",
      organizations: [
        {
          code: "org_a",
          permissions: [{ id: expect.stringMatching(/^perm_[0-9a-f]{16}$/) as string, key: "read:profile" }],
          roles: ["member"],
        },
        { code: "org_b", permissions: null, roles: null },
      ],
      phone: null,
      username: null,
    });
    const event = buildEvent("user.updated", "api", { user: payloadUser }, Date.UTC(2026, 10, 29, 12, 0, 0, 7));
    expect(event).toMatchObject({ source: "api", type: "user.updated", timestamp: "2026-11-29T12:00:00.007Z" });
    expect(event.event_id).toMatch(/^event_[0-9a-f]{32}$/);
  });
});

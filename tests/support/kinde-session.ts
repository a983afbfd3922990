// Users made through the Management API, Kinde cookies minted with the server's key. No refresh token: they live a day.
import { decodeJwt } from "jose";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseClaimsConfig, resolveUserClaims, type UserClaims } from "../../kinde-local/config.ts";
import { loadOrCreateSigningKey } from "../../kinde-local/keys.ts";
import type { StoredUser } from "../../kinde-local/store.ts";
import { DEFAULT_LIFETIMES, signJwt, signUserTokens } from "../../kinde-local/tokens.ts";
import { ROOT } from "./app-process.ts";
import { TestBrowser } from "./browser.ts";
import type { Person } from "./people.ts";
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET } from "./test-env.ts";

export interface KindeTarget {
  issuerUrl: string;
  kindeDataDir: string;
}

type NewKindeUser = Omit<Person, "password">;

export const SDK_SCOPES = ["openid", "profile", "email", "offline"];

export async function kindeAdmin(target: Pick<KindeTarget, "issuerUrl">) {
  const { access_token: token, error } = await tokenRequest(target, {
    grant_type: "client_credentials",
    client_id: TEST_CLIENT_ID,
    client_secret: TEST_CLIENT_SECRET,
    audience: `${target.issuerUrl}/api`,
  });
  if (!token) throw new Error(`Management API token: ${error}`);
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${target.issuerUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<Record<string, unknown>>;
  };
  const userPath = (id: string) => `/api/v1/user?id=${encodeURIComponent(id)}`;
  return {
    async createUser(user: { email: string; givenName?: string; familyName?: string; picture?: string }) {
      const created = await call("POST", "/api/v1/user", {
        profile: { given_name: user.givenName, family_name: user.familyName, picture: user.picture },
        identities: [{ type: "email", details: { email: user.email } }],
      });
      return String(created.id);
    },
    async updateUser(
      id: string,
      changes: { given_name?: string; family_name?: string; picture?: string | null; is_suspended?: boolean },
    ): Promise<void> {
      await call("PATCH", userPath(id), changes);
    },
    async deleteUser(id: string): Promise<void> {
      await call("DELETE", userPath(id));
    },
    async createOrganization(name: string): Promise<string> {
      const created = (await call("POST", "/api/v1/organization", { name })) as { organization: { code: string } };
      return created.organization.code;
    },
    async renameOrganization(code: string, name: string): Promise<void> {
      await call("PATCH", `/api/v1/organization/${code}`, { name });
    },
    async deleteOrganization(code: string): Promise<void> {
      await call("DELETE", `/api/v1/organization/${code}`);
    },
    async addMembers(code: string, users: { id: string; roles?: string[] }[]): Promise<void> {
      await call("POST", `/api/v1/organizations/${code}/users`, { users });
    },
    async removeMember(code: string, userId: string): Promise<void> {
      await call("DELETE", `/api/v1/organizations/${code}/users/${userId}`);
    },
    async listUsers(): Promise<KindeListedUser[]> {
      const users: KindeListedUser[] = [];
      let next: string | null = null;
      do {
        const query = new URLSearchParams({ page_size: "500", ...(next ? { next_token: next } : {}) });
        const page = (await call("GET", `/api/v1/users?${query}`)) as ListPage;
        users.push(...page.users);
        next = page.next_token;
      } while (next);
      return users;
    },
  };
}

export interface KindeListedUser {
  id: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
  picture: string | null;
  is_suspended: boolean;
}

type ListPage = { users: KindeListedUser[]; next_token: string | null };

export interface MintOptions {
  clientId?: string;
  /** What the SDK asked for with KINDE_AUDIENCE; [] by default. */
  audience?: string[];
  issuer?: string;
  accessExpiresIn?: number;
  /** Issued this many seconds ago (a session signed in earlier); an expired one: an hour ago. */
  issuedSecondsAgo?: number;
  /** In place of what kinde-local/config.json gives the user (org_code, org_codes, roles...). */
  claims?: Partial<UserClaims>;
  /** Added to the ID token, e.g. `organizations: [{id, name}]`. */
  idTokenClaims?: Record<string, unknown>;
}

export async function mintKindeTokens(
  target: KindeTarget,
  user: NewKindeUser & { id: string },
  options: MintOptions = {},
): Promise<{ accessToken: string; idToken: string }> {
  const key = await loadOrCreateSigningKey(target.kindeDataDir);
  const configPath = join(ROOT, "kinde-local/config.json");
  const config = parseClaimsConfig(JSON.parse(readFileSync(configPath, "utf8")), configPath);
  const now = Date.now();
  const stored: StoredUser = {
    id: user.id,
    email: user.email.toLowerCase(),
    givenName: user.firstName || null,
    familyName: user.lastName || null,
    passwordHash: null,
    picture: null,
    providedId: null,
    isSuspended: false,
    isPasswordResetRequested: false,
    createdAt: new Date(now).toISOString(),
    updatedAt: new Date(now).toISOString(),
    lastSignedInAt: null,
    signInCount: 0,
    failedSignInCount: 0,
  };
  const expiresIn = options.accessExpiresIn ?? DEFAULT_LIFETIMES.access;
  const issuedAt = now - (options.issuedSecondsAgo ?? (expiresIn > 0 ? 0 : 3_600)) * 1000;
  const tokens = await signUserTokens(key, {
    issuer: options.issuer ?? target.issuerUrl,
    clientId: options.clientId ?? TEST_CLIENT_ID,
    user: stored,
    claims: { ...resolveUserClaims(config, stored.email), ...options.claims },
    scope: SDK_SCOPES,
    audience: options.audience ?? [],
    authTime: issuedAt,
    lifetimes: { ...DEFAULT_LIFETIMES, access: Math.round((now + expiresIn * 1000 - issuedAt) / 1000) },
    now: issuedAt,
  });
  if (!options.idTokenClaims) return tokens;
  return { ...tokens, idToken: await signJwt(key, { ...decodeJwt(tokens.idToken), ...options.idTokenClaims }) };
}

export async function mintKindeSession(target: KindeTarget, user: NewKindeUser, options: MintOptions = {}) {
  const kindeId = await (
    await kindeAdmin(target)
  ).createUser({ email: user.email, givenName: user.firstName, familyName: user.lastName });
  const { accessToken, idToken } = await mintKindeTokens(target, { ...user, id: kindeId }, options);
  return {
    kindeId,
    cookies: [
      { name: "access_token", value: accessToken },
      { name: "id_token", value: idToken },
    ],
  };
}

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

/** The authorization-code flow as any of the server's applications' SDK runs it: sign up on its page, exchange the code. */
export async function tokensFromCodeFlow(
  target: Pick<KindeTarget, "issuerUrl">,
  client: OAuthClient,
  person: Person,
  options: { audience?: string } = {},
): Promise<{ accessToken: string; idToken: string; refreshToken: string }> {
  const browser = new TestBrowser();
  const authorize = new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    response_type: "code",
    scope: SDK_SCOPES.join(" "),
    state: randomBytes(14).toString("hex"),
    start_page: "registration",
    ...(options.audience ? { audience: options.audience } : {}),
  });
  const form = await browser.get(`${target.issuerUrl}/oauth2/auth?${authorize}`);
  const answer = await browser.submitForm(
    form,
    {
      p_first_name: person.firstName,
      p_last_name: person.lastName,
      p_email: person.email,
      p_password: person.password,
    },
    { follow: false },
  );
  const code = new URL(answer.headers.get("Location") ?? "", target.issuerUrl).searchParams.get("code");
  if (!code) throw new Error(`no code after signing up: ${answer.status} ${answer.headers.get("Location")}`);
  const tokens = await tokenRequest(target, {
    grant_type: "authorization_code",
    client_id: client.clientId,
    client_secret: client.clientSecret,
    redirect_uri: client.redirectUri,
    code,
  });
  if (!tokens.access_token || !tokens.id_token || !tokens.refresh_token) {
    throw new Error(`code exchange failed: ${JSON.stringify(tokens)}`);
  }
  return { accessToken: tokens.access_token, idToken: tokens.id_token, refreshToken: tokens.refresh_token };
}

export async function tokenRequest(
  target: Pick<KindeTarget, "issuerUrl">,
  fields: Record<string, string>,
): Promise<Record<string, string | undefined>> {
  const response = await fetch(`${target.issuerUrl}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
  });
  return (await response.json()) as Record<string, string | undefined>;
}

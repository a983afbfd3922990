/**
 * The sign-up and sign-in steps a person takes, over HTTP. They only use Kinde's field names
 * (p_email, p_password, p_first_name, p_last_name), like the Playwright helpers.
 *
 * signUp and signIn return once the local Kinde server's webhooks about them (user.created,
 * user.authenticated) have reached the app, so nothing a test reads next depends on when
 * those arrive.
 */
import Database from "better-sqlite3";
import { randomUUID } from "node:crypto";
import type { Stack } from "../../stack";
import { TestBrowser, type Page } from "../../stack/browser";
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET } from "./test-env";

export interface Person {
  email: string;
  password: string;
  firstName: string;
  lastName: string;
}

export function newPerson(overrides: Partial<Person> = {}): Person {
  const id = randomUUID().slice(0, 8);
  return {
    email: `user-${id}@example.com`,
    password: "correct horse battery",
    firstName: "Ada",
    lastName: `Lovelace-${id}`,
    ...overrides,
  };
}

export async function signUp(
  stack: Stack,
  person: Person,
  browser = new TestBrowser(),
): Promise<{ browser: TestBrowser; page: Page }> {
  const form = await browser.get(`${stack.appUrl}/kinde-auth/register`);
  const page = await browser.submitForm(form, {
    p_first_name: person.firstName,
    p_last_name: person.lastName,
    p_email: person.email,
    p_password: person.password,
  });
  await stack.webhooksSettled();
  return { browser, page };
}

export async function signIn(
  stack: Stack,
  person: Pick<Person, "email" | "password">,
  browser = new TestBrowser(),
  start = "/kinde-auth/login",
): Promise<{ browser: TestBrowser; page: Page }> {
  const form = await browser.get(`${stack.appUrl}${start}`);
  const page = await browser.submitForm(form, { p_email: person.email, p_password: person.password });
  await stack.webhooksSettled();
  return { browser, page };
}

export async function signOut(stack: Stack, browser: TestBrowser): Promise<Page> {
  return browser.request(`${stack.appUrl}/kinde-auth/logout`, {
    method: "POST",
    headers: { Origin: stack.appUrl, "Content-Type": "application/x-www-form-urlencoded" },
    body: "",
  });
}

export interface UserRow {
  id: number;
  kindeId: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  picture: string | null;
  createdAt: number | string;
  updatedAt: number | string;
  lastSignInAt: number | string | null;
  nameEditedAt: number | string | null;
  suspendedAt: number | string | null;
  kindeSyncedAt: number | string | null;
  kindeSyncedFrom: string | null;
}

/** Reads the database directly (read-only), the way a person with a SQL shell would. */
export function queryDatabase<T>(databaseFile: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(databaseFile, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Prisma keeps DateTime as ISO text or epoch milliseconds depending on the adapter. */
export function timeOf(value: number | string | null): number {
  if (value === null) return Number.NaN;
  if (typeof value === "number") return value;
  return /^\d+$/.test(value) ? Number(value) : Date.parse(value);
}

export function usersIn(databaseFile: string): UserRow[] {
  return queryDatabase<UserRow>(databaseFile, "SELECT * FROM User ORDER BY id");
}

export function runSql(databaseFile: string, sql: string, ...params: unknown[]): void {
  const db = new Database(databaseFile, { fileMustExist: true });
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

/** Kinde's Management API on the local server, with the app's own client: what an admin at Kinde does. */
export async function kindeAdmin(stack: Pick<Stack, "issuerUrl">) {
  const tokenResponse = await fetch(`${stack.issuerUrl}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: TEST_CLIENT_ID,
      client_secret: TEST_CLIENT_SECRET,
      audience: `${stack.issuerUrl}/api`,
    }),
  });
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
  const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
  const userUrl = (id: string) => `${stack.issuerUrl}/api/v1/user?id=${encodeURIComponent(id)}`;
  const call = async (what: string, url: string, init: RequestInit): Promise<Response> => {
    const response = await fetch(url, { ...init, headers });
    if (!response.ok) throw new Error(`${what}: ${response.status} ${await response.text()}`);
    return response;
  };
  return {
    async updateUser(
      id: string,
      changes: { given_name?: string; family_name?: string; picture?: string | null; is_suspended?: boolean },
    ): Promise<void> {
      await call("PATCH user", userUrl(id), { method: "PATCH", body: JSON.stringify(changes) });
    },
    async deleteUser(id: string): Promise<void> {
      await call("DELETE user", userUrl(id), { method: "DELETE" });
    },
    /** POST /api/v1/user with Kinde's body; the new user's id. */
    async createUser(user: { email: string; givenName?: string; familyName?: string; picture?: string }) {
      const response = await call("POST user", `${stack.issuerUrl}/api/v1/user`, {
        method: "POST",
        body: JSON.stringify({
          profile: { given_name: user.givenName, family_name: user.familyName, picture: user.picture },
          identities: [{ type: "email", details: { email: user.email } }],
        }),
      });
      return ((await response.json()) as { id: string }).id;
    },
  };
}

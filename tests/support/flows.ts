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
import type { Stack } from "./stack.ts";
import { TestBrowser, type Page } from "./browser";
import { kindeAdmin, mintKindeSession } from "./kinde-session";

export { kindeAdmin };

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
  // false for a sign-up the app cannot complete (its database down): the events wait too.
  { waitForKindeEvents = true } = {},
): Promise<{ browser: TestBrowser; page: Page }> {
  const form = await browser.get(`${stack.appUrl}/kinde-auth/register`);
  const page = await browser.submitForm(form, {
    p_first_name: person.firstName,
    p_last_name: person.lastName,
    p_email: person.email,
    p_password: person.password,
  });
  if (waitForKindeEvents) await stack.webhooksSettled();
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

/**
 * A person signed in without the forms (kinde-session.ts): created at the local Kinde server,
 * the Kinde cookies minted, then /auth/success stores them as a real sign-in would. Ends on
 * the dashboard, once Kinde's user.created has reached the app. For tests that are not about
 * signing in.
 */
export async function signInAs(
  stack: Stack,
  overrides: Partial<Person> = {},
): Promise<{ browser: TestBrowser; page: Page; person: Person; kindeId: string }> {
  const person = newPerson(overrides);
  const { kindeId, cookies } = await mintKindeSession(stack, person);
  const browser = new TestBrowser();
  for (const { name, value } of cookies) await browser.setCookie(stack.appUrl, name, value);
  const page = await browser.get(`${stack.appUrl}/auth/success`);
  if (page.url !== `${stack.appUrl}/dashboard`) throw new Error(`signInAs ended on ${page.url} (${page.status})`);
  // Kinde's user.created about them has reached the app too.
  await stack.webhooksSettled();
  return { browser, page, person, kindeId };
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

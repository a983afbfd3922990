// Organizations in tests: made-up Kinde codes and roles, a sign-in with minted organization claims, and the
// memberships a stack's database holds.
import { expect } from "vitest";
import { TestBrowser } from "./browser.ts";
import type { StackDatabase } from "./database-access.ts";
import { mintKindeTokens, type MintOptions } from "./kinde-session.ts";
import type { Person } from "./people.ts";
import type { Stack } from "./stack.ts";

export const role = (key: string) => ({ id: `role_${key.padEnd(16, "0")}`, key, name: key });

let orgCounter = 0;
export const newOrgCode = () =>
  `org_${Date.now().toString(16).slice(-8)}${(++orgCounter).toString(16).padStart(3, "0")}`;

export const membershipsOf = (database: StackDatabase, kindeId: string) =>
  database.query<{ kindeCode: string; name: string | null; roles: string | null }>(
    `SELECT o."kindeCode", o."name", m."roles" FROM "Membership" m
     JOIN "Organization" o ON o."id" = m."organizationId" JOIN "User" u ON u."id" = m."userId"
     WHERE u."kindeId" = ? ORDER BY o."kindeCode"`,
    kindeId,
  );

/** A new browser whose minted tokens go through /auth/success, as a sign-in's would. */
export async function signInAgain(stack: Stack, person: Person, kindeId: string, options: MintOptions): Promise<void> {
  const { accessToken, idToken } = await mintKindeTokens(stack, { ...person, id: kindeId }, options);
  const browser = new TestBrowser();
  await browser.setCookie(stack.appUrl, "access_token", accessToken);
  await browser.setCookie(stack.appUrl, "id_token", idToken);
  const page = await browser.get(`${stack.appUrl}/auth/success`);
  expect(page.url).toBe(`${stack.appUrl}/dashboard`);
}

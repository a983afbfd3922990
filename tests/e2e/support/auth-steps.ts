// A person's steps in the browser. Kinde's pages by Kinde's own field names only: signIn also works on real Kinde.
import { expect, type Locator, type Page } from "@playwright/test";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { newPerson, type Person } from "../../support/people.ts";
import { mintKindeSession } from "../../support/kinde-session.ts";
import { e2eTarget, NEEDS_LOCAL_STACK } from "./env";
import { kindeEventsDelivered } from "./kinde";

export { newPerson, type Person };

export function adminEmailSuffix(permission = "read:users"): string {
  const config = JSON.parse(readFileSync("kinde-local/config.json", "utf8")) as {
    rules?: { emailEndsWith?: string; permissions?: string[] }[];
  };
  const rule = config.rules?.find(
    (candidate) => candidate.permissions?.includes(permission) && candidate.emailEndsWith,
  );
  if (!rule?.emailEndsWith) throw new Error(`kinde-local/config.json has no rule giving ${permission} by email`);
  return rule.emailEndsWith;
}

export function newAdmin(overrides: Partial<Person> = {}): Person {
  const id = randomUUID().slice(0, 8);
  const suffix = adminEmailSuffix();
  // "@admin.example" or "admin.example": either way the address ends with it.
  const email = `e2e-admin-${id}@${suffix.replace(/^@/, "")}`;
  return newPerson({ email, firstName: "Grace", lastName: `Admin-${id}`, ...overrides });
}

export function appPath(path: string): (url: URL) => boolean {
  const { baseUrl } = e2eTarget();
  return (url) => url.origin === new URL(baseUrl).origin && url.pathname === path;
}

export async function expectKindePage(page: Page, stack: { kindeUrl: string }, heading = "Sign in"): Promise<void> {
  await expect(page).toHaveURL((url) => url.origin === new URL(stack.kindeUrl).origin);
  await expect(page.getByRole("heading", { name: heading, exact: true })).toBeVisible();
}

function submitButtonOf(page: Page, field: Locator): Locator {
  return page.locator("form", { has: field }).locator('button[type="submit"]').first();
}

export async function fillSignUp(page: Page, person: Person): Promise<void> {
  await page.locator('[name="p_first_name"]').fill(person.firstName);
  await page.locator('[name="p_last_name"]').fill(person.lastName);
  await page.locator('[name="p_email"]').fill(person.email);
  const password = page.locator('[name="p_password"]');
  await password.fill(person.password);
  await submitButtonOf(page, password).click();
}

/** Email, then password: on one page or two. */
export async function fillSignIn(page: Page, person: Pick<Person, "email" | "password">): Promise<void> {
  const email = page.locator('[name="p_email"]');
  await email.fill(person.email);
  const password = page.locator('[name="p_password"]');
  if (!(await password.isVisible())) {
    await submitButtonOf(page, email).click();
    await password.waitFor();
  }
  await password.fill(person.password);
  await submitButtonOf(page, password).click();
}

/** Loaded and, with JavaScript on, hydrated (a click before would be a plain HTML submit). */
export async function waitForApp(page: Page): Promise<void> {
  await page.waitForLoadState("load");
  const scriptsRan = await page.evaluate(() => "__remixContext" in window);
  if (!scriptsRan) return;
  await page.waitForFunction(() => {
    const main = document.getElementById("main");
    return (
      "__remixRouter" in window && main !== null && Object.keys(main).some((key) => key.startsWith("__reactFiber"))
    );
  });
}

export async function signUp(page: Page, person: Person): Promise<void> {
  await page.goto("/kinde-auth/register");
  await expect(page.getByRole("heading", { name: "Create your account" })).toBeVisible();
  await fillSignUp(page, person);
  await expect(page).toHaveURL(appPath("/dashboard"));
  await waitForApp(page);
  await kindeEventsDelivered({ email: person.email });
}

export async function signInAs(
  page: Page,
  overrides: Partial<Person> = {},
): Promise<{ person: Person; kindeId: string }> {
  const target = e2eTarget();
  if (!target.kindeUrl || !target.kindeDataDir) throw new Error(NEEDS_LOCAL_STACK);
  const person = newPerson(overrides);
  const { kindeId, cookies } = await mintKindeSession(
    { issuerUrl: target.kindeUrl, kindeDataDir: target.kindeDataDir },
    person,
  );
  await page
    .context()
    .addCookies(
      cookies.map((cookie) => ({ ...cookie, url: target.baseUrl, httpOnly: true, sameSite: "Lax" as const })),
    );
  await page.goto("/auth/success");
  await expect(page).toHaveURL(appPath("/dashboard"));
  await waitForApp(page);
  await kindeEventsDelivered({ kindeId });
  return { person, kindeId };
}

export async function signIn(
  page: Page,
  person: Pick<Person, "email" | "password">,
  options: { start?: string; landOn?: string } = {},
): Promise<void> {
  await page.goto(options.start ?? "/kinde-auth/login");
  await fillSignIn(page, person);
  await expect(page).toHaveURL(appPath(options.landOn ?? "/dashboard"));
  await waitForApp(page);
  await kindeEventsDelivered({ email: person.email });
}

export async function signOut(page: Page): Promise<void> {
  await page.getByRole("banner").getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(appPath("/"));
  await expect(page.getByRole("banner").getByRole("link", { name: "Sign in" })).toBeVisible();
  await waitForApp(page);
}

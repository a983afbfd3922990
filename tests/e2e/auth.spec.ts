// Signing up, out and in through the local Kinde server's pages, and what the database holds afterwards.
import {
  appPath,
  expectKindePage,
  fillSignIn,
  fillSignUp,
  newPerson,
  signIn,
  signOut,
  signUp,
} from "./support/auth-steps";
import { onlyUserWithEmail, timeOf, usersWithKindeId } from "./support/db";
import { expect, test } from "./support/test";

test("signs up through the local Kinde pages and shows the stored profile", async ({ page, stack }) => {
  const person = newPerson({ firstName: "Grace", lastName: `Hopper-${Date.now().toString(36)}` });

  await page.goto("/");
  await page.getByRole("main").getByRole("link", { name: "Sign up" }).click();
  // The provider's page, not the app's: another origin, with the local server's badge.
  await expectKindePage(page, stack, "Create your account");
  await expect(page.getByText("Local Kinde server — development only")).toBeVisible();
  await fillSignUp(page, person);

  await expect(page).toHaveURL(appPath("/dashboard"));
  await expect(page.getByRole("heading", { level: 1, name: `${person.firstName} ${person.lastName}` })).toBeVisible();
  await expect(page.getByTestId("first-name")).toHaveText(person.firstName);
  await expect(page.getByTestId("last-name")).toHaveText(person.lastName);
  await expect(page.getByTestId("email")).toHaveText(person.email);
  await expect(page.getByRole("banner").getByRole("button", { name: "Sign out" })).toBeVisible();

  const row = await onlyUserWithEmail(stack.databaseFile, person.email);
  expect(row).toMatchObject({
    email: person.email,
    firstName: person.firstName,
    lastName: person.lastName,
    nameEditedAt: null,
  });
  expect(row.kindeId).toMatch(/^kp_[0-9a-f]{32}$/);
  expect(await usersWithKindeId(stack.databaseFile, row.kindeId)).toHaveLength(1);
});

test("signs out with the header button (a POST) and back in to the same row", async ({ page, stack }) => {
  const person = newPerson();
  await signUp(page, person);
  const before = await onlyUserWithEmail(stack.databaseFile, person.email);

  const signOutRequest = page.waitForRequest((request) => new URL(request.url()).pathname === "/kinde-auth/logout");
  await signOut(page);
  expect((await signOutRequest).method()).toBe("POST");
  // Signed out of the app and of Kinde: the dashboard asks for a password again.
  await page.goto("/dashboard");
  await expectKindePage(page, stack);

  await signIn(page, person);
  await expect(page.getByTestId("email")).toHaveText(person.email);

  const after = await onlyUserWithEmail(stack.databaseFile, person.email);
  expect(after.id).toBe(before.id);
  expect(after.kindeId).toBe(before.kindeId);
  expect(await usersWithKindeId(stack.databaseFile, before.kindeId)).toHaveLength(1);
  expect(timeOf(after.lastSignInAt)).toBeGreaterThan(timeOf(before.lastSignInAt));
  expect(timeOf(after.createdAt)).toBe(timeOf(before.createdAt));
});

test("a signed-out visit to /dashboard signs in first, then comes back to /dashboard", async ({ page, stack }) => {
  const person = newPerson();
  await signUp(page, person);
  await signOut(page);

  await page.goto("/dashboard");
  await expectKindePage(page, stack);
  await fillSignIn(page, person);

  await expect(page).toHaveURL(appPath("/dashboard"));
  await expect(page.getByTestId("last-name")).toHaveText(person.lastName);
});

for (const start of [
  { page: "sign-in", path: "/kinde-auth/login", heading: "Sign in" },
  { page: "sign-up", path: "/kinde-auth/register", heading: "Create your account" },
]) {
  test(`Cancel on Kinde's ${start.page} page shows a friendly "Sign-in cancelled" page`, async ({ page, stack }) => {
    await page.goto(start.path);
    await expectKindePage(page, stack, start.heading);

    const callback = page.waitForResponse((response) => new URL(response.url()).pathname === "/kinde-auth/callback");
    await page.getByRole("link", { name: "Cancel and go back to the app" }).click();
    const response = await callback;
    expect(response.status()).toBeLessThan(500);
    expect(new URL(response.url()).searchParams.get("error")).toBe("access_denied");

    await expect(page.getByRole("heading", { level: 1, name: "Sign-in cancelled" })).toBeVisible();
    await expect(page.getByText("Nothing was changed")).toBeVisible();
    await expect(page.getByText("Something went wrong")).toHaveCount(0);
    await page.getByRole("link", { name: "Sign in again" }).click();
    await expect(page.getByRole("heading", { name: "Sign in", exact: true })).toBeVisible();
  });
}

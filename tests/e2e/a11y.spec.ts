// axe-core on every page a person meets; a signed-in user's pages reuse the setup project's state.
import { STORAGE_STATE } from "./support/env";
import { expectNoSeriousA11yViolations } from "./support/axe";
import { appPath, newAdmin, signInAs, waitForApp } from "./support/auth-steps";
import { expect, test } from "./support/test";

test.describe("signed out", () => {
  test("landing page", async ({ page }) => {
    await page.goto("/");
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await expectNoSeriousA11yViolations(page, "the landing page");
  });

  test("404 page", async ({ page }) => {
    const response = await page.goto("/no-such-page");
    expect(response?.status()).toBe(404);
    await expect(page.getByRole("heading", { level: 1, name: "Page not found" })).toBeVisible();
    await expectNoSeriousA11yViolations(page, "the 404 page");
  });

  test("sign-out confirmation page (GET /kinde-auth/logout)", async ({ page }) => {
    await page.goto("/kinde-auth/logout");
    await expect(page.getByRole("heading", { level: 1, name: "Sign out?" })).toBeVisible();
    await expectNoSeriousA11yViolations(page, "the sign-out page");
  });

  test("sign-in cancelled page", async ({ page }) => {
    // What the provider's Cancel leads to (auth.spec.ts follows the real link).
    const response = await page.goto("/kinde-auth/callback?error=access_denied&error_description=cancelled&state=x");
    expect(response?.status()).toBeLessThan(500);
    await expect(page.getByRole("heading", { level: 1, name: "Sign-in cancelled" })).toBeVisible();
    await expectNoSeriousA11yViolations(page, "the sign-in cancelled page");
  });

  test("local Kinde sign-in page, and with an error message", async ({ page, stack }) => {
    await page.goto("/kinde-auth/login");
    await expect(page).toHaveURL((url) => url.origin === new URL(stack.kindeUrl).origin);
    await expect(page.getByRole("heading", { name: "Sign in", exact: true })).toBeVisible();
    await expectNoSeriousA11yViolations(page, "the local Kinde sign-in page");

    await page.locator('[name="p_email"]').fill("nobody@example.com");
    await page.locator('[name="p_password"]').fill("wrong password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toHaveText("Incorrect email or password.");
    await expectNoSeriousA11yViolations(page, "the local Kinde sign-in page with an error");
  });

  test("local Kinde sign-up page, and with field errors", async ({ page, stack }) => {
    await page.goto("/kinde-auth/register");
    await expect(page).toHaveURL((url) => url.origin === new URL(stack.kindeUrl).origin);
    await expect(page.getByRole("heading", { name: "Create your account" })).toBeVisible();
    await expectNoSeriousA11yViolations(page, "the local Kinde sign-up page");

    await page.locator('[name="p_email"]').fill("not-an-email@x");
    await page.locator('[name="p_password"]').fill("short");
    // The fields' own checks (type=email, required) would stop the browser first.
    await page.locator("form").evaluate((form: HTMLFormElement) => (form.noValidate = true));
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("alert")).toBeVisible();
    await expectNoSeriousA11yViolations(page, "the local Kinde sign-up page with errors");
  });

  test("admin's members page", async ({ page, stack }) => {
    expect(stack.databaseFile).toBeTruthy();
    await signInAs(page, newAdmin());
    await page.goto("/members");
    await expect(page.getByRole("heading", { level: 1, name: "Members" })).toBeVisible();
    await expectNoSeriousA11yViolations(page, "the members page");
  });
});

test.describe("signed in (saved state)", () => {
  test.use({ storageState: STORAGE_STATE });

  test("dashboard, and with a form error", async ({ page }) => {
    await page.goto("/dashboard");
    await expect(page.getByRole("heading", { name: "Edit your profile" })).toBeVisible();
    await waitForApp(page);
    await expectNoSeriousA11yViolations(page, "the dashboard");

    // An invalid submission changes nothing, so the shared user stays as it was.
    await page.getByLabel("First name").fill("");
    await page.getByRole("button", { name: "Save profile" }).click();
    await expect(page.getByText("First name is required.")).toBeVisible();
    await expectNoSeriousA11yViolations(page, "the dashboard with a form error");
  });

  test("members 403 page", async ({ page }) => {
    const response = await page.goto("/members");
    expect(response?.status()).toBe(403);
    await expect(page.getByRole("heading", { level: 1, name: "Members only for admins" })).toBeVisible();
    await expectNoSeriousA11yViolations(page, "the members 403 page");
  });

  test("delete confirmation page", async ({ page }) => {
    await page.goto("/account/delete");
    await expect(page).toHaveURL(appPath("/account/delete"));
    await expect(page.getByRole("heading", { level: 1, name: "Delete my account" })).toBeVisible();
    await expectNoSeriousA11yViolations(page, "the delete confirmation page");
  });
});

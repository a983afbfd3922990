// axe-core on every page a person meets; a signed-in user's pages reuse the setup project's state.
import { STORAGE_STATE } from "./support/env";
import { expectNoSeriousA11yViolations } from "./support/axe";
import { appPath, expectKindePage, newAdmin, signInAs, waitForApp } from "./support/auth-steps";
import { expect, test } from "./support/test";

interface PageCase {
  what: string;
  path: string;
  status?: number;
  heading?: string;
}

function checkPages(pages: PageCase[]): void {
  for (const { what, path, status, heading } of pages) {
    test(what, async ({ page }) => {
      const response = await page.goto(path);
      expect(response?.status()).toBeLessThan(500);
      if (status) expect(response?.status()).toBe(status);
      await expect(page).toHaveURL(appPath(path.split("?")[0]!));
      await expect(page.getByRole("heading", { level: 1, name: heading })).toBeVisible();
      await expectNoSeriousA11yViolations(page, what);
    });
  }
}

test.describe("signed out", () => {
  checkPages([
    { what: "the landing page", path: "/" },
    { what: "the 404 page", path: "/no-such-page", status: 404, heading: "Page not found" },
    { what: "the sign-out page", path: "/kinde-auth/logout", heading: "Sign out?" },
    // With an error, and the signed-in pages of organizations: organizations.spec.ts.
    { what: "the create-organization page", path: "/organizations/new", heading: "Create an organization" },
    // What the provider's Cancel leads to (auth.spec.ts follows the real link).
    {
      what: "the sign-in cancelled page",
      path: "/kinde-auth/callback?error=access_denied&error_description=cancelled&state=x",
      heading: "Sign-in cancelled",
    },
  ]);

  test("local Kinde sign-in page, and with an error message", async ({ page, stack }) => {
    await page.goto("/kinde-auth/login");
    await expectKindePage(page, stack);
    await expectNoSeriousA11yViolations(page, "the local Kinde sign-in page");

    await page.locator('[name="p_email"]').fill("nobody@example.com");
    await page.locator('[name="p_password"]').fill("wrong password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toHaveText("Incorrect email or password.");
    await expectNoSeriousA11yViolations(page, "the local Kinde sign-in page with an error");
  });

  test("local Kinde sign-up page, and with field errors", async ({ page, stack }) => {
    await page.goto("/kinde-auth/register");
    await expectKindePage(page, stack, "Create your account");
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
  checkPages([
    { what: "the members 403 page", path: "/members", status: 403, heading: "Members only for admins" },
    { what: "the delete confirmation page", path: "/account/delete", heading: "Delete my account" },
  ]);

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
});

// The dashboard as the setup project's user (its saved state); nothing here changes the user.
import { STORAGE_STATE } from "./support/env";
import { appPath } from "./support/auth-steps";
import { expect, test } from "./support/test";

test.use({ storageState: STORAGE_STATE });

test("the saved session opens the dashboard directly and shows the stored profile", async ({ page, storedPerson }) => {
  const kindePages: string[] = [];
  page.on("request", (request) => {
    if (new URL(request.url()).pathname.startsWith("/kinde-auth/")) kindePages.push(request.url());
  });
  const response = await page.goto("/dashboard");
  expect(response?.status()).toBe(200);
  await expect(page).toHaveURL(appPath("/dashboard"));
  expect(kindePages).toEqual([]);

  await expect(
    page.getByRole("heading", { level: 1, name: `${storedPerson.firstName} ${storedPerson.lastName}` }),
  ).toBeVisible();
  await expect(page.getByTestId("first-name")).toHaveText(storedPerson.firstName);
  await expect(page.getByTestId("last-name")).toHaveText(storedPerson.lastName);
  await expect(page.getByTestId("email")).toHaveText(storedPerson.email.toLowerCase());
  await expect(
    page.getByRole("banner").getByRole("link", { name: `${storedPerson.firstName} ${storedPerson.lastName}` }),
  ).toBeVisible();
  await expect(page.getByRole("heading", { name: "What Kinde says" })).toBeVisible();
  expect(response?.headers()["cache-control"]).toMatch(/private|no-store/);
});

test("the Kinde claims from the local server's defaults", async ({ page, stack }) => {
  expect(stack.kindeUrl).toBeTruthy();
  await page.goto("/dashboard");
  await expect(page.getByTestId("org-code")).toHaveText("Demo Org (org_0123456789a)");
  await expect(page.getByTestId("permissions")).toContainText("read:profile");
  await expect(page.getByTestId("permissions")).not.toContainText("read:users");
  await expect(page.getByTestId("feature-flags")).toContainText("theme = pink");
});

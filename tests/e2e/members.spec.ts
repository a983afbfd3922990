// /members needs `read:users`, which kinde-local/config.json gives by email; it lists everyone the app knows of.
import { STORAGE_STATE } from "./support/env";
import { adminEmailSuffix, newAdmin, newPerson, signInAs } from "./support/auth-steps";
import { kindeEventsDelivered, localKindeAdmin } from "./support/kinde";
import { expect, test } from "./support/test";

test.describe("a normal user", () => {
  test.use({ storageState: STORAGE_STATE });

  test("gets a 403 page", async ({ page }) => {
    const response = await page.goto("/members");
    expect(response?.status()).toBe(403);
    await expect(page.getByRole("heading", { level: 1, name: "Members only for admins" })).toBeVisible();
    await expect(page.getByText("read:users", { exact: true })).toBeVisible();
    await expect(page.getByRole("table")).toHaveCount(0);
    await expect(page.getByRole("link", { name: "Back to your dashboard" })).toBeVisible();
  });
});

test("an admin sees the members table, a page at a time, with their own row", async ({ page, stack }) => {
  const admin = newAdmin();
  expect(admin.email.endsWith(adminEmailSuffix())).toBe(true);
  await signInAs(page, admin);
  await expect(page.getByTestId("permissions")).toContainText("read:users");
  // Someone an admin created at Kinde, who never signed in here: Kinde's user.created adds the row.
  const fromKinde = newPerson({ firstName: "Only", lastName: `At-Kinde-${Date.now().toString(36)}` });
  await (
    await localKindeAdmin(stack.kindeUrl)
  ).createUser({ email: fromKinde.email, givenName: fromKinde.firstName, familyName: fromKinde.lastName });
  await kindeEventsDelivered({ email: fromKinde.email });

  const response = await page.goto("/members");
  expect(response?.status()).toBe(200);
  expect(stack.databaseFile).toBeTruthy();
  await expect(page.getByRole("heading", { level: 1, name: "Members" })).toBeVisible();
  const table = page.getByRole("table", { name: "Members, newest first" });
  await expect(table.getByRole("columnheader")).toHaveText(["Name", "Email", "Added"]);
  const ownRow = table.getByRole("row").filter({ hasText: admin.email });
  await expect(ownRow).toHaveCount(1);
  await expect(ownRow).toContainText(`${admin.firstName} ${admin.lastName}`);
  await expect(table.getByRole("row").filter({ hasText: fromKinde.email })).toContainText(
    `${fromKinde.firstName} ${fromKinde.lastName}`,
  );

  // Other tests sign people up meanwhile, so the numbers are read from this one page.
  const summary = page.getByText(/^\d+ (people|person) known to this app: /);
  await expect(summary).toContainText(
    "everyone who has signed in here, and everyone Kinde has told it about (webhooks, users:sync).",
  );
  const total = Number((await summary.textContent())?.match(/^\d+/)?.[0]);
  expect(total).toBeGreaterThanOrEqual(1);
  const pages = Math.max(1, Math.ceil(total / 20));
  const pagination = page.getByRole("navigation", { name: "Pages" });
  await expect(pagination).toContainText(`Page 1 of ${pages}`);
  await expect(table.getByRole("row")).toHaveCount(1 + Math.min(total, 20));
  await expect(pagination.getByRole("link", { name: "← Newer" })).toHaveCount(0);
  if (pages > 1) {
    await pagination.getByRole("link", { name: "Older →" }).click();
    await expect(page).toHaveURL(/[?&]page=2$/);
    await expect(pagination).toContainText(/Page 2 of \d+/);
    await expect(pagination.getByRole("link", { name: "← Newer" })).toBeVisible();
  } else {
    await expect(pagination.getByRole("link", { name: "Older →" })).toHaveCount(0);
  }
});

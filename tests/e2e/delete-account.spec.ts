// Deleting the account, with and without JavaScript (a full-page POST either way, through Kinde's logout).
import type { Page } from "@playwright/test";
import { usersWithEmail, onlyUserWithEmail, usersWithKindeId } from "./support/db";
import { appPath, expectKindePage, newPerson, signInAs, signUp, waitForApp } from "./support/auth-steps";
import { expect, test } from "./support/test";

async function openDeletePage(page: Page): Promise<void> {
  await page.getByRole("link", { name: "Delete my account…" }).click();
  await expect(page).toHaveURL(appPath("/account/delete"));
  await expect(page.getByRole("heading", { level: 1, name: "Delete my account" })).toBeVisible();
  await expect(page.getByText("Your Kinde identity is not deleted")).toBeVisible();
  await waitForApp(page);
}

test("deletes the stored profile after confirmation and signs out", async ({ page, stack }) => {
  const person = newPerson();
  await signUp(page, person);
  const row = await onlyUserWithEmail(stack.databaseFile, person.email);
  await openDeletePage(page);

  // Without the tick the browser itself refuses to send the form (the box is `required`).
  const posts: string[] = [];
  page.on("request", (request) => {
    if (request.method() === "POST") posts.push(request.url());
  });
  const confirm = page.getByRole("checkbox", { name: "I understand that my profile will be deleted." });
  const submit = page.getByRole("button", { name: "Delete my account" });
  await submit.click();
  await expect(page.locator('input[name="confirm"]:invalid')).toHaveCount(1);
  await expect(page).toHaveURL(appPath("/account/delete"));
  expect(posts).toEqual([]);
  expect(await usersWithKindeId(stack.databaseFile, row.kindeId)).toHaveLength(1);

  await confirm.check();
  await submit.click();
  await expect(page).toHaveURL(appPath("/"));
  await expect(
    page.getByRole("status").filter({ hasText: "Your account was deleted and you are signed out." }),
  ).toBeVisible();
  await expect(page.getByRole("banner").getByRole("link", { name: "Sign in" })).toBeVisible();
  expect(posts.map((url) => new URL(url).pathname)).toEqual(["/account/delete"]);

  expect(await usersWithKindeId(stack.databaseFile, row.kindeId)).toEqual([]);
  expect(await usersWithEmail(stack.databaseFile, person.email)).toEqual([]);
  await page.goto("/dashboard");
  await expectKindePage(page, stack);
});

test("the server refuses a deletion without the tick (a browser that skips form validation)", async ({
  page,
  stack,
}) => {
  const { person } = await signInAs(page);
  const row = await onlyUserWithEmail(stack.databaseFile, person.email);
  await openDeletePage(page);

  // A client without constraint validation (evaluate works with the page's scripts off): the server must check too.
  await page.locator("form", { has: page.locator('input[name="confirm"]') }).evaluate((form: HTMLFormElement) => {
    form.noValidate = true;
  });
  const response = page.waitForResponse((candidate) => candidate.request().method() === "POST");
  await page.getByRole("button", { name: "Delete my account" }).click();
  expect((await response).status()).toBe(400);

  const confirm = page.getByRole("checkbox", { name: "I understand that my profile will be deleted." });
  await expect(page.locator("#confirm-error")).toHaveText(
    "Tick the box to confirm that you want to delete your account.",
  );
  await expect(confirm).toHaveAttribute("aria-invalid", "true");
  await expect(confirm).toHaveAttribute("aria-describedby", "confirm-error");
  await expect(page).toHaveURL(appPath("/account/delete"));
  await expect(page.getByRole("banner").getByRole("button", { name: "Sign out" })).toBeVisible();
  expect(await onlyUserWithEmail(stack.databaseFile, person.email)).toEqual(row);
});

// The profile form with JavaScript (Remix, "Saving…") and without (POST, redirect); and who owns the name.
import type { Page, Request, Route } from "@playwright/test";
import { onlyUserWithEmail } from "./support/db";
import { appPath, fillSignIn, newPerson, signIn, signInAs, signOut, signUp, waitForApp } from "./support/auth-steps";
import { expect, test } from "./support/test";

async function holdProfilePost(page: Page): Promise<{ sent: Promise<Request>; release: () => void }> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const isProfilePost = (request: Request) =>
    request.method() === "POST" && new URL(request.url()).pathname.startsWith("/dashboard");
  await page.route(
    (url) => url.pathname.startsWith("/dashboard"),
    async (route: Route) => {
      if (isProfilePost(route.request())) await gate;
      await route.continue();
    },
  );
  return { sent: page.waitForRequest(isProfilePost), release };
}

test("JavaScript is on or off as the project says", async ({ page, javaScriptEnabled }) => {
  await page.goto("/kinde-auth/logout");
  await waitForApp(page);
  // Remix's inline scripts define this while the page loads; with scripts off nothing runs.
  expect(await page.evaluate(() => "__remixContext" in window)).toBe(javaScriptEnabled);

  // A <Link> is a client-side navigation with scripts on, a new document without them.
  const documents: string[] = [];
  page.on("request", (request) => {
    if (request.resourceType() === "document") documents.push(new URL(request.url()).pathname);
  });
  await page.getByRole("banner").getByRole("link", { name: "Remix Kinde Stack" }).click();
  await expect(page).toHaveURL(appPath("/"));
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Sign up in seconds");
  expect(documents).toEqual(javaScriptEnabled ? [] : ["/"]);
});

test("saves a valid name and shows it", async ({ page, stack, javaScriptEnabled }) => {
  const { person } = await signInAs(page);
  const before = await onlyUserWithEmail(stack.databaseFile, person.email);
  await page.evaluate(() => ((window as unknown as { __marker: number }).__marker = 1));

  await page.getByLabel("First name").fill("  Augusta ");
  await page.getByLabel("Last name").fill("King");
  const save = page.getByRole("button", { name: /Save profile|Saving…/ });
  const response = page.waitForResponse((candidate) => candidate.request().method() === "POST");
  if (javaScriptEnabled) {
    const held = await holdProfilePost(page);
    await save.click();
    const request = await held.sent;
    expect(request.resourceType()).toBe("fetch");
    await expect(save).toHaveText("Saving…");
    await expect(save).toBeDisabled();
    held.release();
    await response;
  } else {
    // No pending state to see: the browser keeps the old page until the new one arrives; Playwright can't look then.
    await save.click();
    const post = await response;
    expect(post.request().resourceType()).toBe("document");
    expect(post.request().isNavigationRequest()).toBe(true);
    expect(post.status()).toBe(302);
    expect(await post.headerValue("location")).toBe("/dashboard");
  }
  await expect(page.getByRole("status").filter({ hasText: "Profile saved." })).toBeVisible();
  await expect(page).toHaveURL(appPath("/dashboard"));
  await expect(page.getByRole("heading", { level: 1, name: "Augusta King" })).toBeVisible();
  await expect(page.getByTestId("first-name")).toHaveText("Augusta");
  await expect(page.getByTestId("last-name")).toHaveText("King");
  await expect(page.getByRole("button", { name: "Save profile" })).toBeEnabled();

  const marker = await page.evaluate(() => (window as unknown as { __marker?: number }).__marker);
  expect(marker).toBe(javaScriptEnabled ? 1 : undefined);

  const after = await onlyUserWithEmail(stack.databaseFile, person.email);
  expect(after).toMatchObject({ id: before.id, firstName: "Augusta", lastName: "King" });
  expect(after.nameEditedAt).not.toBeNull();
});

// What the other name field holds while one is refused: "Kept-Firstname" or "Kept-Lastname".
const invalidInputs = [
  { what: "an empty first name", firstName: "", field: "First name", error: "First name is required." },
  {
    what: "a control character in the first name",
    firstName: "Ada\u0007Bell",
    field: "First name",
    error: "First name contains characters that are not allowed.",
  },
  {
    what: "a last name over 100 characters",
    lastName: "L".repeat(101),
    field: "Last name",
    error: "Last name must be at most 100 characters.",
  },
  {
    what: "a first name over 100 characters",
    firstName: "F".repeat(101),
    field: "First name",
    error: "First name must be at most 100 characters.",
  },
].map((input) => ({ firstName: "Kept-Firstname", lastName: "Kept-Lastname", ...input }));

for (const input of invalidInputs) {
  test(`refuses ${input.what}, keeps what was typed, changes nothing`, async ({ page, stack, javaScriptEnabled }) => {
    const { person } = await signInAs(page);
    const before = await onlyUserWithEmail(stack.databaseFile, person.email);

    await page.getByLabel("First name").fill(input.firstName);
    await page.getByLabel("Last name").fill(input.lastName);
    const response = page.waitForResponse((candidate) => candidate.request().method() === "POST");
    await page.getByRole("button", { name: "Save profile" }).click();
    const post = await response;
    expect(post.status()).toBe(400);
    expect(post.request().resourceType()).toBe(javaScriptEnabled ? "fetch" : "document");

    const field = page.getByLabel(input.field);
    const error = page.locator(".field", { has: field }).locator(".field-error");
    await expect(error).toHaveText(input.error);
    await expect(field).toHaveAttribute("aria-invalid", "true");
    await expect(field).toHaveAttribute("aria-describedby", (await error.getAttribute("id")) ?? "missing id");
    // Both inputs still hold what was typed (the browser strips nothing from these values).
    await expect(page.getByLabel("First name")).toHaveValue(input.firstName);
    await expect(page.getByLabel("Last name")).toHaveValue(input.lastName);
    await expect(page.getByText("Profile saved.")).toHaveCount(0);
    await expect(page.getByTestId("first-name")).toHaveText(person.firstName);

    const after = await onlyUserWithEmail(stack.databaseFile, person.email);
    expect(after).toEqual(before);
  });
}

// One rule for names at sign-up and in this form (common/names.ts): the form once refused a name sign-up allowed.
test("a 60-character name given at sign-up is saved unchanged by the profile form", async ({ page, stack }) => {
  const person = newPerson({ firstName: "Maximiliane Theodora Wilhelmina Konstanze Friederike Augusta" });
  expect([...person.firstName]).toHaveLength(60);
  await signUp(page, person);
  await expect(page.getByLabel("First name")).toHaveValue(person.firstName);

  const response = page.waitForResponse((candidate) => candidate.request().method() === "POST");
  await page.getByRole("button", { name: "Save profile" }).click();
  expect((await response).status()).toBeLessThan(400);
  await expect(page.getByRole("status").filter({ hasText: "Profile saved." })).toBeVisible();
  await expect(page.locator(".field-error")).toHaveCount(0);
  await expect(page.getByTestId("first-name")).toHaveText(person.firstName);
  expect(await onlyUserWithEmail(stack.databaseFile, person.email)).toMatchObject({
    firstName: person.firstName,
    lastName: person.lastName,
  });
});

// Once edited in the app, the name is the person's: sign-ins stop copying Kinde's until "Use my name from Kinde again".
test("an edited name survives the next sign-in; 'Use my name from Kinde again' restores Kinde's", async ({
  page,
  stack,
}) => {
  const person = newPerson({ firstName: "Mary", lastName: "Somerville" });
  await signUp(page, person);
  await expect(page.getByText("Until you edit it here, your name follows Kinde")).toBeVisible();

  await page.getByLabel("First name").fill("Polly");
  await page.getByLabel("Last name").fill("Edited");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByText("Profile saved.")).toBeVisible();
  await expect(page.getByText("You edited your name here, so it stays")).toBeVisible();

  // Meanwhile the name changes at Kinde (the local server's account page).
  await page.goto(`${stack.kindeUrl}/account`);
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  await page.locator('[name="p_first_name"]').fill("Marie");
  await page.locator('[name="p_last_name"]').fill("FromKinde");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toContainText("Saved.");

  await page.goto("/dashboard");
  await signOut(page);
  await signIn(page, person);
  await expect(page.getByRole("heading", { level: 1, name: "Polly Edited" })).toBeVisible();
  expect(await onlyUserWithEmail(stack.databaseFile, person.email)).toMatchObject({
    firstName: "Polly",
    lastName: "Edited",
  });

  await page.getByRole("button", { name: "Use my name from Kinde again" }).click();
  await expect(page.getByText("Your name now follows Kinde again.")).toBeVisible();
  await expect(page.getByRole("heading", { level: 1, name: "Marie FromKinde" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Use my name from Kinde again" })).toHaveCount(0);
  const row = await onlyUserWithEmail(stack.databaseFile, person.email);
  expect(row).toMatchObject({ firstName: "Marie", lastName: "FromKinde", nameEditedAt: null });

  await signOut(page);
  await page.goto("/dashboard");
  await fillSignIn(page, person);
  await expect(page.getByTestId("first-name")).toHaveText("Marie");
});

// A Kinde admin (Management API) suspends or deletes someone signed in here; the app acts at their next navigation.
import { onlyUserWithEmail, queryDatabase, usersWithKindeId } from "./support/db";
import { expectKindePage, fillSignIn, newPerson, signIn, signUp } from "./support/auth-steps";
import { kindeEventsDelivered, localKindeAdmin } from "./support/kinde";
import { expect, test } from "./support/test";

const SUSPENDED = "Your account has been suspended. Contact the app's administrator to restore access.";

test("suspended: the next navigation goes to sign-in, which refuses them; lifted: they sign in to their dashboard", async ({
  page,
  stack,
}) => {
  const person = newPerson();
  await signUp(page, person);
  const { kindeId } = await onlyUserWithEmail(stack.databaseFile, person.email);
  const admin = await localKindeAdmin(stack.kindeUrl);

  await admin.updateUser(kindeId, { is_suspended: true });
  await kindeEventsDelivered({ kindeId });
  expect((await onlyUserWithEmail(stack.databaseFile, person.email)).suspendedAt).not.toBeNull();

  // Their access token has not expired, yet the next page they open is Kinde's sign-in.
  await page
    .getByRole("banner")
    .getByRole("link", { name: `${person.firstName} ${person.lastName}` })
    .click();
  await expectKindePage(page, stack);
  await fillSignIn(page, person);
  await expect(page.getByRole("alert")).toHaveText(SUSPENDED);
  await expectKindePage(page, stack);

  await admin.updateUser(kindeId, { is_suspended: false });
  await kindeEventsDelivered({ kindeId });
  await signIn(page, person, { start: "/dashboard" });
  await expect(page.getByRole("heading", { level: 1, name: `${person.firstName} ${person.lastName}` })).toBeVisible();
  await expect(page.getByTestId("email")).toHaveText(person.email);
  expect((await onlyUserWithEmail(stack.databaseFile, person.email)).suspendedAt).toBeNull();
});

test("deleted: the next navigation goes to sign-in; the row is gone and tombstoned, and their old cookies bring nothing back", async ({
  page,
  context,
  stack,
}) => {
  const person = newPerson();
  await signUp(page, person);
  const { kindeId } = await onlyUserWithEmail(stack.databaseFile, person.email);
  const oldCookies = await context.cookies();

  await (await localKindeAdmin(stack.kindeUrl)).deleteUser(kindeId);
  await kindeEventsDelivered({ kindeId });
  expect(await usersWithKindeId(stack.databaseFile, kindeId)).toEqual([]);
  expect(
    await queryDatabase(stack.databaseFile, "SELECT kindeId FROM DeletedKindeIdentity WHERE kindeId = ?", kindeId),
  ).toHaveLength(1);

  await page
    .getByRole("banner")
    .getByRole("link", { name: `${person.firstName} ${person.lastName}` })
    .click();
  await expectKindePage(page, stack);

  // Back with their unexpired session cookies: each page reading the person sends them to sign in, none stores a row.
  for (const path of ["/auth/success", "/dashboard", "/"]) {
    await context.clearCookies();
    await context.addCookies(oldCookies);
    await page.goto(path);
    await expectKindePage(page, stack);
  }
  expect(await usersWithKindeId(stack.databaseFile, kindeId)).toEqual([]);

  await fillSignIn(page, person);
  await expect(page.getByRole("alert")).toHaveText("Incorrect email or password.");
});

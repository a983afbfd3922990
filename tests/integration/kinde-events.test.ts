// The local Kinde server's own webhooks, wired as `npm run dev` does: changes at Kinde reach a signed-in
// person without a new sign-in; an event sent while the app is down lands once it is back.
import { describe, expect, it } from "vitest";
import { useStack } from "../support/use-stack.ts";
import { textOf, type TestBrowser } from "../support/browser";
import { userWithKindeId } from "../support/database-access.ts";
import { kindeAdmin, mintKindeTokens } from "../support/kinde-session.ts";
import { signIn, signUpNewPerson } from "../support/sign-in.ts";
import { expectSignedOut, replayCookies } from "../support/session";

const stack = useStack();

const rowOf = (kindeId: string) => userWithKindeId(stack.database, kindeId);

/** The dashboard as the person sees it now, checking they did not pass through a sign-in. */
async function dashboardText(browser: TestBrowser): Promise<string> {
  const page = await browser.get(`${stack.appUrl}/dashboard`);
  expect(page.chain).toEqual([`${stack.appUrl}/dashboard`]);
  expect(page.status).toBe(200);
  return textOf(page.html);
}

const appliedLine = (type: string) => new RegExp(`\\[webhook\\] ${type.replace(".", "\\.")} event_[0-9a-f]{32} \\w+`);

describe("a name changed at Kinde", () => {
  it("on the local server's account page appears on the dashboard without signing in again", async () => {
    const { browser, kindeId } = await signUpNewPerson(stack);
    const idToken = await browser.cookie(stack.appUrl, "id_token");

    // The same browser is signed in at the local Kinde server too (one cookie jar for localhost).
    const account = await browser.get(`${stack.issuerUrl}/account`);
    expect(account.status).toBe(200);
    const saved = await browser.submitForm(account, { p_first_name: "Renamed", p_last_name: "On-Account-Page" });
    expect(saved.status).toBe(200);
    await stack.webhooksSettled();

    expect(await dashboardText(browser)).toContain("Renamed On-Account-Page");
    expect(await rowOf(kindeId)).toMatchObject({
      firstName: "Renamed",
      lastName: "On-Account-Page",
      kindeSyncedFrom: "webhook user.updated",
    });
    // Still the tokens of the original sign-in.
    expect(await browser.cookie(stack.appUrl, "id_token")).toBe(idToken);
  });

  it("through the Management API (PATCH /api/v1/user) appears on the dashboard without signing in again", async () => {
    const { browser, kindeId } = await signUpNewPerson(stack);
    await (await kindeAdmin(stack)).updateUser(kindeId, { given_name: "Patched", family_name: "By-Admin" });
    await stack.webhooksSettled();

    expect(await dashboardText(browser)).toContain("Patched By-Admin");
    expect(await rowOf(kindeId)).toMatchObject({ firstName: "Patched", kindeSyncedFrom: "webhook user.updated" });
  });
});

it("the app down while Kinde sends an event gets the change once it is back, on the same database and port", async () => {
  const { person, browser, kindeId } = await signUpNewPerson(stack);
  expect(await stack.stopApp()).toBe(0);
  let eventId: string;
  try {
    await (await kindeAdmin(stack)).updateUser(kindeId, { given_name: "Delivered", family_name: "Later" });
    // Two attempts have failed: the app really was down when Kinde tried.
    const failure = await stack.waitForKindeLog(
      new RegExp(
        `webhook user\\.updated event_[0-9a-f]{32} msg_[0-9a-f]{32} -> ${stack.appUrl}/webhooks/kinde (?!200)\\S+ \\(attempt 2, next in`,
      ),
    );
    eventId = /event_[0-9a-f]{32}/.exec(failure)![0];
    expect(await rowOf(kindeId)).toMatchObject({ firstName: person.firstName, lastName: person.lastName });
  } finally {
    await stack.startApp(); // the next tests need it, whatever happened here
  }

  await stack.waitForLog(`[webhook] user.updated ${eventId} updated`);
  await stack.webhooksSettled();
  expect(await dashboardText(browser)).toContain("Delivered Later");
  expect(await rowOf(kindeId)).toMatchObject({ firstName: "Delivered", lastName: "Later" });
});

it("an admin suspending a person at Kinde signs them out at their next request, Kinde refuses their sign-in, and lifting it lets them back in", async () => {
  const { person, browser, kindeId } = await signUpNewPerson(stack);
  const admin = await kindeAdmin(stack);

  await admin.updateUser(kindeId, { is_suspended: true });
  await stack.webhooksSettled();
  expect(stack.appLog()).toMatch(appliedLine("user.updated"));
  expect((await rowOf(kindeId))?.suspendedAt).not.toBeNull();
  expectSignedOut(await browser.get(`${stack.appUrl}/dashboard`, { follow: false }), "/dashboard");

  // Signing in again goes through Kinde's page (the suspension ended the Kinde session too).
  const refused = await signIn(stack, person, browser, "/dashboard");
  expect(refused.page.url).toBe(`${stack.issuerUrl}/auth/sign-in`);
  expect(refused.page.status).toBe(403);
  expect(textOf(refused.page.html)).toContain(
    "Your account has been suspended. Contact the app's administrator to restore access.",
  );
  expect(await browser.cookie(stack.appUrl, "id_token")).toBeUndefined();

  await admin.updateUser(kindeId, { is_suspended: false });
  await stack.webhooksSettled();
  expect((await rowOf(kindeId))?.suspendedAt).toBeNull();
  const back = await signIn(stack, person, browser, "/dashboard");
  expect(back.page.url).toBe(`${stack.appUrl}/dashboard`);
  expect(textOf(back.page.html)).toContain(`${person.firstName} ${person.lastName}`);
  expect(await dashboardText(browser)).toContain(person.email);
});

it("an admin deleting a person at Kinde signs them out, deletes the row, keeps a tombstone, and no old cookie brings the row back", async () => {
  const { person, browser, kindeId } = await signUpNewPerson(stack);
  const cookies = await browser.cookieHeader(stack.appUrl);

  await (await kindeAdmin(stack)).deleteUser(kindeId);
  await stack.webhooksSettled();
  expect(stack.appLog()).toMatch(appliedLine("user.deleted"));
  expect(await rowOf(kindeId)).toBeUndefined();
  expect(
    await stack.database.query("SELECT kindeId FROM DeletedKindeIdentity WHERE kindeId = ?", kindeId),
  ).toHaveLength(1);
  expectSignedOut(await browser.get(`${stack.appUrl}/dashboard`, { follow: false }), "/dashboard");

  // The old, unexpired tokens, on the sign-in landing page and on every page that reads the person.
  for (const path of ["/auth/success", "/", "/dashboard", "/members", "/account/delete"]) {
    const page = await (await replayCookies(stack, cookies)).get(`${stack.appUrl}${path}`, { follow: false });
    expectSignedOut(page, path === "/auth/success" ? "/dashboard" : path);
  }
  expect(await rowOf(kindeId)).toBeUndefined();

  // Kinde no longer knows them.
  const refused = await signIn(stack, person, browser, "/dashboard");
  expect(refused.page.url).toBe(`${stack.issuerUrl}/auth/sign-in`);
  expect(textOf(refused.page.html)).toContain("Incorrect email or password.");
  expect(await rowOf(kindeId)).toBeUndefined();
});

it("a person who deleted their account in the app stays deleted while Kinde tells the app about them, and comes back with a new profile when they sign in", async () => {
  const { person, browser, kindeId } = await signUpNewPerson(stack);
  // Another browser of theirs, signed in a minute before they delete the account.
  const { accessToken, idToken } = await mintKindeTokens(stack, { ...person, id: kindeId }, { issuedSecondsAgo: 60 });
  const confirm = await browser.get(`${stack.appUrl}/account/delete`);
  const deleted = await browser.submitForm(confirm, { confirm: "yes" });
  expect(textOf(deleted.html)).toContain("Your account was deleted and you are signed out.");
  await stack.webhooksSettled();
  expect(await rowOf(kindeId)).toBeUndefined();

  // Kinde still has them: a rename there reaches the app, which stores nothing.
  await (await kindeAdmin(stack)).updateUser(kindeId, { given_name: "Renamed", family_name: "At-Kinde" });
  await stack.webhooksSettled();
  expect(stack.appLog()).toMatch(/\[webhook\] user\.updated event_[0-9a-f]{32} ignored \(deleted their account here\)/);
  expect(await rowOf(kindeId)).toBeUndefined();
  // The session from before the deletion is signed out, not given a row.
  const old = await replayCookies(stack, `access_token=${accessToken}; id_token=${idToken}`);
  const page = await old.get(`${stack.appUrl}/auth/success`, { follow: false });
  expectSignedOut(page, "/dashboard", ["access_token", "id_token"]);
  expect(await rowOf(kindeId)).toBeUndefined();

  // Their own next sign-in starts a new profile, with Kinde's current name.
  const again = (await signIn(stack, person)).page;
  expect(again.url).toBe(`${stack.appUrl}/dashboard`);
  expect(textOf(again.html)).toContain("Renamed At-Kinde");
  expect(await rowOf(kindeId)).toMatchObject({ firstName: "Renamed", lastName: "At-Kinde" });
});

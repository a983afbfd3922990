/**
 * Two people who start signing up at the same moment on a server that has just started.
 *
 * KNOWN APP BUG (reported, not fixed here; this test fails until it is fixed):
 * @kinde-oss/kinde-typescript-sdk 2.15.1 (under kinde-remix-sdk 1.1.4) keeps the OAuth
 * `state` of a sign-in on its one, process-wide client object: createAuthorizationURL() sets
 * `this.state`, awaits the session write, then builds the URL from `this.state`. When two
 * /kinde-auth/login|register requests run their continuations in the same turn of the event
 * loop (here: both waiting for app/lib/kinde.server.ts to import the SDK the first time), the
 * second overwrites the first's state: every browser gets the last request's state in its
 * Kinde URL but its own in the `ac-state-key` cookie, so all but one of them end on "That
 * sign-in has expired" after entering their password. Suggested fix: serialize the SDK's
 * login/register calls in app/lib/kinde-auth.server.ts (startAuth) with a small promise lock,
 * or patch the SDK to keep the state in a local variable.
 */
import { fillSignUp, newPerson } from "./support/flows";
import { startPrivateStack } from "./support/private-stack";
import { expect, test } from "./support/test";

test("two people who start signing up at the same moment on a fresh server both get in", async ({ browser, stack }) => {
  test.setTimeout(120_000);
  expect(stack.kindeUrl).toBeTruthy(); // local stack only: this test starts one of its own
  const fresh = await startPrivateStack();
  try {
    const people = [newPerson({ firstName: "First" }), newPerson({ firstName: "Second" })];
    const contexts = await Promise.all(people.map(() => browser.newContext({ baseURL: fresh.baseUrl })));
    const pages = await Promise.all(contexts.map((context) => context.newPage()));

    // Both press "Sign up" at once: the first requests that need the Kinde SDK.
    await Promise.all(pages.map((page) => page.goto("/kinde-auth/register")));
    for (const page of pages) await expect(page.getByRole("heading", { name: "Create your account" })).toBeVisible();
    await Promise.all(pages.map((page, index) => fillSignUp(page, people[index]!)));

    for (const [index, page] of pages.entries()) {
      const person = people[index]!;
      await expect(
        page,
        `${person.firstName} should land on the dashboard ("That sign-in has expired" here is the SDK's shared-state race)`,
      ).toHaveURL((url) => url.origin === new URL(fresh.baseUrl).origin && url.pathname === "/dashboard");
      await expect(page.getByTestId("email")).toHaveText(person.email);
    }
    await Promise.all(contexts.map((context) => context.close()));
  } finally {
    await fresh.stop();
  }
});

// Two sign-ups at once on a fresh server: kinde-typescript-sdk 2.15.1 keeps a sign-in's OAuth `state` on one client
// across an await, so the app builds one authorization URL at a time (app/lib/auth/); this fails if that goes.
import { fillSignUp, newPerson } from "./support/auth-steps";
import { startStack } from "../support/stack.ts";
import { expect, test } from "./support/test";

test("two people who start signing up at the same moment on a fresh server both get in", async ({ browser, stack }) => {
  test.setTimeout(120_000);
  expect(stack.kindeUrl).toBeTruthy(); // local stack only: this test starts one of its own
  const fresh = await startStack();
  try {
    const people = [newPerson({ firstName: "First" }), newPerson({ firstName: "Second" })];
    const contexts = await Promise.all(people.map(() => browser.newContext({ baseURL: fresh.appUrl })));
    const pages = await Promise.all(contexts.map((context) => context.newPage()));

    await Promise.all(pages.map((page) => page.goto("/kinde-auth/register")));
    for (const page of pages) await expect(page.getByRole("heading", { name: "Create your account" })).toBeVisible();
    await Promise.all(pages.map((page, index) => fillSignUp(page, people[index]!)));

    for (const [index, page] of pages.entries()) {
      const person = people[index]!;
      await expect(
        page,
        `${person.firstName} should land on the dashboard ("That sign-in has expired" here is the SDK's shared-state race)`,
      ).toHaveURL((url) => url.origin === new URL(fresh.appUrl).origin && url.pathname === "/dashboard");
      await expect(page.getByTestId("email")).toHaveText(person.email);
    }
    await Promise.all(contexts.map((context) => context.close()));
  } finally {
    await fresh.stop();
  }
});

// The `setup` project: one person signs up (on real Kinde: signs in) and the state is saved for tests that only look.
import { mkdirSync, writeFileSync } from "node:fs";
import { expect, test as setup } from "@playwright/test";
import { e2eTarget, STORAGE_DIR, STORAGE_PERSON, STORAGE_STATE } from "./support/env";
import { newPerson, signIn, signUp, type Person } from "./support/auth-steps";

setup("sign up the shared user and save the browser state", async ({ page }) => {
  const target = e2eTarget();
  let person: Omit<Person, "password">;
  if (target.kindeUrl) {
    const created = newPerson({ firstName: "Stella", lastName: "Stored" });
    await signUp(page, created);
    person = { email: created.email, firstName: created.firstName, lastName: created.lastName };
  } else {
    // Real Kinde: signing up needs an emailed code, so an existing user signs in.
    const email = process.env.E2E_USER_EMAIL;
    const password = process.env.E2E_USER_PASSWORD;
    if (!email || !password) {
      throw new Error("E2E_BASE_URL is set: also set E2E_USER_EMAIL and E2E_USER_PASSWORD (an existing Kinde user)");
    }
    await signIn(page, { email, password });
    person = {
      email,
      firstName: (await page.getByTestId("first-name").textContent()) ?? "",
      lastName: (await page.getByTestId("last-name").textContent()) ?? "",
    };
  }
  await expect(page.getByTestId("email")).toHaveText(person.email.toLowerCase());

  mkdirSync(STORAGE_DIR, { recursive: true });
  await page.context().storageState({ path: STORAGE_STATE });
  // No password: the tests that reuse the state never sign in again.
  writeFileSync(STORAGE_PERSON, JSON.stringify(person, null, 2));
});

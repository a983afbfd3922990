/**
 * The suite's `test`: Playwright's, plus
 * - `stack`: the suite's own stack (database file, local Kinde server). A test that asks for
 *   it is skipped, with the reason, when E2E_BASE_URL points at an app the suite did not start;
 * - `storedPerson`: who the setup project signed in (use with STORAGE_STATE).
 */
import { test as base } from "@playwright/test";
import { readFileSync } from "node:fs";
import { e2eTarget, NEEDS_LOCAL_STACK, STORAGE_PERSON } from "./env";
import type { Person } from "./flows";

export interface LocalStack {
  baseUrl: string;
  databaseFile: string;
  kindeUrl: string;
  kindeDataDir: string;
}

export const test = base.extend<{ stack: LocalStack; storedPerson: Omit<Person, "password"> }>({
  stack: async ({}, use, testInfo) => {
    const target = e2eTarget();
    testInfo.skip(!target.databaseFile || !target.kindeUrl || !target.kindeDataDir, NEEDS_LOCAL_STACK);
    await use({
      baseUrl: target.baseUrl,
      databaseFile: target.databaseFile!,
      kindeUrl: target.kindeUrl!,
      kindeDataDir: target.kindeDataDir!,
    });
  },
  storedPerson: async ({}, use) => {
    await use(JSON.parse(readFileSync(STORAGE_PERSON, "utf8")) as Omit<Person, "password">);
  },
});

export { expect } from "@playwright/test";

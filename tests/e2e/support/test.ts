// Playwright's `test` plus `stack`, `storedPerson`, `newPersonPage` and a guard: a console error or uncaught
// exception fails the test unless in `allowedPageErrors`. A 4xx page or data request is no error (its test checks
// the status); a 4xx file is.
import { test as base, type BrowserContext, type ConsoleMessage, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { e2eTarget, NEEDS_LOCAL_STACK, STORAGE_PERSON } from "./env";
import type { Person } from "./auth-steps";

export interface LocalStack {
  baseUrl: string;
  databaseFile: string;
  kindeUrl: string;
  kindeDataDir: string;
}

/** A 4xx answer to a page or a Remix data request (not to a file such as /assets/x.js). */
function isExpectedClientError(message: ConsoleMessage): boolean {
  if (!/^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) return false;
  const path = URL.canParse(message.location().url) ? new URL(message.location().url).pathname : "";
  return !/\.(?!data$)[a-z0-9]+$/i.test(path);
}

function watchForErrors(page: Page, errors: string[]): void {
  page.on("console", (message) => {
    if (message.type() === "error" && !isExpectedClientError(message)) {
      errors.push(`console.error on ${page.url()}: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => errors.push(`uncaught on ${page.url()}: ${error.stack ?? error.message}`));
}

export const test = base.extend<{
  stack: LocalStack;
  storedPerson: Omit<Person, "password">;
  /** Another person's page: a browser context of its own, with the test's JavaScript setting, watched by the guard. */
  newPersonPage: () => Promise<Page>;
  allowedPageErrors: RegExp[];
  pageErrors: string[];
  pageErrorGuard: void;
}>({
  stack: async ({}, use, testInfo) => {
    const target = e2eTarget();
    testInfo.skip(!target.databaseFile || !target.kindeUrl || !target.kindeDataDir, NEEDS_LOCAL_STACK);
    await use(target as LocalStack);
  },
  storedPerson: async ({}, use) => {
    await use(JSON.parse(readFileSync(STORAGE_PERSON, "utf8")) as Omit<Person, "password">);
  },
  newPersonPage: async ({ browser, baseURL, javaScriptEnabled, pageErrors }, use) => {
    const contexts: BrowserContext[] = [];
    await use(async () => {
      const context = await browser.newContext({ baseURL, javaScriptEnabled });
      contexts.push(context);
      const page = await context.newPage();
      watchForErrors(page, pageErrors);
      return page;
    });
    await Promise.all(contexts.map((context) => context.close()));
  },
  allowedPageErrors: [[], { option: true }],
  pageErrors: async ({}, use) => {
    await use([]);
  },
  pageErrorGuard: [
    async ({ context, allowedPageErrors, pageErrors: errors }, use, testInfo) => {
      for (const page of context.pages()) watchForErrors(page, errors);
      context.on("page", (page) => watchForErrors(page, errors));
      await use();
      const unexpected = errors.filter((error) => !allowedPageErrors.some((allowed) => allowed.test(error)));
      if (unexpected.length > 0) await testInfo.attach("page errors", { body: unexpected.join("\n") });
      // A test that already failed keeps its own message; the errors are attached to it.
      if (unexpected.length > 0 && testInfo.status === "passed") {
        throw new Error(`The page logged errors the test did not declare:\n${unexpected.join("\n")}`);
      }
    },
    { auto: true },
  ],
});

export { expect } from "@playwright/test";

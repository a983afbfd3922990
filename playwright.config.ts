/**
 * Browser tests (Playwright). Run them with `npm run test:e2e` (scripts/e2e.ts builds the app,
 * picks a browser, then runs `playwright test`); see tests/e2e/README.md.
 *
 * By default the run starts its own stack (tests/e2e/global-setup.ts, with tests/support/stack.ts): the
 * production build started as `npm start` starts it, the local Kinde server beside it, and a
 * migrated SQLite file, on ports picked here, in a temporary directory removed afterwards.
 * Nothing touches the developer's data.
 *
 * Against real Kinde: start the app yourself with .env pointing at a Kinde test environment
 * (KINDE_ISSUER_URL, KINDE_CLIENT_ID, KINDE_CLIENT_SECRET), then set, in .env or the
 * environment:
 *   E2E_BASE_URL=http://localhost:3000     the running app; no stack is started
 *   E2E_USER_EMAIL=someone@your-test-domain  an existing Kinde user (signing up at Kinde
 *   E2E_USER_PASSWORD=...                    needs an emailed code, so no test signs up there)
 * The sign-in helpers only use Kinde's field names (p_email, p_password). Tests that need
 * a new user, the database file or the local Kinde server's specifics are skipped in that
 * mode, each with the reason.
 */
import { defineConfig } from "@playwright/test";
import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { pickPorts } from "./tests/support/ports";
import { e2eTarget, STORAGE_STATE } from "./tests/e2e/support/env";
import { launchOptions } from "./tests/support/chromium";

/** Only the E2E_* variables of .env: the app's own variables are the stack's business. */
function loadE2eVariablesFromDotEnv(): void {
  if (!existsSync(".env")) return;
  const variables = parseEnv(readFileSync(".env", "utf8"));
  for (const [name, value] of Object.entries(variables)) {
    if (name.startsWith("E2E_") && value !== undefined && value !== "") process.env[name] ??= value;
  }
}

loadE2eVariablesFromDotEnv();
const external = Boolean(process.env.E2E_BASE_URL);
if (!external && (!process.env.E2E_APP_PORT || !process.env.E2E_KINDE_PORT)) {
  // The runner evaluates this file first and its workers inherit what it set here.
  const [appPort, kindePort] = await pickPorts(2);
  process.env.E2E_APP_PORT ??= String(appPort);
  process.env.E2E_KINDE_PORT ??= String(kindePort);
}
const target = e2eTarget();

export default defineConfig({
  testDir: "tests/e2e",
  outputDir: "test-results",
  fullyParallel: true,
  forbidOnly: Boolean(process.env.CI),
  // The machine this was written on has 2 cores; the stack itself needs one.
  workers: 2,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [["list"], ["html", { open: "never", outputFolder: "playwright-report" }]],
  use: {
    baseURL: target.baseUrl,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions,
  },
  projects: [
    // Signs one user up (or in, against real Kinde) and saves the browser state.
    { name: "setup", testMatch: /.*\.setup\.ts/ },
    {
      name: "chromium",
      testMatch: /.*\.spec\.ts/,
      dependencies: ["setup"],
      use: { javaScriptEnabled: true },
    },
    // The forms again, as plain HTML: full-page POST, redirect, server-rendered errors.
    {
      name: "chromium-no-js",
      testMatch: /(profile|delete-account)\.spec\.ts/,
      // These tests sign their own people up; setup runs first anyway, so the first sign-ins
      // of a fresh server do not race (cold-start.spec.ts tests that race on purpose).
      dependencies: ["setup"],
      use: { javaScriptEnabled: false },
    },
  ],
  globalSetup: "./tests/e2e/global-setup.ts",
  metadata: { storageState: STORAGE_STATE },
});

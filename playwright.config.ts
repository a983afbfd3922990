/**
 * Browser tests (Playwright). Run them with `npm run test:e2e` (scripts/e2e.ts builds the app,
 * picks a browser, then runs `playwright test`); see tests/e2e/README.md.
 *
 * By default the run starts its own stack (tests/e2e/support/serve.ts): the production build
 * on a free port, the local Kinde server on another, and a migrated SQLite file, all in a
 * temporary directory that is removed afterwards. Nothing touches the developer's data.
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
import { defineConfig, type LaunchOptions } from "@playwright/test";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { e2eTarget, STORAGE_STATE } from "./tests/e2e/support/env";
import { freePorts } from "./tests/e2e/support/ports";

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
  const [appPort, kindePort] = await freePorts(2);
  process.env.E2E_APP_PORT ??= String(appPort);
  process.env.E2E_KINDE_PORT ??= String(kindePort);
}
if (!external) {
  process.env.E2E_STATE_DIR ??= join(tmpdir(), `rkp-e2e-${randomUUID().slice(0, 8)}`);
  process.env.E2E_DATABASE_FILE ??= join(process.env.E2E_STATE_DIR, "app.db");
}
const target = e2eTarget();

// scripts/e2e.ts passes the browser it found; run directly, Debian's Chromium is preferred
// when present, else Playwright's own (`npx playwright install chromium`).
const executablePath =
  process.env.E2E_CHROMIUM_PATH || (existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : undefined);
const launchOptions: LaunchOptions = {
  ...(executablePath ? { executablePath } : {}),
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
};

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
  webServer: external
    ? undefined
    : {
        // node --import tsx, not the tsx wrapper: the wrapper SIGKILLs a child that takes
        // more than ~30 ms to acknowledge SIGTERM, which cut the stack's cleanup short.
        command: "node --import tsx tests/e2e/support/serve.ts",
        url: `${target.baseUrl}/`,
        reuseExistingServer: false,
        timeout: 120_000,
        stdout: "pipe",
        stderr: "pipe",
        gracefulShutdown: { signal: "SIGTERM", timeout: 20_000 },
      },
  metadata: { storageState: STORAGE_STATE, databaseFile: target.databaseFile ?? "(none: external app)" },
});

// Chromium: E2E_CHROMIUM_PATH, else /usr/bin/chromium, else Playwright's own. The flags avoid background
// connections a machine without internet access would refuse.
import type { LaunchOptions } from "@playwright/test";
import { existsSync } from "node:fs";

const executablePath =
  process.env.E2E_CHROMIUM_PATH || (existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : undefined);

export const launchOptions: LaunchOptions = {
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

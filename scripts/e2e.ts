// npm run test:e2e [-- playwright args]: builds the app (unless SKIP_BUILD=1), finds a Chromium, runs Playwright.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chromium } from "@playwright/test";

const BIN = "node_modules/.bin";
const DEBIAN_CHROMIUM = "/usr/bin/chromium";

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const result = spawnSync(command, args, { stdio: "inherit", env });
  if (result.error) throw result.error;
  return result.status ?? (result.signal ? 128 : 1);
}

function playwrightChromium(): string | undefined {
  try {
    const path = chromium.executablePath();
    return path && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

function findBrowser(): string {
  const chosen = process.env.E2E_CHROMIUM_PATH;
  if (chosen) {
    if (existsSync(chosen)) return chosen;
    console.error(`E2E_CHROMIUM_PATH is ${chosen}, which does not exist: unset it to let the script pick a browser.`);
    process.exit(1);
  }
  if (existsSync(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  const installed = playwrightChromium();
  if (installed) return installed;
  console.log("No Chromium found; trying `npx playwright install chromium` once (needs internet access)...");
  // Without internet its output is a long stack trace; the line below says what to do.
  const install = spawnSync("npx", ["playwright", "install", "chromium"], { stdio: "pipe", timeout: 600_000 });
  const downloaded = install.status === 0 ? playwrightChromium() : undefined;
  if (downloaded) return downloaded;
  console.error(
    "No browser for the e2e tests: install Chromium with `apt-get install chromium` (Debian/Ubuntu) or `npx playwright install chromium`, then run again.",
  );
  process.exit(1);
}

const executablePath = findBrowser();

const skipBuild = !["", "0", "false"].includes(process.env.SKIP_BUILD ?? "");
if (!skipBuild) {
  const status = run("npm", ["run", "build"]);
  if (status !== 0) {
    console.error("The build failed (npm run build), so the browser tests did not run.");
    process.exit(status);
  }
}

process.exit(
  run(`${BIN}/playwright`, ["test", ...process.argv.slice(2)], { ...process.env, E2E_CHROMIUM_PATH: executablePath }),
);

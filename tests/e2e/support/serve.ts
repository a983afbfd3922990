/**
 * The stack the browser tests run against, started by playwright.config.ts (`webServer`):
 * a migrated throwaway SQLite database, the local Kinde server (in this process) and the
 * production build served the way `npm start` serves it (build/app-server/main.js, a child).
 *
 * Everything lives in E2E_STATE_DIR, a temporary directory the config names and this script
 * creates and removes: the tests never touch the developer's database or Kinde users.
 * Ports and paths come from the environment (see support/env.ts), so the config, the test
 * workers and this script agree on them. SIGTERM or SIGINT stops both servers.
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { createKindeLocalServer, type KindeLocalServer } from "../../../kinde-local/server.ts";
import { appServerNodeArgs } from "../../../scripts/lib/stack.ts";
import { createMigratedTemplate } from "../../support/database.ts";
import { appEnv, TEST_CLIENT_ID, TEST_CLIENT_SECRET } from "../../support/test-env.ts";

const PREFIX = "[e2e-stack]";

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`${PREFIX} ${name} is not set: start this through playwright.config.ts`);
    process.exit(1);
  }
  return value;
}

const stateDir = required("E2E_STATE_DIR");
const databaseFile = required("E2E_DATABASE_FILE");
const appPort = Number(required("E2E_APP_PORT"));
const kindePort = Number(required("E2E_KINDE_PORT"));
const appUrl = `http://localhost:${appPort}`;
const verbose = process.env.E2E_SERVER_LOG === "1";

mkdirSync(stateDir, { recursive: true });

/** Removes the state directory (E2E_KEEP_STATE=1 keeps it, to look at the database). */
function removeState(): void {
  if (process.env.E2E_KEEP_STATE !== "1") rmSync(stateDir, { recursive: true, force: true });
}

function fail(message: string): never {
  console.error(`${PREFIX} ${message}`);
  removeState();
  process.exit(1);
}

// One migration run through the real `prisma migrate deploy`, then the file is ours.
const template = createMigratedTemplate();
copyFileSync(template, databaseFile);
rmSync(dirname(template), { recursive: true, force: true });

for (const file of ["build/server/index.js", "build/app-server/main.js"]) {
  if (!existsSync(file)) fail(`${file} is missing: run \`npm run build\` (npm run test:e2e does).`);
}

let stopping: Promise<void> | undefined;

const app = (() => {
  // What `npm start` runs: the compiled server (docs/decisions/0010-own-server.md) on Node.
  const child = spawn(process.execPath, [...appServerNodeArgs(), "build/app-server/main.js", "build/server/index.js"], {
    env: {
      ...process.env,
      ...appEnv({ siteUrl: appUrl, issuerUrl: `http://localhost:${kindePort}`, databaseFile }),
      PORT: String(appPort),
      NODE_ENV: "production",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // The app's log goes to Playwright's output only on request (E2E_SERVER_LOG=1), and its
  // errors always: a failing test then shows why the server answered 500.
  child.stdout?.on("data", (chunk: Buffer) => {
    if (verbose) process.stdout.write(chunk);
  });
  child.stderr?.on("data", (chunk: Buffer) => process.stderr.write(chunk));
  child.once("exit", (code, signal) => {
    if (!stopping) {
      console.error(`${PREFIX} the app server exited unexpectedly (code ${code}, signal ${signal})`);
      void stop(1);
    }
  });
  return child;
})();

const kinde: Promise<KindeLocalServer | undefined> = createKindeLocalServer({
  issuer: `http://localhost:${kindePort}`,
  port: kindePort,
  clientId: TEST_CLIENT_ID,
  clientSecret: TEST_CLIENT_SECRET,
  siteUrl: appUrl,
  dataDir: join(stateDir, "kinde"),
  configPath: "kinde-local/config.json",
  // Long-lived tokens: the setup project's saved session must not need a refresh (which
  // would rotate the refresh token and sign out every other test that reuses it).
  ttl: { access: 86_400, id: 86_400, refresh: 1_296_000 },
  log: verbose ? (line) => console.log(`[kinde-local] ${line}`) : () => {},
}).catch((error: unknown) => {
  console.error(
    `${PREFIX} the local Kinde server did not start: ${error instanceof Error ? error.message : String(error)}`,
  );
  void stop(1);
  return undefined;
});

/** Stops the app (SIGKILL if it lingers), then the Kinde server, then removes the state. */
async function stop(exitCode = 0): Promise<void> {
  stopping ??= (async () => {
    const forced = setTimeout(() => {
      removeState();
      process.exit(exitCode || 1);
    }, 12_000);
    forced.unref();
    if (app.exitCode === null && app.signalCode === null) {
      const exited = new Promise((resolve) => app.once("exit", resolve));
      app.kill("SIGTERM");
      const lingering = setTimeout(() => app.kill("SIGKILL"), 6_000);
      await exited;
      clearTimeout(lingering);
    }
    await (await kinde)?.close();
    removeState();
    process.exit(exitCode);
  })();
  return stopping;
}

process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());

const started = await kinde;
if (started) console.log(`${PREFIX} app ${appUrl}, local Kinde ${started.url}, database ${databaseFile}`);

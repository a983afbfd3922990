/**
 * The stack the browser tests run against, started by playwright.config.ts (`webServer`):
 * a migrated throwaway SQLite database, the local Kinde server (in this process) and the
 * production build served the way `npm start` serves it (server/main.ts, a child process).
 *
 * Everything lives in E2E_STATE_DIR, a temporary directory the config names and this script
 * creates and removes: the tests never touch the developer's database or Kinde users. The
 * app runs from a copy of build/ made at start, so a rebuild during the run (another
 * terminal, `npm run test:integration`) cannot swap the browser assets under it.
 * Ports and paths come from the environment (see support/env.ts), so the config, the test
 * workers and this script agree on them. SIGTERM or SIGINT stops both servers.
 */
import { spawn } from "node:child_process";
import { cpSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createKindeLocalServer, type KindeLocalServer } from "../../../kinde-local/server.ts";
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

// One migration run through the real `prisma migrate deploy`, then the file is ours.
const template = createMigratedTemplate();
copyFileSync(template, databaseFile);
rmSync(dirname(template), { recursive: true, force: true });

/**
 * Copies build/ into the state directory (with node_modules linked beside it, for the server
 * bundle's imports) and checks that every asset the server build names is there: a copy
 * taken while a build is being written would serve pages whose scripts answer 404.
 */
function snapshotBuild(): string {
  const appDir = join(stateDir, "app");
  const problem = (): string | undefined => {
    const serverFile = join(appDir, "build/server/index.js");
    if (!existsSync(serverFile)) return "build/server/index.js is missing";
    const server = readFileSync(serverFile, "utf8");
    const assets = [...new Set(server.match(/"\/assets\/[^"]+"/g) ?? [])].map((quoted) => quoted.slice(1, -1));
    const missing = assets.filter((asset) => !existsSync(join(appDir, "build/client", asset)));
    return missing.length > 0 ? `build/client lacks ${missing.slice(0, 3).join(", ")}` : undefined;
  };
  const attempts = 15;
  for (let attempt = 1; ; attempt++) {
    rmSync(appDir, { recursive: true, force: true });
    mkdirSync(appDir, { recursive: true });
    if (existsSync("build")) cpSync("build", join(appDir, "build"), { recursive: true });
    const found = problem();
    if (!found) break;
    if (attempt === attempts) {
      console.error(`${PREFIX} no usable build: ${found}. Run \`npm run build\` (npm run test:e2e does) and make sure no other build is running.`);
      process.exit(1);
    }
    // Most likely another build is writing build/ right now: let it finish, then copy again.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2_000);
  }
  // The server bundle imports packages, and the server serves public/, from its directory.
  symlinkSync(resolve("node_modules"), join(appDir, "node_modules"), "dir");
  if (existsSync("public")) symlinkSync(resolve("public"), join(appDir, "public"), "dir");
  return appDir;
}

const appDir = snapshotBuild();

let kinde: KindeLocalServer | undefined;
let stopping: Promise<void> | undefined;

/**
 * What `npm start` serves the build with: server/main.ts (the app's own express server,
 * docs/decisions/0010-own-server.md), or remix-serve in a checkout that does not have it.
 */
function serverCommand(): [string, string[]] {
  const ownServer = resolve("server/main.ts");
  if (existsSync(ownServer)) return [resolve("node_modules/.bin/tsx"), [ownServer, "build/server/index.js"]];
  return [resolve("node_modules/.bin/remix-serve"), ["build/server/index.js"]];
}

const app = (() => {
  const [command, args] = serverCommand();
  const child = spawn(command, args, {
    cwd: appDir,
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

async function stop(exitCode = 0): Promise<void> {
  stopping ??= (async () => {
    const forced = setTimeout(() => process.exit(exitCode || 1), 10_000);
    forced.unref();
    if (app.exitCode === null && app.signalCode === null) {
      const exited = new Promise((resolve) => app.once("exit", resolve));
      app.kill("SIGTERM");
      await exited;
    }
    await kinde?.close();
    if (process.env.E2E_KEEP_STATE !== "1") rmSync(stateDir, { recursive: true, force: true });
    process.exit(exitCode);
  })();
  return stopping;
}

process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());

try {
  kinde = await createKindeLocalServer({
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
  });
} catch (error) {
  console.error(`${PREFIX} the local Kinde server did not start: ${error instanceof Error ? error.message : String(error)}`);
  await stop(1);
}

console.log(`${PREFIX} app ${appUrl}, local Kinde ${kinde?.url}, database ${databaseFile}`);

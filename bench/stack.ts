/**
 * The system under test, started the way production runs it:
 * - the app's production build in its own process (NODE_ENV=production), served as `npm start`
 *   does (the compiled server/main.ts, build/app-server/main.js, on plain Node), or by
 *   remix-serve (BENCH_SERVER=remix-serve);
 * - the local Kinde server in this (the orchestrator's) process, as the tests run it;
 * - a throwaway SQLite database, migrated with the real migrations, in a temp directory.
 *
 * Children get an environment built here from scratch: nothing is inherited from the caller
 * except PATH-like basics, so a test runner's DATABASE_URL or a developer's KINDE_* cannot leak
 * in. Every variable of the app's configuration is set below, and the app runs in a directory
 * of its own (a copy of build/, see snapshotBuild), where there is no .env to load.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { createKindeLocalServer, type KindeLocalServer } from "../kinde-local/server";
import { appEnv, TEST_CLIENT_ID, TEST_CLIENT_SECRET } from "../tests/support/test-env";
import type { ServerKind } from "./config";

export const ROOT = resolve(import.meta.dirname, "..");
const REMIX_SERVE_CLI = join(ROOT, "node_modules/@remix-run/serve/dist/cli.js");
/** The project's own production server's source; when it exists, `npm start` serves with it. */
const APP_SERVER_SOURCE = join(ROOT, "server/main.ts");
const SERVER_BUILD = join(ROOT, "build/server/index.js");
/** The project's own production server, compiled by `npm run build` (server/tsconfig.json). */
const APP_SERVER_BUILD = join(ROOT, "build/app-server/main.js");
const LOG_LIMIT = 64 * 1024;

/**
 * A child's whole environment: the basics any process needs (finding executables, a home, a
 * temp dir, a locale) and `extra`, nothing else inherited.
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TZ", "SystemRoot", "USERPROFILE", "TEMP", "TMP"];
  const env: Record<string, string> = {};
  for (const name of keep) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  // The app's types declare NODE_ENV as always present; children get it only when asked for.
  return { ...env, ...extra } as NodeJS.ProcessEnv;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** The project's own server when it has one, else remix-serve. */
export function defaultServer(): ServerKind {
  return existsSync(APP_SERVER_SOURCE) ? "app" : "remix-serve";
}

/** Whether build/ has what `server` needs. */
export function buildExists(server: ServerKind): boolean {
  return existsSync(SERVER_BUILD) && (server === "remix-serve" || existsSync(APP_SERVER_BUILD));
}

/** `npm run build`: whatever the project builds for production (remix vite:build, the server...). */
export function buildApp(): { seconds: number } {
  const started = performance.now();
  const result = spawnSync("npm", ["run", "build"], {
    cwd: ROOT,
    env: childEnv({ NODE_ENV: "production" }),
    encoding: "utf8",
    timeout: 300_000,
  });
  if (result.status !== 0) {
    throw new Error(
      `npm run build failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stdout}${result.stderr}`,
    );
  }
  return { seconds: (performance.now() - started) / 1000 };
}

/**
 * A private copy of build/ in `dir`, to serve from: another `remix vite:build` (tests, a
 * developer) empties build/ while it runs, which would pull the files out from under a running
 * benchmark. `dir` gets links to node_modules (the bundle's imports resolve from its own
 * location) and public/, and no .env: the server runs with `dir` as its working directory, so
 * a developer's .env cannot fill in anything this benchmark did not set.
 */
export function snapshotBuild(dir: string): { serverBuild: string; appServer: string } {
  const target = join(dir, "build");
  mkdirSync(target, { recursive: true });
  cpSync(join(ROOT, "build/server"), join(target, "server"), { recursive: true });
  for (const part of ["client", "app-server"]) {
    if (existsSync(join(ROOT, "build", part)))
      cpSync(join(ROOT, "build", part), join(target, part), { recursive: true });
  }
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  if (existsSync(join(ROOT, "public"))) symlinkSync(join(ROOT, "public"), join(dir, "public"), "dir");
  const serverBuild = join(target, "server/index.js");
  if (!existsSync(serverBuild))
    throw new Error(`${serverBuild} is missing after copying build/: was it being rebuilt? Try again.`);
  return { serverBuild, appServer: join(target, "app-server/main.js") };
}

/** A new migrated database in a temp directory (`prisma migrate deploy`, the real migrations). */
export function migratedDatabase(dir: string): string {
  const file = join(dir, "bench.db");
  const result = spawnSync(join(ROOT, "node_modules/.bin/prisma"), ["migrate", "deploy"], {
    cwd: ROOT,
    env: childEnv({ DATABASE_URL: `file:${file}` }),
    encoding: "utf8",
    timeout: 120_000,
  });
  if (result.status !== 0) {
    throw new Error(
      `prisma migrate deploy failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stdout}${result.stderr}`,
    );
  }
  return file;
}

export interface AppServer {
  url: string;
  pid: number;
  child: ChildProcess;
  log(): string;
  /** SIGTERM (remix-serve closes and lets the process end), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

export interface StackOptions {
  /** Directory for the database and the Kinde server's data; removed by stop(). */
  workDir: string;
  server: ServerKind;
  /** Extra Node.js flags for the app process. */
  nodeArgs?: string[];
  /** Write a V8 CPU profile of the app to this directory when it exits. */
  cpuProfileDir?: string;
}

export interface Stack {
  app: AppServer;
  kinde: KindeLocalServer;
  databaseFile: string;
  stop(): Promise<void>;
}

async function waitForHttp(url: string, child: ChildProcess, log: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the app exited (${child.exitCode ?? child.signalCode}) before answering:\n${log()}`);
    }
    try {
      const response = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not answer in ${timeoutMs} ms:\n${log()}`);
      await new Promise((resolveWait) => setTimeout(resolveWait, 50));
    }
  }
}

function startApp(options: {
  port: number;
  server: ServerKind;
  serverBuild: string;
  appServer: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  nodeArgs: string[];
  cpuProfileDir?: string;
}): Promise<AppServer> {
  const profileArgs = options.cpuProfileDir
    ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`, "--cpu-prof-name=app.cpuprofile"]
    : [];
  // Node itself is the child in both cases (no wrapper process), so its pid is the server's
  // for memory readings, and --cpu-prof profiles the server.
  const serverArgs =
    options.server === "app" ? [options.appServer, options.serverBuild] : [REMIX_SERVE_CLI, options.serverBuild];
  const child = spawn(process.execPath, [...options.nodeArgs, ...profileArgs, ...serverArgs], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const append = (chunk: Buffer) => {
    log += chunk.toString();
    if (log.length > LOG_LIMIT) log = log.slice(-LOG_LIMIT);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  const exited = new Promise<number | null>((resolveExit) => child.once("exit", (code) => resolveExit(code)));
  const url = `http://localhost:${options.port}`;
  const server: AppServer = {
    url,
    pid: child.pid ?? -1,
    child,
    log: () => log,
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
  return waitForHttp(`${url}/`, child, () => log).then(
    () => server,
    async (error: unknown) => {
      child.kill("SIGKILL");
      await exited;
      throw error;
    },
  );
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const databaseFile = migratedDatabase(options.workDir);
  const appDir = join(options.workDir, "app");
  const { serverBuild, appServer } = snapshotBuild(appDir);
  if (options.server === "app" && !existsSync(appServer)) {
    throw new Error(
      `${relative(ROOT, APP_SERVER_BUILD)} is missing: build with \`npm run build\` (or run without BENCH_SKIP_BUILD).`,
    );
  }
  const appPort = await freePort();
  const appUrl = `http://localhost:${appPort}`;
  const kinde = await createKindeLocalServer({
    issuer: "http://localhost:0",
    port: 0,
    clientId: TEST_CLIENT_ID,
    clientSecret: TEST_CLIENT_SECRET,
    siteUrl: appUrl,
    dataDir: mkdtempSync(join(options.workDir, "kinde-")),
    configPath: join(ROOT, "kinde-local/config.json"),
    // Long-lived tokens: the benchmark measures signed-in requests, not token refreshes.
    ttl: { access: 86_400, id: 86_400, refresh: 1_296_000 },
    log: () => {},
  });
  let app: AppServer;
  try {
    app = await startApp({
      port: appPort,
      server: options.server,
      serverBuild,
      appServer,
      cwd: appDir,
      nodeArgs: options.nodeArgs ?? [],
      cpuProfileDir: options.cpuProfileDir,
      env: childEnv({
        ...appEnv({ siteUrl: appUrl, issuerUrl: kinde.url, databaseFile }),
        PORT: String(appPort),
        NODE_ENV: "production",
      }),
    });
  } catch (error) {
    await kinde.close();
    throw error;
  }
  return {
    app,
    kinde,
    databaseFile,
    async stop() {
      await app.stop();
      await kinde.close();
    },
  };
}

export function makeWorkDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "rkp-bench-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

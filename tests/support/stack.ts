/**
 * Starts a whole stack for one test file: the local Kinde server (in this process) and the
 * production build of the app (its own process, as `npm start` runs it), on free ports,
 * with a fresh database. Nothing is shared with other files or with the developer's data.
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKindeLocalServer } from "../../kinde-local/server";
import { appServerNodeArgs } from "../../scripts/lib/stack";
import { freshDatabaseFile } from "./database";
import { appEnv, TEST_CLIENT_ID, TEST_CLIENT_SECRET } from "./test-env";

export interface Stack {
  appUrl: string;
  issuerUrl: string;
  databaseFile: string;
  /** The local Kinde server's data folder (its signing key is in signing-key.json). */
  kindeDataDir: string;
  /** Stops only the Kinde server: the app then finds its issuer unreachable. */
  stopKinde: () => Promise<void>;
  /** The app's output so far (stdout and stderr), for assertions on logs. */
  appLog: () => string;
  /** Resolves when the app's output contains `text` (event-driven, no polling). */
  waitForLog: (text: string, timeoutMs?: number) => Promise<void>;
  stop: () => Promise<void>;
  stopApp: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export interface StackOptions {
  ttl?: { access?: number; id?: number; refresh?: number };
  env?: Record<string, string>;
  /** Called with the fresh database file before the app starts (to break it on purpose). */
  prepareDatabase?: (file: string) => void;
  /** Run the app as this user (tests of file permissions must not run as root). */
  uid?: number;
  gid?: number;
}

/**
 * The app's port must be known before it starts (KINDE_SITE_URL names it), so it is chosen
 * here: below the kernel's ephemeral range, where servers started on port 0 (the local Kinde
 * server, other test files' servers) never land. If another test file picked the same port,
 * the app fails to listen and the whole stack is started again on another one.
 */
const APP_PORTS = { from: 20_000, to: 30_000 };

class PortTaken extends Error {}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStackOnce(options);
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt >= 5) throw error;
    }
  }
}

async function startStackOnce(options: StackOptions): Promise<Stack> {
  const appPort = APP_PORTS.from + Math.floor(Math.random() * (APP_PORTS.to - APP_PORTS.from));
  const appUrl = `http://localhost:${appPort}`;
  const kindeDataDir = mkdtempSync(join(tmpdir(), "rkp-kinde-"));
  const kinde = await createKindeLocalServer({
    issuer: "http://localhost:0",
    port: 0,
    clientId: TEST_CLIENT_ID,
    clientSecret: TEST_CLIENT_SECRET,
    siteUrl: appUrl,
    dataDir: kindeDataDir,
    configPath: "kinde-local/config.json",
    ttl: { access: 86_400, id: 3_600, refresh: 1_296_000, ...options.ttl },
    log: () => {},
  });
  const databaseFile = freshDatabaseFile();
  options.prepareDatabase?.(databaseFile);
  let log = "";
  const logWaiters = new Set<() => void>();
  const app = spawn(process.execPath, [...appServerNodeArgs(), "build/app-server/main.js", "build/server/index.js"], {
    env: {
      ...process.env,
      ...appEnv({ siteUrl: appUrl, issuerUrl: kinde.url, databaseFile }),
      PORT: String(appPort),
      NODE_ENV: "production",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    uid: options.uid,
    gid: options.gid,
  });
  const onOutput = (chunk: Buffer) => {
    log += chunk.toString();
    for (const check of logWaiters) check();
  };
  app.stdout?.on("data", onOutput);
  app.stderr?.on("data", onOutput);
  const waitForLog = (text: string, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        logWaiters.delete(check);
        reject(new Error(`the app never logged ${JSON.stringify(text)}:\n${log}`));
      }, timeoutMs);
      const check = () => {
        if (!log.includes(text)) return;
        clearTimeout(timer);
        logWaiters.delete(check);
        resolve();
      };
      logWaiters.add(check);
      check();
    });
  const exited = new Promise<number | null>((resolve) => app.once("exit", (code) => resolve(code)));
  try {
    // The app's own "listening" line, not any answer on the port: another process could hold it.
    await Promise.race([
      waitForLog(`[server] http://localhost:${appPort}`, 30_000),
      exited.then((code) => {
        throw log.includes("EADDRINUSE")
          ? new PortTaken(`port ${appPort} taken`)
          : new Error(`app exited with code ${code}`);
      }),
    ]);
  } catch (error) {
    app.kill("SIGKILL");
    await kinde.close();
    if (error instanceof PortTaken) throw error;
    throw new Error(`${(error as Error).message}\n${log}`);
  }

  const stopApp = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (app.exitCode === null) app.kill(signal);
    return exited;
  };
  let kindeStopped: Promise<void> | undefined;
  const stopKinde = () => (kindeStopped ??= kinde.close());
  return {
    appUrl,
    issuerUrl: kinde.url,
    databaseFile,
    kindeDataDir,
    stopKinde,
    appLog: () => log,
    waitForLog,
    stopApp,
    stop: async () => {
      await stopApp();
      await stopKinde();
    },
  };
}

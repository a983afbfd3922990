/**
 * A whole stack for a test file, the browser tests or the benchmark: the app started as
 * `npm start` (or `npm run dev`) starts it, a migrated throwaway database, and the local Kinde
 * server, either in this process (tests: they can stop it alone and read its key) or as the
 * app's own child, exactly as `npm start` runs it. Nothing is shared with other stacks or
 * with the developer's data.
 *
 * As with `npm run dev`, the local Kinde server sends its webhooks to the app's
 * /webhooks/kinde (with a short retry schedule); `webhooks: false` turns that off.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RateLimit } from "../kinde-local/rate-limit.ts";
import { createKindeLocalServer, type KindeLocalServer, type KindeLocalServerOptions } from "../kinde-local/server.ts";
import { appEnv, TEST_CLIENT_ID, TEST_CLIENT_SECRET } from "../tests/support/test-env.ts";
import { baseEnv, ROOT, startApp, type AppMode, type AppProcess } from "./app.ts";
import { freshDatabaseFile } from "./database.ts";
import { pickPorts, PortTaken } from "./ports.ts";
import { TextLog, type OutputOptions } from "./ready.ts";

export { TestBrowser, linkHref, textOf, type Page } from "./browser.ts";
export { pickPort, pickPorts } from "./ports.ts";
export { freshDatabaseFile } from "./database.ts";

export interface Stack {
  appUrl: string;
  issuerUrl: string;
  databaseFile: string;
  /** The local Kinde server's data folder (its signing key is in signing-key.json). */
  kindeDataDir: string;
  /** Stops only the Kinde server: the app then finds its issuer unreachable (in-process Kinde only). */
  stopKinde: () => Promise<void>;
  /**
   * Stops the Kinde server and starts it again on the same port and data folder (users, key and
   * pending webhook deliveries kept), with `changes` to its options (in-process Kinde only).
   */
  restartKinde: (changes?: KindeChanges) => Promise<void>;
  /** The Kinde server's log so far: a line per request and per webhook attempt (in-process Kinde only). */
  kindeLog: () => string;
  /** Resolves with the match when the Kinde server's log contains `text` (event-driven, no polling). */
  waitForKindeLog: (text: string | RegExp, timeoutMs?: number) => Promise<string>;
  /**
   * Resolves once every webhook delivery the Kinde server holds now has been answered 200 by
   * the app (so the app has applied it), or given up on. In-process Kinde only.
   */
  webhooksSettled: () => Promise<void>;
  /** The running (or last) app process's output so far (stdout and stderr), for assertions on logs. */
  appLog: () => string;
  /** Resolves with the match when the app's output contains `text` (event-driven, no polling). */
  waitForLog: (text: string | RegExp, timeoutMs?: number) => Promise<string>;
  /** Stops the app and the Kinde server, and removes the stack's files. */
  stop: () => Promise<void>;
  stopApp: (signal?: NodeJS.Signals) => Promise<number | null>;
  /** Starts the app again after stopApp(): the same command, environment, port and database. */
  startApp: () => Promise<void>;
  /** The running (or last) app process. */
  readonly app: AppProcess;
}

/** What restartKinde() may change. */
export interface KindeChanges {
  /** Management API requests per client and window (false: no limit). */
  apiRateLimit?: RateLimit | false;
}

export interface StackOptions {
  /** `production` (default): `npm start`'s command on the build; `development`: `npm run dev`'s. */
  mode?: AppMode;
  /** `in-process` (default) or `child`: started by the app itself, as `npm start` does. */
  kinde?: "in-process" | "child";
  ttl?: { access?: number; id?: number; refresh?: number };
  /** More applications at the local Kinde server besides the app's own (in-process Kinde only). */
  kindeApplications?: KindeLocalServerOptions["applications"];
  /**
   * Kinde's webhooks to the app's /webhooks/kinde, as `npm run dev` wires them (default true).
   * Off for a test about what the app does when it hears nothing (in-process Kinde only).
   */
  webhooks?: boolean;
  /** Extra variables for the app (they win over the stack's). */
  env?: Record<string, string>;
  /** Called with the fresh database file before the app starts (to break it on purpose). */
  prepareDatabase?: (file: string) => void;
  /** Fixed ports (the browser tests' config names them first); picked when unset. */
  ports?: { app: number; kinde: number };
  nodeFlags?: string[];
  output?: OutputOptions;
  /** Leave the database and the Kinde data in place after stop(). */
  keepFiles?: boolean;
}

const LONG_TTL = { access: 86_400, id: 3_600, refresh: 1_296_000 };
/** Kinde's retry schedule, cut to fractions of a second: an app restarted in a test hears within one. */
export const TEST_WEBHOOK_RETRY_DELAYS_MS = [100, 200, 500];

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStackOnce(options);
    } catch (error) {
      if (!(error instanceof PortTaken) || options.ports || attempt >= 5) throw error;
    }
  }
}

const IN_APP = "the local Kinde server runs inside the app (kinde: child)";

async function startStackOnce(options: StackOptions): Promise<Stack> {
  const [appPort = 0, kindePort = 0] = options.ports ? [options.ports.app, options.ports.kinde] : await pickPorts(2);
  const appUrl = `http://localhost:${appPort}`;
  const webhooks = options.webhooks ?? true;
  if (options.kinde === "child" && !webhooks) throw new Error(`webhooks: false needs the in-process Kinde: ${IN_APP}`);
  const workDir = mkdtempSync(join(tmpdir(), "rkp-stack-"));
  const kindeDataDir = join(workDir, "kinde");
  const ttl = { ...LONG_TTL, ...options.ttl };
  const databaseFile = await freshDatabaseFile(workDir, ROOT);
  options.prepareDatabase?.(databaseFile);

  let kinde: KindeLocalServer | undefined;
  let issuerUrl = `http://localhost:${kindePort}`;
  const kindeLog = new TextLog(1024 * 1024);
  const kindeEnv: Record<string, string> = { KINDE_LOCAL_START: "false" };
  const launchKinde = (port: number, changes: KindeChanges = {}) =>
    createKindeLocalServer({
      issuer: `http://localhost:${port}`,
      port,
      clientId: TEST_CLIENT_ID,
      clientSecret: TEST_CLIENT_SECRET,
      siteUrl: appUrl,
      dataDir: kindeDataDir,
      configPath: join(ROOT, "kinde-local/config.json"),
      ttl,
      applications: options.kindeApplications,
      webhooks: webhooks
        ? { endpoints: [`${appUrl}/webhooks/kinde`], retryDelaysMs: TEST_WEBHOOK_RETRY_DELAYS_MS }
        : undefined,
      ...changes,
      log: (line) => kindeLog.append(`${line}\n`),
    });
  if (options.kinde === "child") {
    // The app passes KINDE_LOCAL_WEBHOOK_URLS to its Kinde child itself (server/index.ts).
    Object.assign(kindeEnv, {
      KINDE_LOCAL_START: "auto",
      KINDE_LOCAL_DATA_DIR: kindeDataDir,
      KINDE_LOCAL_ACCESS_TOKEN_TTL: String(ttl.access),
      KINDE_LOCAL_ID_TOKEN_TTL: String(ttl.id),
      KINDE_LOCAL_REFRESH_TOKEN_TTL: String(ttl.refresh),
      KINDE_LOCAL_WEBHOOK_RETRY_DELAYS_MS: TEST_WEBHOOK_RETRY_DELAYS_MS.join(","),
    });
  } else {
    kinde = await launchKinde(0);
    issuerUrl = kinde.url;
  }
  let kindeStopped: Promise<void> | undefined;
  const inProcessKinde = (): KindeLocalServer => {
    if (!kinde) throw new Error(IN_APP);
    return kinde;
  };
  const stopKinde = () => (kindeStopped ??= kinde ? kinde.close() : Promise.reject(new Error(IN_APP)));

  const appOptions = {
    mode: options.mode,
    port: appPort,
    env: baseEnv({
      ...appEnv({ siteUrl: appUrl, issuerUrl, databaseFile }),
      ...kindeEnv,
      // Vite's pre-bundled dependencies, fresh for this server (dev mode).
      DEV_CACHE_DIR: join(workDir, "vite"),
      ...options.env,
    }),
    nodeFlags: options.nodeFlags,
    output: options.output,
  };
  let app: AppProcess;
  try {
    app = await startApp(appOptions);
  } catch (error) {
    await kinde?.close();
    rmSync(workDir, { recursive: true, force: true });
    throw error;
  }

  const stopApp = (signal: NodeJS.Signals = "SIGTERM") => app.stop(signal);
  return {
    appUrl,
    issuerUrl,
    databaseFile,
    kindeDataDir,
    stopKinde,
    async restartKinde(changes) {
      const { port } = inProcessKinde();
      await stopKinde();
      kinde = await launchKinde(port, changes);
      kindeStopped = undefined;
    },
    kindeLog: () => {
      inProcessKinde();
      return kindeLog.text();
    },
    async waitForKindeLog(text, timeoutMs) {
      inProcessKinde();
      return kindeLog.waitFor(text, timeoutMs);
    },
    webhooksSettled: async () => inProcessKinde().webhooksSettled(),
    appLog: () => app.output.text(),
    waitForLog: (text, timeoutMs) => app.output.waitFor(text, timeoutMs),
    stopApp,
    async startApp() {
      if (app.child.exitCode === null && app.child.signalCode === null) throw new Error("the app is still running");
      app = await startApp(appOptions);
    },
    get app() {
      return app;
    },
    stop: async () => {
      await stopApp();
      if (kinde) await stopKinde();
      if (!options.keepFiles) rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/**
 * A whole stack for a test file, the browser tests or the benchmark: the app started as
 * `npm start` (or `npm run dev`) starts it (one instance, or several behind HAProxy), a
 * migrated throwaway database (SQLite or PostgreSQL), and the local Kinde server, either in
 * this process (tests: they can stop it alone and read its key), as the app's own child
 * (exactly as `npm start` runs it), or as a process of its own beside several instances.
 * Nothing is shared with other stacks or with the developer's data.
 *
 * As with `npm run dev`, the local Kinde server sends its webhooks to the app's
 * /webhooks/kinde (with a short retry schedule); `webhooks: false` turns that off.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseProvider } from "../../app/lib/database/url.ts";
import type { RateLimit } from "../../kinde-local/rate-limit.ts";
import {
  createKindeLocalServer,
  type KindeLocalServer,
  type KindeLocalServerOptions,
} from "../../kinde-local/server.ts";
import { appEnv, TEST_CLIENT_ID, TEST_CLIENT_SECRET } from "./test-env.ts";
import { baseEnv, ROOT, startApp, type AppMode, type AppProcess } from "./app-process.ts";
import { databaseAccess, type StackDatabase } from "./database-access.ts";
import { freshDatabaseFile } from "./databases.ts";
import { startHaproxy, type Haproxy } from "./haproxy.ts";
import { startLocalKinde, type KindeChild } from "../../server/kinde-local.ts";
import { pickPorts, PortTaken } from "./ports.ts";
import { dropPostgresDatabase, freshPostgresDatabase, TEMPLATE_DATABASE, type PostgresServer } from "./postgres.ts";
import { TextLog, type OutputOptions } from "../../server/ready.ts";

export { TestBrowser, linkHref, textOf, type Page } from "./browser.ts";
export { pickPort, pickPorts } from "./ports.ts";
export { freshDatabaseFile } from "./databases.ts";
export { databaseAccess, type StackDatabase } from "./database-access.ts";

export interface Stack {
  /** Where a browser goes: the app, or the load balancer in front of the instances. */
  appUrl: string;
  issuerUrl: string;
  /** The SQLite file (throws on a PostgreSQL stack: use `database`). */
  databaseFile: string;
  databaseUrl: string;
  /** Direct access to the stack's database, whichever it is. */
  database: StackDatabase;
  /** The local Kinde server's data folder (its signing key is in signing-key.json). */
  kindeDataDir: string;
  /** Stops only the Kinde server: the app then finds its issuer unreachable. */
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
  /** The first instance's output so far (stdout and stderr), for assertions on logs. */
  appLog: () => string;
  /** Resolves with the match when the first instance's output contains `text` (event-driven, no polling). */
  waitForLog: (text: string | RegExp, timeoutMs?: number) => Promise<string>;
  /** Stops the app and the Kinde server, and removes the stack's files. */
  stop: () => Promise<void>;
  /** Stops the first instance. */
  stopApp: (signal?: NodeJS.Signals) => Promise<number | null>;
  /** Starts the first instance again after stopApp(): the same command, environment, port and database. */
  startApp: () => Promise<void>;
  /** The first instance (the running one, or the last). */
  readonly app: AppProcess;
  /** Every instance (one unless `instances` says more). */
  readonly apps: AppProcess[];
  /** HAProxy in front of the instances, when `balancer` is set. */
  balancer?: Haproxy;
  /** The local Kinde server's process, when `kinde` is `separate`. */
  kindeProcess?: KindeChild;
}

/** What restartKinde() may change. */
export interface KindeChanges {
  /** Management API requests per client and window (false: no limit). */
  apiRateLimit?: RateLimit | false;
}

export interface StackOptions {
  /** `production` (default): `npm start`'s command on the build; `development`: `npm run dev`'s. */
  mode?: AppMode;
  /**
   * `in-process` (default); `child`: started by the app itself, as `npm start` does; `separate`:
   * its own process beside the instances, as `npm run kinde-local` runs it (several instances).
   */
  kinde?: "in-process" | "child" | "separate";
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
  /** Called with the fresh database file before the app starts (to break it on purpose; SQLite). */
  prepareDatabase?: (file: string) => void;
  /**
   * `sqlite` (default): a fresh file. `postgresql`: a fresh database copied from the migrated
   * template, on `postgres` when given, else on the test run's shared server.
   */
  database?: DatabaseProvider;
  postgres?: PostgresServer;
  /** Called with the fresh database before the app starts (any provider). */
  beforeStart?: (database: StackDatabase) => Promise<void>;
  /** App instances sharing the database (1 by default); more than one needs `balancer`. */
  instances?: number;
  /** Put HAProxy in front of the instances: appUrl and every instance's KINDE_SITE_URL are its URL. */
  balancer?: boolean;
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

async function freshDatabaseUrl(
  options: StackOptions,
  workDir: string,
): Promise<{ url: string; drop?: () => Promise<void> }> {
  if ((options.database ?? "sqlite") === "sqlite") {
    const file = await freshDatabaseFile(workDir, ROOT);
    options.prepareDatabase?.(file);
    return { url: `file:${file}` };
  }
  if (options.postgres) {
    const server = options.postgres;
    const url = await server.createDatabase(TEMPLATE_DATABASE);
    return {
      url,
      drop: () => server.query(`DROP DATABASE IF EXISTS "${url.split("/").pop()}" WITH (FORCE)`).then(() => {}),
    };
  }
  const url = await freshPostgresDatabase();
  return { url, drop: () => dropPostgresDatabase(url) };
}

const IN_PROCESS_ONLY = "this needs the in-process local Kinde server (kinde: in-process)";

async function startStackOnce(options: StackOptions): Promise<Stack> {
  const instances = options.instances ?? 1;
  if (instances > 1 && !options.balancer) throw new Error("several instances need the balancer (balancer: true)");
  if (instances > 1 && options.kinde === "child") {
    throw new Error("instances must not each start the local Kinde server: use the in-process or a separate one");
  }
  const webhooks = options.webhooks ?? true;
  if (options.kinde && options.kinde !== "in-process" && !webhooks) {
    throw new Error(`webhooks: false: ${IN_PROCESS_ONLY}`);
  }
  const picked = await pickPorts(instances + 2);
  const [firstPort = 0, kindePort = 0] = options.ports ? [options.ports.app, options.ports.kinde] : picked;
  const appPorts = [firstPort, ...picked.slice(2, instances + 1)];
  const balancerPort = options.balancer ? picked[instances + 1]! : undefined;
  const appUrl = `http://localhost:${balancerPort ?? firstPort}`;
  const workDir = mkdtempSync(join(tmpdir(), "rkp-stack-"));
  const kindeDataDir = join(workDir, "kinde");
  const ttl = { ...LONG_TTL, ...options.ttl };
  const database = await freshDatabaseUrl(options, workDir);
  await options.beforeStart?.(databaseAccess(database.url));

  let kinde: KindeLocalServer | undefined;
  let kindeProcess: KindeChild | undefined;
  let issuerUrl = `http://localhost:${kindePort}`;
  const kindeLog = new TextLog(1024 * 1024);
  const kindeEnv: Record<string, string> = { KINDE_LOCAL_START: "false" };
  const kindeSettings = {
    KINDE_LOCAL_DATA_DIR: kindeDataDir,
    KINDE_LOCAL_ACCESS_TOKEN_TTL: String(ttl.access),
    KINDE_LOCAL_ID_TOKEN_TTL: String(ttl.id),
    KINDE_LOCAL_REFRESH_TOKEN_TTL: String(ttl.refresh),
    KINDE_LOCAL_WEBHOOK_RETRY_DELAYS_MS: TEST_WEBHOOK_RETRY_DELAYS_MS.join(","),
  };
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
    Object.assign(kindeEnv, { KINDE_LOCAL_START: "auto", ...kindeSettings });
  } else if (options.kinde === "separate") {
    kindeProcess = startLocalKinde(
      baseEnv({
        ...appEnv({ siteUrl: appUrl, issuerUrl, databaseFile: "" }),
        ...kindeSettings,
        KINDE_LOCAL_WEBHOOK_URLS: `${appUrl}/webhooks/kinde`,
      }),
      ROOT,
      { limit: 64 * 1024 },
    );
    await kindeProcess.ready;
  } else {
    kinde = await launchKinde(0);
    issuerUrl = kinde.url;
  }
  let kindeStopped: Promise<void> | undefined;
  const inProcessKinde = (): KindeLocalServer => {
    if (!kinde) throw new Error(IN_PROCESS_ONLY);
    return kinde;
  };
  const stopKinde = () =>
    (kindeStopped ??= kinde
      ? kinde.close()
      : kindeProcess
        ? kindeProcess.stop()
        : Promise.reject(new Error("the local Kinde server runs inside the app (kinde: child)")));

  const appOptions = (port: number) => ({
    mode: options.mode,
    port,
    env: baseEnv({
      ...appEnv({ siteUrl: appUrl, issuerUrl, databaseFile: "" }),
      DATABASE_URL: database.url,
      ...kindeEnv,
      // Vite's pre-bundled dependencies, fresh for this server (dev mode).
      DEV_CACHE_DIR: join(workDir, `vite-${port}`),
      ...options.env,
    }),
    nodeFlags: options.nodeFlags,
    output: options.output,
  });
  const apps: AppProcess[] = [];
  let balancer: Haproxy | undefined;
  const cleanUp = async () => {
    await balancer?.stop();
    await Promise.all(apps.map((app) => app.stop()));
    await kinde?.close();
    await kindeProcess?.stop();
    if (!options.keepFiles) {
      await database.drop?.().catch(() => {});
      rmSync(workDir, { recursive: true, force: true });
    }
  };
  try {
    // Together, as a deployment starts them: migrations at start must be safe that way.
    const started = await Promise.allSettled(appPorts.map((port) => startApp(appOptions(port))));
    for (const result of started) if (result.status === "fulfilled") apps.push(result.value);
    const failed = started.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
    if (balancerPort) {
      balancer = await startHaproxy(
        appPorts.map((port, index) => ({ name: `app${index + 1}`, port })),
        { port: balancerPort },
      );
    }
  } catch (error) {
    await cleanUp();
    throw error;
  }

  const first = () => apps[0]!;
  const stopApp = (signal: NodeJS.Signals = "SIGTERM") => first().stop(signal);
  return {
    appUrl,
    issuerUrl,
    get databaseFile(): string {
      if (!database.url.startsWith("file:")) throw new Error("this stack runs on PostgreSQL: use stack.database");
      return database.url.slice("file:".length);
    },
    databaseUrl: database.url,
    database: databaseAccess(database.url),
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
    appLog: () => first().output.text(),
    waitForLog: (text, timeoutMs) => first().output.waitFor(text, timeoutMs),
    stopApp,
    async startApp() {
      const app = first();
      if (app.child.exitCode === null && app.child.signalCode === null) throw new Error("the app is still running");
      apps[0] = await startApp(appOptions(appPorts[0]!));
    },
    get app() {
      return first();
    },
    apps,
    balancer,
    kindeProcess,
    stop: async () => {
      await balancer?.stop();
      await Promise.all(apps.map((instance) => instance.stop()));
      if (kinde || kindeProcess) await stopKinde();
      if (!options.keepFiles) {
        await database.drop?.().catch(() => {});
        rmSync(workDir, { recursive: true, force: true });
      }
    },
  };
}

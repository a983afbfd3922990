/**
 * A whole stack for a test file, the browser tests or the benchmark: the app started as
 * `npm start` (or `npm run dev`) starts it, a migrated throwaway database, and the local Kinde
 * server, either in this process (tests: they can stop it alone and read its key) or as the
 * app's own child, exactly as `npm start` runs it. Nothing is shared with other stacks or
 * with the developer's data.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKindeLocalServer, type KindeLocalServer } from "../kinde-local/server.ts";
import { appEnv, TEST_CLIENT_ID, TEST_CLIENT_SECRET } from "../tests/support/test-env.ts";
import { baseEnv, ROOT, startApp, type AppMode, type AppProcess } from "./app.ts";
import type { DatabaseProvider } from "../app/lib/database-url.ts";
import { databaseAccess, type StackDatabase } from "./database-access.ts";
import { freshDatabaseFile } from "./database.ts";
import { startHaproxy, type Haproxy } from "./haproxy.ts";
import { startLocalKinde, type KindeChild } from "./kinde.ts";
import { pickPorts, PortTaken } from "./ports.ts";
import { dropPostgresDatabase, freshPostgresDatabase, TEMPLATE_DATABASE, type PostgresServer } from "./postgres.ts";
import type { OutputOptions } from "./ready.ts";

export { TestBrowser, linkHref, textOf, type Page } from "./browser.ts";
export { pickPort, pickPorts } from "./ports.ts";
export { freshDatabaseFile } from "./database.ts";
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
  /** Stops only the Kinde server: the app then finds its issuer unreachable (in-process Kinde only). */
  stopKinde: () => Promise<void>;
  /** The app's output so far (stdout and stderr), for assertions on logs (the first instance's). */
  appLog: () => string;
  /** Resolves when the app's output contains `text` (event-driven, no polling). */
  waitForLog: (text: string | RegExp, timeoutMs?: number) => Promise<void>;
  /** Stops the app and the Kinde server, and removes the stack's files. */
  stop: () => Promise<void>;
  stopApp: (signal?: NodeJS.Signals) => Promise<number | null>;
  /** The first instance. */
  app: AppProcess;
  /** Every instance (one unless `instances` says more). */
  apps: AppProcess[];
  /** HAProxy in front of the instances, when `balancer` is set. */
  balancer?: Haproxy;
  /** The local Kinde server's process, when `kinde` is `separate`. */
  kindeProcess?: KindeChild;
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

async function startStackOnce(options: StackOptions): Promise<Stack> {
  const instances = options.instances ?? 1;
  if (instances > 1 && !options.balancer) throw new Error("several instances need the balancer (balancer: true)");
  if (instances > 1 && options.kinde === "child") {
    throw new Error("instances must not each start the local Kinde server: use the in-process one");
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
  const kindeEnv: Record<string, string> = { KINDE_LOCAL_START: "false" };
  const kindeSettings = {
    KINDE_LOCAL_DATA_DIR: kindeDataDir,
    KINDE_LOCAL_ACCESS_TOKEN_TTL: String(ttl.access),
    KINDE_LOCAL_ID_TOKEN_TTL: String(ttl.id),
    KINDE_LOCAL_REFRESH_TOKEN_TTL: String(ttl.refresh),
  };
  if (options.kinde === "child") {
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
    kinde = await createKindeLocalServer({
      issuer: "http://localhost:0",
      port: 0,
      clientId: TEST_CLIENT_ID,
      clientSecret: TEST_CLIENT_SECRET,
      siteUrl: appUrl,
      dataDir: kindeDataDir,
      configPath: join(ROOT, "kinde-local/config.json"),
      ttl,
      log: () => {},
    });
    issuerUrl = kinde.url;
  }
  let kindeStopped: Promise<void> | undefined;
  const stopKinde = () =>
    (kindeStopped ??= kinde
      ? kinde.close()
      : kindeProcess
        ? kindeProcess.stop()
        : Promise.reject(new Error("Kinde runs in the app")));

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
    const started = await Promise.allSettled(
      appPorts.map((port) =>
        startApp({
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
        }),
      ),
    );
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

  const app = apps[0]!;
  const stopApp = (signal: NodeJS.Signals = "SIGTERM") => app.stop(signal);
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
    appLog: () => app.output.text(),
    waitForLog: async (text, timeoutMs) => void (await app.output.waitFor(text, timeoutMs)),
    stopApp,
    app,
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

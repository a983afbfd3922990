// A whole stack for tests and the bench: the app (one or more instances), a throwaway database, the local Kinde server.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isPostgresUrl, sqliteFile, type DatabaseProvider } from "../../app/lib/database/url.ts";
import type { RateLimit } from "../../kinde-local/rate-limit.ts";
import {
  createKindeLocalServer,
  type KindeLocalServer,
  type KindeLocalServerOptions,
} from "../../kinde-local/server.ts";
import { startLocalKinde, type KindeChild } from "../../server/kinde-local.ts";
import { TextLog, type OutputOptions } from "../../server/ready.ts";
import { baseEnv, ROOT, startApp, type AppMode, type AppOptions, type AppProcess } from "./app-process.ts";
import { databaseAccess, type StackDatabase } from "./database-access.ts";
import { freshDatabaseFile } from "./databases.ts";
import { startHaproxy, type Haproxy } from "./haproxy.ts";
import { pickPorts, PortTaken } from "./ports.ts";
import { freshPostgresDatabase, type PostgresServer } from "./postgres.ts";
import { appEnv, TEST_CLIENT_ID, TEST_CLIENT_SECRET } from "./test-env.ts";

export type Stack = Awaited<ReturnType<typeof startStackOnce>>;

export interface KindeChanges {
  apiRateLimit?: RateLimit | false;
}

export interface StackOptions {
  mode?: AppMode;
  /** `in-process` (default); `child`: started by the app, as `npm start` does; `separate`: as `npm run kinde-local`. */
  kinde?: "in-process" | "child" | "separate";
  ttl?: { access?: number; id?: number; refresh?: number };
  kindeApplications?: KindeLocalServerOptions["applications"];
  webhooks?: boolean;
  env?: Record<string, string>;
  /** `postgresql`: a copy of the migrated template on `postgres`, else on the test run's shared server. */
  database?: DatabaseProvider;
  postgres?: PostgresServer;
  beforeStart?: (database: StackDatabase) => Promise<void>;
  /** More than one needs `balancer`. */
  instances?: number;
  /** HAProxy in front of the instances: appUrl and every instance's KINDE_SITE_URL are its URL. */
  balancer?: boolean;
  /** Fixed when the browser tests' config names them first. */
  ports?: { app: number; kinde: number };
  nodeFlags?: string[];
  output?: OutputOptions;
  keepFiles?: boolean;
}

const LONG_TTL = { access: 86_400, id: 3_600, refresh: 1_296_000 };
/** Kinde's retry schedule, cut to fractions of a second: an app restarted in a test hears within one. */
const WEBHOOK_RETRY_DELAYS_MS = [100, 200, 500];
const IN_PROCESS_ONLY = "this needs the in-process local Kinde server (kinde: in-process)";

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStackOnce(options);
    } catch (error) {
      if (!(error instanceof PortTaken) || options.ports || attempt >= 5) throw error;
    }
  }
}

function checkOptions(options: StackOptions): void {
  const instances = options.instances ?? 1;
  if (instances > 1 && !options.balancer) throw new Error("several instances need the balancer (balancer: true)");
  if (instances > 1 && options.kinde === "child") {
    throw new Error("instances must not each start the local Kinde server: use the in-process or a separate one");
  }
  if (options.kinde && options.kinde !== "in-process" && options.webhooks === false) {
    throw new Error(`webhooks: false: ${IN_PROCESS_ONLY}`);
  }
}

interface Ports {
  apps: number[];
  kinde: number;
  balancer?: number;
}

async function portsFor(options: StackOptions): Promise<Ports> {
  const instances = options.instances ?? 1;
  const picked = await pickPorts(instances + 2);
  const [first = 0, kinde = 0] = options.ports ? [options.ports.app, options.ports.kinde] : picked;
  return {
    apps: [first, ...picked.slice(2, instances + 1)],
    kinde,
    balancer: options.balancer ? picked[instances + 1] : undefined,
  };
}

interface FreshDatabase {
  url: string;
  drop?: () => Promise<void>;
}

async function freshDatabase(options: StackOptions, workDir: string): Promise<FreshDatabase> {
  if ((options.database ?? "sqlite") === "sqlite") {
    return { url: `file:${await freshDatabaseFile(workDir, ROOT)}` };
  }
  return freshPostgresDatabase(options.postgres?.adminUrl);
}

interface KindeHandle {
  issuerUrl: string;
  envForApp: Record<string, string>;
  process?: KindeChild;
  log(): TextLog;
  inProcess(): KindeLocalServer;
  stop(): Promise<void>;
  restart(changes?: KindeChanges): Promise<void>;
}

interface KindeSetup {
  options: StackOptions;
  port: number;
  appUrl: string;
  dataDir: string;
  ttl: typeof LONG_TTL;
}

const notInProcess = (): never => {
  throw new Error(IN_PROCESS_ONLY);
};

async function startKinde(options: StackOptions, port: number, appUrl: string, dataDir: string): Promise<KindeHandle> {
  const setup = { options, port, appUrl, dataDir, ttl: { ...LONG_TTL, ...options.ttl } };
  return options.kinde === "child" || options.kinde === "separate" ? kindeOutOfProcess(setup) : kindeInProcess(setup);
}

async function kindeOutOfProcess({ options, port, appUrl, dataDir, ttl }: KindeSetup): Promise<KindeHandle> {
  const issuerUrl = `http://localhost:${port}`;
  const settings = {
    KINDE_LOCAL_DATA_DIR: dataDir,
    KINDE_LOCAL_ACCESS_TOKEN_TTL: String(ttl.access),
    KINDE_LOCAL_ID_TOKEN_TTL: String(ttl.id),
    KINDE_LOCAL_REFRESH_TOKEN_TTL: String(ttl.refresh),
    KINDE_LOCAL_WEBHOOK_RETRY_DELAYS_MS: WEBHOOK_RETRY_DELAYS_MS.join(","),
  };
  const handle = { issuerUrl, log: notInProcess, inProcess: notInProcess, restart: async () => notInProcess() };
  if (options.kinde === "child") {
    // The app passes KINDE_LOCAL_WEBHOOK_URLS to its Kinde child itself (server/index.ts).
    const stop = () => Promise.reject(new Error("the local Kinde server runs inside the app (kinde: child)"));
    return { ...handle, envForApp: { KINDE_LOCAL_START: "auto", ...settings }, stop };
  }
  const env = { ...appEnv({ siteUrl: appUrl, issuerUrl, databaseFile: "" }), ...settings };
  const child = startLocalKinde(baseEnv({ ...env, KINDE_LOCAL_WEBHOOK_URLS: `${appUrl}/webhooks/kinde` }), ROOT, {
    limit: 64 * 1024,
  });
  await child.ready;
  return { ...handle, envForApp: { KINDE_LOCAL_START: "false" }, process: child, stop: once(() => child.stop()) };
}

async function kindeInProcess({ options, appUrl, dataDir, ttl }: KindeSetup): Promise<KindeHandle> {
  const webhooks = options.webhooks ?? true;
  const log = new TextLog(1024 * 1024);
  const launch = (port: number, changes: KindeChanges = {}) =>
    createKindeLocalServer({
      issuer: `http://localhost:${port}`,
      port,
      clientId: TEST_CLIENT_ID,
      clientSecret: TEST_CLIENT_SECRET,
      siteUrl: appUrl,
      dataDir,
      configPath: join(ROOT, "kinde-local/config.json"),
      ttl,
      applications: options.kindeApplications,
      webhooks: webhooks
        ? { endpoints: [`${appUrl}/webhooks/kinde`], retryDelaysMs: WEBHOOK_RETRY_DELAYS_MS }
        : undefined,
      ...changes,
      log: (line) => log.append(`${line}\n`),
    });
  let server = await launch(0);
  let stop = once(() => server.close());
  return {
    issuerUrl: server.url,
    envForApp: { KINDE_LOCAL_START: "false" },
    log: () => log,
    inProcess: () => server,
    stop: () => stop(),
    async restart(changes) {
      await stop();
      server = await launch(server.port, changes);
      stop = once(() => server.close());
    },
  };
}

function once(run: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= run());
}

interface Instances {
  apps: AppProcess[];
  balancer?: Haproxy;
}

/** Every instance at once, as a deployment starts them: migrations at start must be safe that way. */
async function startInstances(ports: Ports, appOptions: (port: number) => AppOptions, into: Instances): Promise<void> {
  const started = await Promise.allSettled(ports.apps.map((port) => startApp(appOptions(port))));
  for (const result of started) if (result.status === "fulfilled") into.apps.push(result.value);
  const failed = started.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
  if (ports.balancer) {
    const servers = ports.apps.map((port, index) => ({ name: `app${index + 1}`, port }));
    into.balancer = await startHaproxy(servers, { port: ports.balancer });
  }
}

async function startStackOnce(options: StackOptions) {
  checkOptions(options);
  const ports = await portsFor(options);
  const appUrl = `http://localhost:${ports.balancer ?? ports.apps[0]}`;
  const workDir = mkdtempSync(join(tmpdir(), "rkp-stack-"));
  const kindeDataDir = join(workDir, "kinde");
  const database = await freshDatabase(options, workDir);
  await options.beforeStart?.(databaseAccess(database.url));
  const kinde = await startKinde(options, ports.kinde, appUrl, kindeDataDir);

  const appOptions = (port: number): AppOptions => ({
    mode: options.mode,
    port,
    env: baseEnv({
      ...appEnv({ siteUrl: appUrl, issuerUrl: kinde.issuerUrl, databaseFile: "" }),
      DATABASE_URL: database.url,
      ...kinde.envForApp,
      DEV_CACHE_DIR: join(workDir, `vite-${port}`),
      ...options.env,
    }),
    nodeFlags: options.nodeFlags,
    output: options.output,
  });
  const instances: Instances = { apps: [] };
  const stop = async () => {
    await instances.balancer?.stop();
    await Promise.all(instances.apps.map((app) => app.stop()));
    if (options.kinde !== "child") await kinde.stop();
    if (options.keepFiles) return;
    await database.drop?.().catch(() => {});
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    await startInstances(ports, appOptions, instances);
  } catch (error) {
    await stop();
    throw error;
  }

  const { apps } = instances;
  const first = () => apps[0]!;
  return {
    appUrl,
    issuerUrl: kinde.issuerUrl,
    get databaseFile(): string {
      if (isPostgresUrl(database.url)) throw new Error("this stack runs on PostgreSQL: use stack.database");
      return sqliteFile(database.url);
    },
    databaseUrl: database.url,
    database: databaseAccess(database.url),
    kindeDataDir,
    stopKinde: () => kinde.stop(),
    restartKinde: (changes?: KindeChanges) => kinde.restart(changes),
    kindeLog: () => kinde.log().text(),
    waitForKindeLog: async (text: string | RegExp, timeoutMs?: number) => kinde.log().waitFor(text, timeoutMs),
    webhooksSettled: async () => kinde.inProcess().webhooksSettled(),
    appLog: () => first().output.text(),
    waitForLog: (text: string | RegExp, timeoutMs?: number) => first().output.waitFor(text, timeoutMs),
    stopApp: (signal: NodeJS.Signals = "SIGTERM") => first().stop(signal),
    async startApp(): Promise<void> {
      const app = first();
      if (app.child.exitCode === null && app.child.signalCode === null) throw new Error("the app is still running");
      apps[0] = await startApp(appOptions(ports.apps[0]!));
    },
    get app(): AppProcess {
      return first();
    },
    apps,
    balancer: instances.balancer,
    kindeProcess: kinde.process,
    stop,
  };
}

// Throwaway PostgreSQL servers (no Docker) on copies of one `initdb`. As root (PostgreSQL refuses it) they run as
// `postgres` in folders that user owns under the temp folder, never reading the checkout (CI clones into a root-only one).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";
import { runCommand } from "./app-process.ts";
import { pickPort } from "./ports.ts";
import { ProcessOutput } from "../../server/ready.ts";

export const POSTGRES_ENV = {
  cluster: "TEST_POSTGRES_CLUSTER",
  adminUrl: "TEST_POSTGRES_URL",
} as const;

const READY_LINE = "database system is ready to accept connections";

export function postgresBinDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((name) => existsSync(join(debian, name, "bin/postgres")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(debian, versions[0], "bin");
  }
  try {
    return execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();
  } catch {
    // Last resort: initdb and postgres on PATH (Homebrew, other distributions).
  }
  const onPath = (process.env.PATH ?? "").split(":").find((dir) => existsSync(join(dir, "initdb")));
  if (onPath) return onPath;
  throw new Error(
    "PostgreSQL's server binaries were not found: install them (Debian/Ubuntu: apt-get install -y postgresql; " +
      "macOS: brew install postgresql) or set PG_BIN to the folder that has initdb and postgres.",
  );
}

interface RunAs {
  uid: number;
  gid: number;
}

function runAs(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((entry) => entry.startsWith("postgres:"));
  if (!line) throw new Error("running as root, but there is no `postgres` user to run PostgreSQL as");
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

function ownedFolder(prefix: string, user = runAs()): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (user) chownSync(dir, user.uid, user.gid);
  return dir;
}

async function initPostgresCluster(): Promise<string> {
  const user = runAs();
  const base = ownedFolder("rkp-pg-cluster-", user);
  const data = join(base, "data");
  await runCommand(
    join(postgresBinDir(), "initdb"),
    ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"],
    user,
    base,
  );
  return data;
}

export interface PostgresServer {
  port: number;
  /** The postmaster's (its backends are its children). */
  readonly pid: number | undefined;
  adminUrl: string;
  createDatabase(name: string): Promise<string>;
  /** Fast shutdown (clients are disconnected); start() brings it back on the same port and data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/** Settings are for throwaway data: no fsync, room for many test connections. */
export async function startPostgres(cluster: string, options: { inPlace?: boolean } = {}): Promise<PostgresServer> {
  const user = runAs();
  // In place: on the cluster folder itself (to put data into it for later copies).
  const base = options.inPlace ? ownedFolder("rkp-pg-setup-", user) : ownedFolder("rkp-pg-server-", user);
  const data = options.inPlace ? cluster : join(base, "data");
  const socketDir = join(base, "socket");
  if (!options.inPlace) await runCommand("cp", ["-a", cluster, data], undefined, base);
  mkdirSync(socketDir);
  if (user) chownSync(socketDir, user.uid, user.gid);

  let child: ChildProcess | undefined;
  let port = 0;
  let history = "";
  const launch = async (): Promise<boolean> => {
    const settings = {
      listen_addresses: "127.0.0.1",
      unix_socket_directories: socketDir,
      fsync: "off",
      synchronous_commit: "off",
      full_page_writes: "off",
      max_connections: "300",
    };
    const args = ["-D", data, "-p", String(port), ...Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`])];
    child = spawn(join(postgresBinDir(), "postgres"), args, {
      cwd: base,
      uid: user?.uid,
      gid: user?.gid,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output = new ProcessOutput(child, { limit: 64 * 1024 });
    try {
      await output.waitFor(READY_LINE, 30_000);
      return true;
    } catch (error) {
      history += output.text();
      if (/could not bind|Address already in use/.test(output.text())) return false;
      throw error;
    }
  };
  for (let attempt = 1; ; attempt++) {
    port = await pickPort();
    if (await launch()) break;
    if (attempt >= 5) throw new Error(`PostgreSQL found no free port:\n${history}`);
  }
  // A test runner that dies must not leave the server running.
  const killOnExit = () => child?.kill("SIGQUIT");
  process.once("exit", killOnExit);

  const url = (database: string) => `postgresql://postgres@127.0.0.1:${port}/${database}`;
  const stop = async () => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once("close", resolve));
    running.kill("SIGINT");
    await exited;
  };
  return {
    port,
    get pid() {
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    adminUrl: url("postgres"),
    async createDatabase(name) {
      await withPgClient(url("postgres"), (client) => client.query(`CREATE DATABASE "${name}"`));
      return url(name);
    },
    stop,
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) return;
      if (!(await launch())) throw new Error(`PostgreSQL could not listen on port ${port} again`);
    },
    async destroy() {
      await stop();
      process.off("exit", killOnExit);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

export async function withPgClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

export const TEMPLATE_DATABASE = "rkp_template";

/** The migrated template lives in the cluster itself, so every copy has one. */
export async function startMigratedPostgres(migrate: (url: string) => Promise<void>) {
  const cluster = await initPostgresCluster();
  const removeCluster = () => rmSync(dirname(cluster), { recursive: true, force: true });
  try {
    const setup = await startPostgres(cluster, { inPlace: true });
    try {
      await migrate(await setup.createDatabase(TEMPLATE_DATABASE));
    } finally {
      await setup.destroy();
    }
    const server = await startPostgres(cluster);
    return { server, cluster, destroy: () => server.destroy().finally(removeCluster) };
  } catch (error) {
    removeCluster();
    throw error;
  }
}

export async function startRunPostgres(migrate: (url: string) => Promise<void>): Promise<() => Promise<void>> {
  const { server, cluster, destroy } = await startMigratedPostgres(migrate);
  process.env[POSTGRES_ENV.cluster] = cluster;
  process.env[POSTGRES_ENV.adminUrl] = server.adminUrl;
  return destroy;
}

export function sharedPostgres(): { adminUrl: string; cluster: string } | undefined {
  const adminUrl = process.env[POSTGRES_ENV.adminUrl];
  const cluster = process.env[POSTGRES_ENV.cluster];
  return adminUrl && cluster ? { adminUrl, cluster } : undefined;
}

export async function freshPostgresDatabase(adminUrl = sharedPostgres()?.adminUrl) {
  if (!adminUrl) throw new Error("no shared PostgreSQL server: the test run's global setup starts one");
  const name = `rkp_${randomBytes(6).toString("hex")}`;
  const admin = (sql: string) => withPgClient(adminUrl, (client) => client.query(sql)).then(() => {});
  await admin(`CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE_DATABASE}"`);
  const drop = () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  return { url: adminUrl.replace(/\/[^/]*$/, `/${name}`), drop };
}

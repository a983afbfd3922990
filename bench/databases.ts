// `BENCH_DATABASES=sqlite,postgres,postgres-2 npm run bench`: bench/README.md, "Databases mode".
import { cpus, loadavg } from "node:os";
import { ROOT } from "../tests/support/app-process.ts";
import { isPostgresUrl } from "../app/lib/database/url.ts";
import { migrate } from "../server/migrate.ts";
import { startStack, type Stack } from "../tests/support/stack.ts";
import { startMigratedPostgres, type PostgresServer } from "../tests/support/postgres.ts";
import type { BenchConfig, DatabaseSetup, PhaseName } from "./config";
import { jobFor, log, perRequest, runLoad, signUpUsers } from "./jobs";
import { processTree, readCpuMs, Sampler } from "./memory";
import { environment, fixed, formatColumns, writeResults } from "./report";

const PHASES = ["dashboard", "auth-success"] as const;
const COLUMNS = ["app1", "app2", "postgres", "haproxy", "kinde", "load"];
export const LONG_TTL = { access: 86_400, id: 86_400, refresh: 1_296_000 };

type DatabasePhaseResult = Awaited<ReturnType<typeof measure>>;

/** PostgreSQL's server, its backends, and the backends that ended meanwhile. */
function postgresCpuMs(rootPid: number | undefined): number | null {
  const reaped = rootPid === undefined ? null : readCpuMs(rootPid, true);
  if (rootPid === undefined || reaped === null) return null;
  return processTree(rootPid).reduce((total, { pid }) => total + (pid === rootPid ? 0 : (readCpuMs(pid) ?? 0)), reaped);
}

function startSetup(setup: DatabaseSetup, postgres: PostgresServer | undefined, config: BenchConfig) {
  const common = {
    kinde: "separate" as const,
    ttl: LONG_TTL,
    nodeFlags: config.appNodeArgs,
    output: { limit: 64 * 1024 },
  };
  if (setup === "sqlite") return startStack(common);
  return startStack({
    ...common,
    database: "postgresql",
    postgres,
    ...(setup === "postgres-2" && { instances: 2, balancer: true }),
  });
}

function cpuGroups(stack: Stack, postgres: PostgresServer | undefined): Record<string, () => number | null> {
  const groups: Record<string, () => number | null> = {};
  stack.apps.forEach((app, index) => (groups[`app${index + 1}`] = () => readCpuMs(app.pid)));
  if (isPostgresUrl(stack.databaseUrl)) groups.postgres = () => postgresCpuMs(postgres?.pid);
  if (stack.balancer) groups.haproxy = () => readCpuMs(stack.balancer!.pid);
  groups.kinde = () => readCpuMs(stack.kindeProcess?.child.pid ?? -1);
  return groups;
}

export function formatDatabaseTable(results: DatabasePhaseResult[]): string {
  const header = ["setup", "phase", "rps", "p50 ms", "p99 ms", "errors", ...COLUMNS.map((c) => `${c} %`)];
  const rows = results.map((result) => [
    result.setup,
    result.phase,
    fixed(result.rps, 0),
    fixed(result.p50Ms, 1),
    fixed(result.p99Ms, 1),
    String(result.errors),
    ...COLUMNS.map((column) => fixed(result.cpuPercent[column], 0).replace("n/a", "-")),
    fixed(result.appCpuMsPerRequest, 2),
    fixed(result.cpuMsPerRequest, 2),
  ]);
  return formatColumns([...header, "app ms/req", "all ms/req"], rows, 2);
}

async function measure(
  setup: DatabaseSetup,
  phase: PhaseName,
  stack: Stack,
  postgres: PostgresServer | undefined,
  job: Parameters<typeof runLoad>[0],
) {
  const sampler = new Sampler(cpuGroups(stack, postgres));
  const result = await runLoad(job).finally(() => sampler.stop());
  const windowMs = (result.measuredToUs - result.measuredFromUs) / 1000;
  const cpu: Record<string, number | null> = {
    ...sampler.between(result.measuredFromUs, result.measuredToUs),
    load: result.loadCpuMs ?? null,
  };
  const total = (names: string[]) => names.reduce((sum, name) => sum + (cpu[name] ?? 0), 0);
  const successes = Math.round(result.rps * result.seconds);
  log(`setup ${setup}, ${phase}: ${result.rps.toFixed(1)} requests/s, ${result.errors} errors`);
  for (const sample of result.errorSamples) log(`  error: ${sample}`);
  return {
    setup,
    phase,
    rps: result.rps,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors,
    seconds: result.seconds,
    cpuPercent: Object.fromEntries(
      Object.entries(cpu).map(([name, ms]) => [name, ms === null ? null : Math.round((ms / windowMs) * 1000) / 10]),
    ),
    appCpuMsPerRequest: perRequest(total(Object.keys(cpu).filter((name) => name.startsWith("app"))), successes),
    cpuMsPerRequest: perRequest(total(Object.keys(cpu)), successes),
  };
}

export async function runDatabases(config: BenchConfig): Promise<number> {
  const startedAt = new Date();
  const loadAtStart = loadavg();
  const needsPostgres = config.databases.some((setup) => setup !== "sqlite");
  if (needsPostgres) log("PostgreSQL: initdb, a migrated template database, one server...");
  const postgres = needsPostgres ? await startMigratedPostgres((url) => migrate(url, ROOT)) : undefined;
  let stack: Stack | undefined;
  const results: DatabasePhaseResult[] = [];
  try {
    for (const setup of config.databases) {
      log(`setup ${setup}: starting...`);
      stack = await startSetup(setup, postgres?.server, config);
      log(`setup ${setup}: ${stack.appUrl} (${stack.apps.length} instance(s)), database ${stack.databaseUrl}`);
      const users = await signUpUsers(stack.appUrl, config);
      log(`setup ${setup}: signed up ${users.length} users`);
      for (const phase of PHASES) {
        results.push(await measure(setup, phase, stack, postgres?.server, jobFor(phase, config, stack.appUrl, users)));
      }
      await stack.stop();
      stack = undefined;
    }
  } finally {
    await stack?.stop().catch(() => {});
    await postgres?.destroy().catch(() => {});
  }

  const ok = results.every((result) => result.errors === 0);
  const json = {
    version: 1,
    mode: "databases",
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    ok,
    config,
    environment: environment(config, loadAtStart),
    results,
  };
  const [file] = writeResults(config, startedAt, "-databases", "databases-latest.json", json);
  console.log(
    `\nDatabases: ${config.duration}s per phase after ${config.warmup}s warm-up, ${config.connections} connections, ` +
      `${config.users} users, Node ${process.version}, ${cpus().length} CPUs. Process columns: % of one core while ` +
      `measuring; app ms/req: the instances' CPU per successful request; all ms/req: every process listed.\n`,
  );
  console.log(`${formatDatabaseTable(results)}\n\nResults: ${file}`);
  if (!ok) console.log("FAILED: some phases had errors (see above); exit code 1");
  return ok ? 0 : 1;
}

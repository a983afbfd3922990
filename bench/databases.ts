/**
 * `BENCH_DATABASES=sqlite,postgres,postgres-2 npm run bench`: /dashboard and /auth/success
 * throughput for 1 instance on SQLite, 1 on PostgreSQL, and 2 behind HAProxy on PostgreSQL, in
 * one run, with the CPU each process used while measuring: the app instances, PostgreSQL (the
 * server and its backends), HAProxy, the local Kinde server (its own process here, as with
 * several instances) and the load generator. One throwaway PostgreSQL server serves both
 * PostgreSQL setups, a fresh database each. See bench/README.md.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT } from "../tests/support/app-process.ts";
import { migrate } from "../server/migrate.ts";
import { startStack, type Stack } from "../tests/support/stack.ts";
import {
  initPostgresCluster,
  startPostgres,
  TEMPLATE_DATABASE,
  type PostgresServer,
} from "../tests/support/postgres.ts";
import type { BenchConfig, DatabaseSetup, PhaseName } from "./config";
import { processTree, readCpuMs } from "./memory";
import type { LoadJob, LoadResult } from "./protocol";

/** What bench/run.ts lends this mode: its load runner, jobs and sign-ups. */
interface Tools<User> {
  log: (line: string) => void;
  runLoad: (job: LoadJob) => Promise<LoadResult>;
  jobFor: (phase: PhaseName, config: BenchConfig, appUrl: string, users: User[]) => LoadJob;
  signUpUsers: (appUrl: string, config: BenchConfig) => Promise<User[]>;
}

const PHASES = ["dashboard", "auth-success"] as const;
const USER_HZ = 100;
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/** CPU ms of a process and everything below it, plus what its reaped children used (PostgreSQL's backends come and go). */
function treeCpuMs(rootPid: number | undefined): number | null {
  if (rootPid === undefined) return null;
  let total = 0;
  for (const { pid } of processTree(rootPid)) total += readCpuMs(pid) ?? 0;
  try {
    const text = readFileSync(`/proc/${rootPid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    // cutime and cstime: the CPU of children it has waited for.
    total += ((Number(fields[13]) + Number(fields[14])) * 1000) / USER_HZ;
  } catch {
    return null;
  }
  return total;
}

/** Samples the CPU time of named groups of processes every 100 ms, to read any window later. */
class CpuSampler {
  private readonly samples = new Map<string, Array<[number, number]>>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly groups: Record<string, () => number | null>) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }

  private sample(): void {
    const time = nowUs();
    for (const [name, read] of Object.entries(this.groups)) {
      const value = read();
      if (value === null) continue;
      const list = this.samples.get(name) ?? [];
      list.push([time, value]);
      this.samples.set(name, list);
    }
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }

  /** CPU ms each group used between two monotonic moments, interpolated between samples. */
  between(fromUs: number, toUs: number): Record<string, number | null> {
    const at = (list: Array<[number, number]>, us: number): number | null => {
      if (list.length === 0 || us < list[0]![0] || us > list[list.length - 1]![0]) return null;
      const index = list.findIndex(([time]) => time >= us);
      if (index <= 0) return list[0]![1];
      const [t0, c0] = list[index - 1]!;
      const [t1, c1] = list[index]!;
      return t1 === t0 ? c1 : c0 + ((c1 - c0) * (us - t0)) / (t1 - t0);
    };
    return Object.fromEntries(
      Object.keys(this.groups).map((name) => {
        const list = this.samples.get(name) ?? [];
        const from = at(list, fromUs);
        const to = at(list, toUs);
        return [name, from === null || to === null ? null : to - from];
      }),
    );
  }
}

export interface DatabasePhaseResult {
  setup: DatabaseSetup;
  phase: PhaseName;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  seconds: number;
  /** Each process group's CPU, as a share of one core while measuring (100 = one core busy). */
  cpuPercent: Record<string, number | null>;
  /** The app instances' CPU milliseconds per successful request. */
  appCpuMsPerRequest: number | null;
  /** Every measured process's CPU milliseconds per successful request, load generator included. */
  cpuMsPerRequest: number | null;
}

async function startSetup(setup: DatabaseSetup, postgres: PostgresServer | undefined, config: BenchConfig) {
  const common = {
    kinde: "separate" as const,
    ttl: { access: 86_400, id: 86_400, refresh: 1_296_000 },
    nodeFlags: config.appNodeArgs,
    output: { limit: 64 * 1024 },
  };
  if (setup === "sqlite") return startStack(common);
  return startStack({
    ...common,
    database: "postgresql",
    postgres,
    ...(setup === "postgres-2" ? { instances: 2, balancer: true } : {}),
  });
}

function groupsOf(stack: Stack, postgres: PostgresServer | undefined): Record<string, () => number | null> {
  const groups: Record<string, () => number | null> = {};
  stack.apps.forEach((app, index) => (groups[`app${index + 1}`] = () => readCpuMs(app.pid)));
  if (stack.databaseUrl.startsWith("postgres")) groups.postgres = () => treeCpuMs(postgres?.pid);
  if (stack.balancer) groups.haproxy = () => readCpuMs(stack.balancer!.pid);
  groups.kinde = () => readCpuMs(stack.kindeProcess?.child.pid ?? -1);
  return groups;
}

const COLUMNS = ["app1", "app2", "postgres", "haproxy", "kinde", "load"];

export function formatDatabaseTable(results: DatabasePhaseResult[]): string {
  const header = [
    "setup",
    "phase",
    "rps",
    "p50 ms",
    "p99 ms",
    "errors",
    ...COLUMNS.map((c) => `${c} %`),
    "app ms/req",
    "all ms/req",
  ];
  const rows = results.map((result) => [
    result.setup,
    result.phase,
    result.rps.toFixed(0),
    result.p50Ms.toFixed(1),
    result.p99Ms.toFixed(1),
    String(result.errors),
    ...COLUMNS.map((column) => {
      const value = result.cpuPercent[column];
      return value === undefined || value === null ? "-" : value.toFixed(0);
    }),
    result.appCpuMsPerRequest === null ? "n/a" : result.appCpuMsPerRequest.toFixed(2),
    result.cpuMsPerRequest === null ? "n/a" : result.cpuMsPerRequest.toFixed(2),
  ]);
  const widths = header.map((title, index) => Math.max(title.length, ...rows.map((row) => row[index]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, index) => (index < 2 ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

export async function runDatabases<User>(config: BenchConfig, tools: Tools<User>): Promise<number> {
  const { log } = tools;
  const startedAt = new Date();
  const loadAtStart = loadavg();
  let postgres: PostgresServer | undefined;
  let cluster: string | undefined;
  let stack: Stack | undefined;
  const results: DatabasePhaseResult[] = [];
  try {
    if (config.databases.some((setup) => setup !== "sqlite")) {
      log("PostgreSQL: initdb, a migrated template database, one server...");
      cluster = await initPostgresCluster();
      const setupServer = await startPostgres(cluster, { inPlace: true });
      try {
        await migrate(await setupServer.createDatabase(undefined, TEMPLATE_DATABASE), ROOT);
      } finally {
        await setupServer.destroy();
      }
      postgres = await startPostgres(cluster);
    }
    for (const setup of config.databases) {
      log(`setup ${setup}: starting...`);
      stack = await startSetup(setup, postgres, config);
      log(`setup ${setup}: ${stack.appUrl} (${stack.apps.length} instance(s)), database ${stack.databaseUrl}`);
      const users = await tools.signUpUsers(stack.appUrl, config);
      log(`setup ${setup}: signed up ${users.length} users`);
      for (const phase of PHASES) {
        const sampler = new CpuSampler(groupsOf(stack, postgres));
        let result: LoadResult;
        try {
          result = await tools.runLoad(tools.jobFor(phase, config, stack.appUrl, users));
        } finally {
          sampler.stop();
        }
        const windowMs = (result.measuredToUs - result.measuredFromUs) / 1000;
        const cpu = { ...sampler.between(result.measuredFromUs, result.measuredToUs), load: result.loadCpuMs ?? null };
        const totalMs = Object.values(cpu).reduce<number>((sum, value) => sum + (value ?? 0), 0);
        const appMs = Object.entries(cpu)
          .filter(([name]) => name.startsWith("app"))
          .reduce<number>((sum, [, value]) => sum + (value ?? 0), 0);
        const successes = Math.round(result.rps * result.seconds);
        results.push({
          setup,
          phase,
          rps: result.rps,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          errors: result.errors,
          seconds: result.seconds,
          cpuPercent: Object.fromEntries(
            Object.entries(cpu).map(([name, ms]) => [
              name,
              ms === null ? null : Math.round((ms / windowMs) * 1000) / 10,
            ]),
          ),
          appCpuMsPerRequest: successes > 0 ? Math.round((appMs / successes) * 100) / 100 : null,
          cpuMsPerRequest: successes > 0 ? Math.round((totalMs / successes) * 100) / 100 : null,
        });
        log(`setup ${setup}, ${phase}: ${result.rps.toFixed(1)} requests/s, ${result.errors} errors`);
        for (const sample of result.errorSamples) log(`  error: ${sample}`);
      }
      await stack.stop();
      stack = undefined;
    }
  } finally {
    await stack?.stop().catch(() => {});
    await postgres?.destroy().catch(() => {});
    if (cluster) rmSync(dirname(cluster), { recursive: true, force: true });
  }

  const ok = results.every((result) => result.errors === 0);
  const resultsDir = resolve(ROOT, config.resultsDir);
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${startedAt.toISOString().replace(/[:.]/g, "-")}-databases.json`);
  const json = {
    version: 1,
    mode: "databases",
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    ok,
    config,
    environment: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      loadAverage: { atStart: loadAtStart, atEnd: loadavg() },
    },
    results,
  };
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(resultsDir, "databases-latest.json"), `${JSON.stringify(json, null, 2)}\n`);

  console.log("");
  console.log(
    `Databases: ${config.duration}s per phase after ${config.warmup}s warm-up, ${config.connections} connections, ` +
      `${config.users} users, Node ${process.version}, ${cpus().length} CPUs. Process columns: % of one core while ` +
      `measuring; app ms/req: the instances' CPU per successful request; all ms/req: every process listed.`,
  );
  console.log("");
  console.log(formatDatabaseTable(results));
  console.log("");
  console.log(`Results: ${relative(ROOT, file)}`);
  if (!ok) console.log("FAILED: some phases had errors (see above); exit code 1");
  return ok ? 0 : 1;
}

/** The benchmark's results: their JSON shape, the targets, and the printed table. */
import type { BenchConfig, PhaseName } from "./config";
import type { ProcessInfo } from "./memory";
import type { LatencySummary } from "./stats";

export interface PhaseResult {
  name: PhaseName;
  /** What was requested, e.g. "GET /dashboard". */
  target: string;
  /** "requests" or "round trips": what rps counts. */
  unit: string;
  /** Successful requests (round trips) per second while measuring. */
  rps: number;
  /** rps divided by the landing page's rps in the same run; null without a landing phase. */
  ratioToBaseline: number | null;
  p50Ms: number;
  p99Ms: number;
  latencyMs: LatencySummary;
  /** Failures (wrong status or Location, timeouts, connection errors), warm-up included. */
  errors: number;
  errorKinds: Record<string, number>;
  errorSamples: string[];
  completed: number;
  seconds: number;
  statusCounts: Record<string, number>;
  warmup: { seconds: number; completed: number; errors: number };
  /**
   * Highest VmRSS of the app's processes (npm start's, the local Kinde server's left out),
   * summed, sampled every 100 ms during the phase (warm-up included).
   */
  peakRssMB: number | null;
  /** Their VmHWM (peak RSS since each started), summed, at the end of the phase. */
  vmHwmMB: number | null;
  /**
   * The app process's CPU time (all threads, user + system) in the measured window divided by
   * the requests (round trips for sign-in) completed in it. Much steadier than rps on a busy
   * machine: other processes slow the app down but hardly change what a request costs.
   */
  cpuMsPerRequest: number | null;
  /** The app's CPU seconds per second in the measured window (1.0 = one core fully busy). */
  cpuUtilization: number | null;
  /**
   * KiB allocated on the app's V8 heap in the measured window per request (round trip for
   * sign-in), from bench/gc-probe.ts; null when the probe gave no figures.
   */
  allocatedKBPerRequest: number | null;
  /** Share of the measured window the app's main thread spent paused in garbage collection (0-1). */
  gcShare: number | null;
  /** Garbage collections in the measured window. */
  gcCollections: number | null;
  /** The longest single GC pause in (or up to 100 ms around) the measured window, in ms. */
  gcLongestPauseMs: number | null;
  /** The highest RSS of each second of the phase (warm-up first), in MB. */
  rssTimelineMB: Array<number | null>;
  /** Sign-in only: latency of each hop of the round trip. */
  steps?: Record<string, LatencySummary>;
  /** Sign-in only: per round trip, the time spent in the app's four hops (Kinde's two left out). */
  appSideMs?: LatencySummary;
  /** Monotonic microseconds of the measured window (to cut a CPU profile). */
  window: { fromUs: number; toUs: number };
}

export interface Target {
  name: string;
  status: "PASS" | "FAIL" | "SKIP";
  detail: string;
}

export interface BenchResults {
  version: 1;
  startedAt: string;
  finishedAt: string;
  /** False when any phase had errors (the process then exits non-zero). */
  ok: boolean;
  config: BenchConfig;
  environment: {
    node: string;
    platform: string;
    cpus: number;
    cpuModel: string;
    totalMemoryMB: number;
    commit: string | null;
    /** Paths that differ from the commit (uncommitted work is in the numbers too). */
    changedPaths: number | null;
    profiled: boolean;
    loadAverage: { atStart: number[]; atEnd: number[] };
  };
  setup: {
    buildSeconds: number | null;
    users: number;
    signUpSeconds: number;
    idleRssMB: number | null;
    /**
     * Milliseconds from spawning the `start` command to the server's "listening" line, and to
     * the end of the first answer to GET / (migrations and the local Kinde server's start included).
     */
    startup: { listeningMs: number; firstAnswerMs: number };
  };
  app: {
    /** The command the app was started with: package.json's `start` script, without npm. */
    server: string;
    /** The bench-only preload the app also runs with (the allocation and GC figures). */
    preload: string;
    url: string;
    pid: number;
    /** The processes the memory and CPU figures cover. */
    processes: ProcessInfo[];
    /** Processes of the same tree left out of them (the local Kinde server). */
    notCounted: ProcessInfo[];
  };
  phases: PhaseResult[];
  targets: Target[];
  /** With BENCH_PROFILE=1: the app's .cpuprofile. */
  profile?: { file: string };
  /** With BENCH_HEAP_PROFILE=1: the app's sampling heap profile (allocations, collected ones kept). */
  heapProfile?: { file: string };
}

export const TARGETS = {
  dashboardShareOfLanding: 0.8,
  peakMemoryMB: 250,
  /** Tail latency: p99 at most this many times p50, in every phase. */
  p99OverP50: 3,
};

export function evaluateTargets(phases: PhaseResult[]): Target[] {
  const byName = new Map(phases.map((phase) => [phase.name, phase]));
  const landing = byName.get("landing");
  const dashboard = byName.get("dashboard");
  const targets: Target[] = [];

  const limit = TARGETS.dashboardShareOfLanding;
  if (landing && dashboard && landing.rps > 0) {
    const share = dashboard.rps / landing.rps;
    // What the ratio would be if both were limited by the app's CPU alone: steadier when other
    // work on the machine makes rps jump around.
    const byCpu =
      landing.cpuMsPerRequest && dashboard.cpuMsPerRequest
        ? `; by CPU per request ${((landing.cpuMsPerRequest / dashboard.cpuMsPerRequest) * 100).toFixed(1)}% (${dashboard.cpuMsPerRequest.toFixed(2)} vs ${landing.cpuMsPerRequest.toFixed(2)} ms)`
        : "";
    targets.push({
      name: `/dashboard throughput >= ${limit * 100}% of the landing page's`,
      status: share >= limit ? "PASS" : "FAIL",
      detail: `${(share * 100).toFixed(1)}% (${dashboard.rps.toFixed(1)} vs ${landing.rps.toFixed(1)} req/s)${byCpu}`,
    });
  } else {
    targets.push({
      name: `/dashboard throughput >= ${limit * 100}% of the landing page's`,
      status: "SKIP",
      detail: "needs the landing and dashboard phases",
    });
  }

  const tails = phases.filter((phase) => phase.latencyMs.count > 0 && phase.p50Ms > 0);
  const tailName = `p99 <= ${TARGETS.p99OverP50}x p50 in every phase`;
  if (tails.length > 0) {
    const worst = tails.map((phase) => ({ phase, ratio: phase.p99Ms / phase.p50Ms })).sort((a, b) => b.ratio - a.ratio);
    targets.push({
      name: tailName,
      status: worst[0]!.ratio <= TARGETS.p99OverP50 ? "PASS" : "FAIL",
      detail: worst
        .map(
          ({ phase, ratio }) =>
            `${phase.name} ${ratio.toFixed(1)}x (${phase.p99Ms.toFixed(1)}/${phase.p50Ms.toFixed(1)} ms)`,
        )
        .join(", "),
    });
  } else {
    targets.push({ name: tailName, status: "SKIP", detail: "no successful request measured" });
  }

  const peaks = phases.map((phase) => phase.peakRssMB).filter((value): value is number => value !== null);
  if (peaks.length > 0) {
    const peak = Math.max(...peaks);
    targets.push({
      name: `peak server memory < ${TARGETS.peakMemoryMB} MB`,
      status: peak < TARGETS.peakMemoryMB ? "PASS" : "FAIL",
      detail: `${peak.toFixed(1)} MB RSS, every process npm start runs but the local Kinde server`,
    });
  } else {
    targets.push({
      name: `peak server memory < ${TARGETS.peakMemoryMB} MB`,
      status: "SKIP",
      detail: "no /proc/<pid>/status to read",
    });
  }

  const errors = phases.reduce((sum, phase) => sum + phase.errors, 0);
  targets.push({
    name: "zero errors",
    status: errors === 0 ? "PASS" : "FAIL",
    detail:
      errors === 0
        ? "no errors"
        : phases
            .filter((phase) => phase.errors > 0)
            .map((phase) => `${phase.name}: ${phase.errors}`)
            .join(", "),
  });
  return targets;
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

const fixed = (value: number | null, decimals: number) =>
  value === null || !Number.isFinite(value) ? "n/a" : value.toFixed(decimals);

export function formatTable(phases: PhaseResult[]): string {
  const header = [
    "phase",
    "target",
    "rps",
    "vs /",
    "p50 ms",
    "p99 ms",
    "errors",
    "peak RSS MB",
    "CPU ms/req",
    "alloc KB/req",
    "GC %",
    "GC max ms",
  ];
  const rows = phases.map((phase) => [
    phase.name,
    phase.target,
    fixed(phase.rps, 1),
    phase.ratioToBaseline === null ? "n/a" : `${fixed(phase.ratioToBaseline * 100, 0)}%`,
    fixed(phase.p50Ms, 2),
    fixed(phase.p99Ms, 2),
    String(phase.errors),
    fixed(phase.peakRssMB, 1),
    fixed(phase.cpuMsPerRequest, 2),
    fixed(phase.allocatedKBPerRequest, 1),
    fixed(phase.gcShare === null ? null : phase.gcShare * 100, 1),
    fixed(phase.gcLongestPauseMs, 1),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => pad(cell, widths[column]!, column >= 2)).join("  ");
  return [line(header), widths.map((width) => "-".repeat(width)).join("  "), ...rows.map(line)].join("\n");
}

export function formatSteps(steps: Record<string, LatencySummary>, appSide?: LatencySummary): string {
  const rows: Array<[string, LatencySummary]> = Object.entries(steps);
  if (appSide) rows.push(["app side (4 app hops)", appSide]);
  const width = Math.max(4, ...rows.map(([name]) => name.length));
  const lines = [`  ${"hop".padEnd(width)}  ${"p50 ms".padStart(8)}  ${"p99 ms".padStart(8)}`];
  for (const [name, step] of rows) {
    lines.push(`  ${name.padEnd(width)}  ${fixed(step.p50, 2).padStart(8)}  ${fixed(step.p99, 2).padStart(8)}`);
  }
  return lines.join("\n");
}

export function formatTargets(targets: Target[]): string {
  return targets.map((target) => `${target.status} ${target.name}: ${target.detail}`).join("\n");
}

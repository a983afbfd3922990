/** The targets, the tables, the machine's description and the results files (bench/README.md describes each figure). */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join, relative, resolve } from "node:path";
import { ROOT } from "../tests/support/app-process.ts";
import type { BenchConfig } from "./config";
import type { PhaseResult } from "./phases";
import type { LatencySummary } from "./stats";

export interface Target {
  name: string;
  status: "PASS" | "FAIL" | "SKIP";
  detail: string;
}

export const TARGETS = { dashboardShareOfLanding: 0.8, peakMemoryMB: 250, p99OverP50: 3 };

const target = (name: string, pass: boolean | null, detail: string): Target => ({
  name,
  status: pass === null ? "SKIP" : pass ? "PASS" : "FAIL",
  detail,
});

export function evaluateTargets(phases: PhaseResult[]): Target[] {
  const landing = phases.find((phase) => phase.name === "landing");
  const dashboard = phases.find((phase) => phase.name === "dashboard");
  const targets: Target[] = [];

  const shareName = `/dashboard throughput >= ${TARGETS.dashboardShareOfLanding * 100}% of the landing page's`;
  if (landing && dashboard && landing.rps > 0) {
    const share = dashboard.rps / landing.rps;
    // The ratio if both were limited by the app's CPU alone: steadier on a busy machine.
    const byCpu =
      landing.cpuMsPerRequest && dashboard.cpuMsPerRequest
        ? `; by CPU per request ${((landing.cpuMsPerRequest / dashboard.cpuMsPerRequest) * 100).toFixed(1)}% (${dashboard.cpuMsPerRequest.toFixed(2)} vs ${landing.cpuMsPerRequest.toFixed(2)} ms)`
        : "";
    const detail = `${(share * 100).toFixed(1)}% (${dashboard.rps.toFixed(1)} vs ${landing.rps.toFixed(1)} req/s)${byCpu}`;
    targets.push(target(shareName, share >= TARGETS.dashboardShareOfLanding, detail));
  } else {
    targets.push(target(shareName, null, "needs the landing and dashboard phases"));
  }

  const tails = phases
    .filter((phase) => phase.latencyMs.count > 0 && phase.p50Ms > 0)
    .map((phase) => ({ phase, ratio: phase.p99Ms / phase.p50Ms }))
    .sort((a, b) => b.ratio - a.ratio);
  const tailDetail = tails.map(
    ({ phase, ratio }) => `${phase.name} ${ratio.toFixed(1)}x (${phase.p99Ms.toFixed(1)}/${phase.p50Ms.toFixed(1)} ms)`,
  );
  targets.push(
    target(
      `p99 <= ${TARGETS.p99OverP50}x p50 in every phase`,
      tails.length > 0 ? tails[0]!.ratio <= TARGETS.p99OverP50 : null,
      tails.length > 0 ? tailDetail.join(", ") : "no successful request measured",
    ),
  );

  const peaks = phases.map((phase) => phase.peakRssMB).filter((value): value is number => value !== null);
  const peak = Math.max(...peaks);
  targets.push(
    target(
      `peak server memory < ${TARGETS.peakMemoryMB} MB`,
      peaks.length > 0 ? peak < TARGETS.peakMemoryMB : null,
      peaks.length > 0
        ? `${peak.toFixed(1)} MB RSS, every process npm start runs but the local Kinde server`
        : "no /proc/<pid>/status to read",
    ),
  );

  const failing = phases.filter((phase) => phase.errors > 0);
  const errorDetail = failing.map((phase) => `${phase.name}: ${phase.errors}`).join(", ");
  targets.push(target("zero errors", failing.length === 0, errorDetail || "no errors"));
  return targets;
}

export const fixed = (value: number | null | undefined, decimals: number) =>
  value === null || value === undefined || !Number.isFinite(value) ? "n/a" : value.toFixed(decimals);

export function formatColumns(header: string[], rows: string[][], left: number, rule = false): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column < left ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join("  ");
  return [line(header), ...(rule ? [widths.map((width) => "-".repeat(width)).join("  ")] : []), ...rows.map(line)].join(
    "\n",
  );
}

/** The phase table's columns: each title with its cell. */
const PHASE_COLUMNS: Array<[string, (phase: PhaseResult) => string]> = [
  ["phase", (phase) => phase.name],
  ["target", (phase) => phase.target],
  ["rps", (phase) => fixed(phase.rps, 1)],
  ["vs /", (phase) => (phase.ratioToBaseline === null ? "n/a" : `${fixed(phase.ratioToBaseline * 100, 0)}%`)],
  ["p50 ms", (phase) => fixed(phase.p50Ms, 2)],
  ["p99 ms", (phase) => fixed(phase.p99Ms, 2)],
  ["errors", (phase) => String(phase.errors)],
  ["peak RSS MB", (phase) => fixed(phase.peakRssMB, 1)],
  ["CPU ms/req", (phase) => fixed(phase.cpuMsPerRequest, 2)],
  ["alloc KB/req", (phase) => fixed(phase.allocatedKBPerRequest, 1)],
  ["GC %", (phase) => fixed(phase.gcShare === null ? null : phase.gcShare * 100, 1)],
  ["GC max ms", (phase) => fixed(phase.gcLongestPauseMs, 1)],
];

export function formatTable(phases: PhaseResult[]): string {
  const titles = PHASE_COLUMNS.map(([title]) => title);
  const rows = phases.map((phase) => PHASE_COLUMNS.map(([, cell]) => cell(phase)));
  return formatColumns(titles, rows, 2, true);
}

export function formatSteps(steps: Record<string, LatencySummary>, appSide?: LatencySummary): string {
  const rows = Object.entries(steps);
  if (appSide) rows.push(["app side (4 app hops)", appSide]);
  const table = formatColumns(
    ["hop", "p50 ms", "p99 ms"],
    rows.map(([name, step]) => [name, fixed(step.p50, 2), fixed(step.p99, 2)]),
    1,
  );
  return table.replace(/^/gm, "  ");
}

export const formatTargets = (targets: Target[]) =>
  targets.map((entry) => `${entry.status} ${entry.name}: ${entry.detail}`).join("\n");

/** The machine and the checkout; other work on the machine skews every number (the load averages). */
export function environment(config: BenchConfig, loadAtStart: number[]) {
  const cpu = cpus();
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? "unknown",
    totalMemoryMB: Math.round(totalmem() / 2 ** 20),
    ...gitState(),
    profiled: config.profile,
    loadAverage: {
      atStart: loadAtStart.map((value) => Math.round(value * 100) / 100),
      atEnd: loadavg().map((value) => Math.round(value * 100) / 100),
    },
  };
}

/** The commit, and how many paths differ from it (read-only: no index refresh, no locks). */
function gitState(): { commit: string | null; changedPaths: number | null } {
  const git = (args: string[]) =>
    spawnSync("git", ["--no-optional-locks", ...args], { cwd: ROOT, encoding: "utf8", timeout: 5_000 });
  const head = git(["rev-parse", "--short", "HEAD"]);
  const status = git(["status", "--porcelain"]);
  return {
    commit: head.status === 0 ? head.stdout.trim() : null,
    changedPaths: status.status === 0 ? status.stdout.split("\n").filter(Boolean).length : null,
  };
}

export const resultsDir = (config: BenchConfig) => resolve(ROOT, config.resultsDir);
export const stampOf = (date: Date) => date.toISOString().replace(/[:.]/g, "-");

export function writeResults(config: BenchConfig, startedAt: Date, suffix: string, latest: string, json: unknown) {
  const dir = resultsDir(config);
  mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(json, null, 2)}\n`;
  const files = [join(dir, `${stampOf(startedAt)}${suffix}.json`), join(dir, latest)];
  for (const file of files) writeFileSync(file, text);
  return files.map((file) => relative(ROOT, file));
}

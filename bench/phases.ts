/** One phase: its load process, the app's memory, CPU and GC figures in the measured window, and its log line. */
import type { BenchConfig, PhaseName } from "./config";
import { jobFor, log, perRequest, PHASES, runLoad, type BenchUser } from "./jobs";
import { appSampler, memoryFigures } from "./memory";
import { fixed } from "./report";
import type { BenchApp } from "./run";
import { round, roundOrNull } from "./stats";

export type PhaseResult = Awaited<ReturnType<typeof runPhase>>;

async function runPhase(
  phase: PhaseName,
  config: BenchConfig,
  app: BenchApp,
  users: BenchUser[],
  orgAdmin?: BenchUser,
) {
  const { target, unit } = PHASES[phase];
  log(`phase ${phase}: ${target}...`);
  const sampler = appSampler(app.pids);
  const result = await runLoad(jobFor(phase, config, app.stack.app.url, users, orgAdmin)).finally(() => sampler.stop());
  const { measuredFromUs: fromUs, measuredToUs: toUs } = result;
  const memory = memoryFigures(sampler, app.pids);
  const cpuMs = sampler.between(fromUs, toUs).app;
  const gc = await app.gcSamples.between(fromUs, toUs);
  app.assertRunning(`phase ${phase}`);
  const {
    name: _name,
    latency,
    steps,
    appSide,
    measuredFromUs: _from,
    measuredToUs: _to,
    loadCpuMs: _cpu,
    ...counts
  } = result;
  const measured = {
    name: phase,
    target,
    unit,
    ratioToBaseline: null as number | null,
    p50Ms: latency.p50,
    p99Ms: latency.p99,
    latencyMs: latency,
    ...counts,
    peakRssMB: roundOrNull(memory.peakRssMB, 1),
    vmHwmMB: roundOrNull(memory.hwmMB, 1),
    rssTimelineMB: memory.timelineMB,
    cpuMsPerRequest: perRequest(cpuMs, result.completed),
    cpuUtilization: perRequest(cpuMs, (toUs - fromUs) / 1000),
    allocatedKBPerRequest: perRequest(gc && gc.allocatedBytes / 1024, result.completed, 1),
    gcShare: perRequest(gc?.gcPauseMs, (toUs - fromUs) / 1000, 4),
    gcCollections: gc?.collections ?? null,
    gcLongestPauseMs: roundOrNull(gc?.longestPauseMs, 1),
    ...(steps && { steps }),
    ...(appSide && { appSideMs: appSide }),
    window: { fromUs, toUs },
  };
  const perUnit = unit.replace(/s$/, "");
  const gcLine =
    measured.allocatedKBPerRequest !== null && measured.gcShare !== null
      ? `, ${measured.allocatedKBPerRequest.toFixed(1)} KB allocated per ${perUnit}, GC ${(measured.gcShare * 100).toFixed(1)}% ` +
        `of the time (longest pause ${measured.gcLongestPauseMs} ms)`
      : "";
  log(
    `phase ${phase}: ${result.rps.toFixed(1)} ${unit}/s, p50 ${fixed(result.latency.p50, 2)} ms, ` +
      `p99 ${fixed(result.latency.p99, 2)} ms, ${result.errors} errors${gcLine}`,
  );
  for (const sample of result.errorSamples) log(`  error: ${sample}`);
  return measured;
}

export async function runPhases(
  config: BenchConfig,
  app: BenchApp,
  users: BenchUser[],
  orgAdmin?: BenchUser,
): Promise<PhaseResult[]> {
  const phases: PhaseResult[] = [];
  for (const phase of config.phases) phases.push(await runPhase(phase, config, app, users, orgAdmin));
  const landing = phases.find((phase) => phase.name === "landing");
  for (const phase of phases)
    phase.ratioToBaseline = landing && landing.rps > 0 ? round(phase.rps / landing.rps, 3) : null;
  return phases;
}

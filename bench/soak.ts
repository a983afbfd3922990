// `BENCH_SOAK=600 npm run bench`: mixed load for the whole duration, and the app's memory through it (bench/README.md, "Soak mode").
import type { BenchConfig } from "./config";
import { log, runLoad, type BenchUser } from "./jobs";
import { readTreeMemory, Sampler, valueAt } from "./memory";
import { SOAK_KINDS, type SoakLoadResult } from "./protocol";
import { fixed, formatColumns } from "./report";
import type { BenchApp } from "./run";
import { round, roundOrNull, slope } from "./stats";

/** No more requests than this per second of soak, whatever the app's speed. */
const MAX_REQUESTS_PER_SECOND = 1000;

/** Start, middle and end: the mean of the samples in the first, middle and last tenth of the window; the slope over all. */
function trend(series: Array<[number, number]>, fromUs: number, toUs: number) {
  const inside = series.filter(([us]) => us >= fromUs && us <= toUs);
  const tenth = (toUs - fromUs) / 10;
  const around = (centerUs: number) => {
    const near = inside.filter(([us]) => Math.abs(us - centerUs) <= tenth / 2).map(([, mb]) => mb);
    const mean = near.length > 0 ? near.reduce((sum, mb) => sum + mb, 0) / near.length : valueAt(series, centerUs);
    return roundOrNull(mean, 1);
  };
  return {
    startMB: around(fromUs + tenth / 2),
    middleMB: around((fromUs + toUs) / 2),
    endMB: around(toUs - tenth / 2),
    slopeMBPerMinute: round(slope(inside.map(([us, mb]) => [(us - fromUs) / 60e6, mb])), 3),
    samples: inside.length,
  };
}

export type SoakReport = Awaited<ReturnType<typeof runSoak>>;

export async function runSoak(config: BenchConfig, app: BenchApp, users: BenchUser[]) {
  const workers = Math.min(config.connections, users.length);
  log(`soak: ${config.soak}s of mixed load, ${workers} workers, access tokens of ${config.soakTokenTtl}s...`);
  const sampler = new Sampler({ rss: () => readTreeMemory(app.pids)?.rssMB ?? null }, 1000);
  const result = await runLoad<SoakLoadResult>({
    kind: "soak",
    name: "soak",
    duration: config.soak,
    warmup: config.warmup,
    timeout: config.timeout,
    acceptEncoding: config.acceptEncoding,
    appUrl: app.stack.app.url,
    users,
    concurrency: workers,
    maxActions: config.soak * MAX_REQUESTS_PER_SECOND,
    maxSignIns: config.signInMaxRounds,
  }).finally(() => sampler.stop());
  app.assertRunning("the soak");
  const { measuredFromUs: fromUs, measuredToUs: toUs } = result;
  const samples = await app.gcSamples.waitFor(toUs);
  const heap = samples.map((sample): [number, number] => [sample.us, sample.heapUsedBytes / 2 ** 20]);
  const rss = sampler.series("rss");
  log(`soak: ${result.actions} requests, ${result.errors} errors`);
  for (const sample of result.errorSamples) log(`  error: ${sample}`);
  return {
    seconds: result.seconds,
    workers,
    users: users.length,
    tokenTtlSeconds: config.soakTokenTtl,
    requests: result.actions,
    kinds: result.kinds,
    errors: result.errors,
    errorKinds: result.errorKinds,
    errorSamples: result.errorSamples,
    memory: { rssMB: trend(rss, fromUs, toUs), heapUsedMB: trend(heap, fromUs, toUs) },
    timelineMB: rss
      .filter(([us]) => us >= fromUs && us <= toUs)
      .map(([us, mb]) => ({
        second: round((us - fromUs) / 1e6, 1),
        rss: round(mb, 1),
        heapUsed: roundOrNull(valueAt(heap, us), 1),
      })),
    window: { fromUs, toUs },
  };
}

export function formatSoak(soak: SoakReport): string {
  const kinds = formatColumns(
    ["kind", "requests", "rps", "p50 ms", "p99 ms", "errors"],
    SOAK_KINDS.map((kind) => {
      const { count, rps, latency, errors } = soak.kinds[kind];
      return [kind, String(count), fixed(rps, 1), fixed(latency.p50, 2), fixed(latency.p99, 2), String(errors)];
    }),
    1,
    true,
  );
  const memory = formatColumns(
    ["memory", "start MB", "middle MB", "end MB", "slope MB/min"],
    Object.entries({ RSS: soak.memory.rssMB, "V8 heap used": soak.memory.heapUsedMB }).map(([name, trend]) => [
      name,
      fixed(trend.startMB, 1),
      fixed(trend.middleMB, 1),
      fixed(trend.endMB, 1),
      fixed(trend.slopeMBPerMinute, 2),
    ]),
    1,
    true,
  );
  return `${kinds}\n\n${memory}`;
}

/**
 * Loaded into the app process by `npm run bench` alone (`node --import <this, compiled>`; the
 * `start` script never loads it): how many bytes the app allocates on V8's heap and how long
 * its garbage collections pause it, as a running total written to a file every
 * SAMPLE_INTERVAL_MS. The benchmark cuts each phase's measured window out of those totals
 * (bench/gc-samples.ts). With BENCH_HEAP_PROFILE_FILE it also records a sampling heap profile
 * that keeps objects already collected: where the allocated bytes come from, not what stays.
 *
 * Node 20's V8 has no counter of allocated bytes, so it is rebuilt from exact readings:
 * allocated so far = heap in use now + everything garbage collections have taken back. V8's
 * GC profiler (node:v8 GCProfiler) records the heap in use just before and just after every
 * collection, and its duration (the main thread's pause). Profilers are rotated at every
 * sample: the next one starts before the previous one stops, with no JavaScript allocation
 * in between, so no collection is missed or counted twice. Each line:
 * `<monotonic µs> <bytes allocated so far> <GC pause µs so far> <collections so far>
 * <longest pause µs since the previous line>`.
 */
import { openSync, writeFileSync, writeSync } from "node:fs";
import { Session } from "node:inspector";
import { GCProfiler, getHeapStatistics } from "node:v8";

const SAMPLE_INTERVAL_MS = 100;
/** Bytes between heap profile samples: V8's default (32 KiB) would hide small allocators. */
const HEAP_SAMPLING_INTERVAL = 8 * 1024;

const samplesFile = process.env.BENCH_GC_SAMPLES_FILE;
const heapProfileFile = process.env.BENCH_HEAP_PROFILE_FILE;

if (samplesFile) {
  const fd = openSync(samplesFile, "w");
  let freedBytes = 0;
  let pauseUs = 0;
  let collections = 0;
  let profiler = new GCProfiler();
  profiler.start();
  const sample = () => {
    const next = new GCProfiler();
    next.start();
    const profile = profiler.stop();
    profiler = next;
    let longestUs = 0;
    for (const gc of profile.statistics) {
      longestUs = Math.max(longestUs, gc.cost);
      freedBytes += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
      pauseUs += gc.cost;
      collections++;
    }
    // Read after the stop: a collection in between lands in the next profiler and shows in the
    // next line, so the totals never count one twice.
    const allocated = getHeapStatistics().used_heap_size + freedBytes;
    const now = process.hrtime.bigint() / 1000n;
    writeSync(fd, `${now} ${allocated} ${Math.round(pauseUs)} ${collections} ${Math.round(longestUs)}\n`);
  };
  sample();
  // Unref'd: the probe must not keep a stopping server alive.
  setInterval(sample, SAMPLE_INTERVAL_MS).unref();
  process.once("exit", sample);
}

if (heapProfileFile) {
  const session = new Session();
  session.connect();
  // A session in the same thread answers synchronously, so this works in an 'exit' handler too.
  // The two include flags are V8's (Node 20 has them) but not in @types/node's protocol yet.
  const sampling = {
    samplingInterval: HEAP_SAMPLING_INTERVAL,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  };
  session.post("HeapProfiler.startSampling", sampling);
  process.once("exit", () => {
    session.post("HeapProfiler.stopSampling", (error, result) => {
      if (!error) writeFileSync(heapProfileFile, JSON.stringify(result.profile));
    });
  });
}

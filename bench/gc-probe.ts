// Preloaded into the app by `npm run bench` alone, never by `npm start`: bench/README.md, "Allocation and GC".
import { openSync, writeFileSync, writeSync } from "node:fs";
import { Session } from "node:inspector";
import { GCProfiler, getHeapStatistics } from "node:v8";

const SAMPLE_INTERVAL_MS = 100;
// V8's default heap sampling interval (32 KiB) would hide small allocators.
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
    // Read after the stop: a collection in between shows in the next line, never twice.
    const used = getHeapStatistics().used_heap_size;
    const now = process.hrtime.bigint() / 1000n;
    writeSync(
      fd,
      `${now} ${used + freedBytes} ${Math.round(pauseUs)} ${collections} ${Math.round(longestUs)} ${used}\n`,
    );
  };
  sample();
  // Unref'd: the probe must not keep a stopping server alive.
  setInterval(sample, SAMPLE_INTERVAL_MS).unref();
  process.once("exit", sample);
}

if (heapProfileFile) {
  const session = new Session();
  session.connect();
  // Same-thread sessions answer synchronously (fine in an 'exit' handler); the include flags are not in @types/node yet.
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

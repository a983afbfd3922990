/**
 * The benchmark's allocation figure is only worth reporting if it counts what a program really
 * allocates: a process preloaded with the probe makes a known number of arrays, and the probe's
 * totals must say so.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileProbe, GcSamples, windowOf } from "../../../bench/gc-samples";

const ARRAYS = 200_000;
// A JSArray (32 bytes) and its FixedArray of 100 elements (16 + 100 × 8 bytes), 64-bit V8
// without pointer compression (Node's default build).
const BYTES_PER_ARRAY = 32 + 16 + 100 * 8;

describe("bench/gc-probe.ts", () => {
  const dir = mkdtempSync(join(tmpdir(), "rkp-gc-probe-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("counts the bytes a process allocates, short-lived ones included, and its collections", async () => {
    const flags = await compileProbe(dir);
    const samples = new GcSamples(join(dir, "samples.txt"));
    const program = `let kept; for (let i = 0; i < ${ARRAYS}; i++) kept = new Array(100).fill(i);`;
    const run = spawnSync(process.execPath, [...flags, "--input-type=module", "-e", program], {
      env: { ...process.env, BENCH_GC_SAMPLES_FILE: samples.file },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.status, run.stderr).toBe(0);

    // From the probe's first sample (as it loads) to its last (as the process exits).
    const all = await samples.read();
    expect(all.length).toBeGreaterThanOrEqual(2);
    const window = windowOf(all, all[0]!.us, all.at(-1)!.us);
    const expected = ARRAYS * BYTES_PER_ARRAY;
    // Above: Node's own start-up and the program's compilation, a few MB at most.
    expect(window!.allocatedBytes).toBeGreaterThan(expected);
    expect(window!.allocatedBytes).toBeLessThan(expected * 1.05);
    // 170 MB through a 16 MB young generation: many scavenges, each paused the thread a little.
    expect(window!.collections).toBeGreaterThan(5);
    expect(window!.gcPauseMs).toBeGreaterThan(0);
    expect(window!.longestPauseMs).toBeGreaterThan(0);
    expect(window!.longestPauseMs).toBeLessThanOrEqual(window!.gcPauseMs);
  });

  it("interpolates a window between samples and refuses one the samples do not cover", () => {
    const samples = [
      { us: 1_000, allocatedBytes: 0, gcPauseUs: 0, collections: 0, longestPauseUs: 0 },
      { us: 2_000, allocatedBytes: 1_000, gcPauseUs: 100, collections: 2, longestPauseUs: 60 },
      { us: 3_000, allocatedBytes: 3_000, gcPauseUs: 100, collections: 2, longestPauseUs: 0 },
      { us: 4_000, allocatedBytes: 3_000, gcPauseUs: 900, collections: 3, longestPauseUs: 800 },
    ];
    expect(windowOf(samples, 1_500, 2_500)).toEqual({
      allocatedBytes: 1_500,
      gcPauseMs: 0.05,
      collections: 1,
      longestPauseMs: 0.06,
    });
    expect(windowOf(samples, 2_000, 3_000)?.longestPauseMs).toBe(0);
    expect(windowOf(samples, 500, 2_500)).toBeNull();
    expect(windowOf(samples, 1_500, 4_500)).toBeNull();
  });
});

/**
 * The benchmark's side of bench/gc-probe.ts: compiles the probe for the app to preload, and reads
 * the running totals it writes (bytes allocated, GC pause time, collections) to cut a phase's
 * measured window out of them.
 */
import { watch, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { ROOT } from "../tests/support/app-process.ts";

/**
 * The probe as plain JavaScript in `dir`, and the Node flags that preload it. The app runs on
 * Node alone (no TypeScript loader: it would change start-up and memory), so the probe is
 * compiled here rather than run through tsx.
 */
export async function compileProbe(dir: string): Promise<string[]> {
  const source = await readFile(join(ROOT, "bench/gc-probe.ts"), "utf8");
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const file = join(dir, "gc-probe.mjs");
  writeFileSync(file, outputText);
  return ["--import", pathToFileURL(file).href];
}

interface Sample {
  us: number;
  allocatedBytes: number;
  gcPauseUs: number;
  collections: number;
  /** The longest single pause since the previous sample. */
  longestPauseUs: number;
}

export interface GcWindow {
  /** Bytes allocated on V8's heap in the window. */
  allocatedBytes: number;
  /** Main-thread GC pause time in the window, in milliseconds. */
  gcPauseMs: number;
  /** Collections that ended in the window (whole ones: not interpolated). */
  collections: number;
  /**
   * The longest single pause in the samples that overlap the window (one that ended up to a
   * sample interval before or after it may count), in milliseconds.
   */
  longestPauseMs: number;
}

function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(" ").map(Number);
    const [us, allocatedBytes, gcPauseUs, collections, longestPauseUs] = fields;
    if (fields.length === 5 && fields.every(Number.isFinite))
      samples.push({
        us: us!,
        allocatedBytes: allocatedBytes!,
        gcPauseUs: gcPauseUs!,
        collections: collections!,
        longestPauseUs: longestPauseUs!,
      });
  }
  return samples;
}

export class GcSamples {
  constructor(readonly file: string) {}

  async read(): Promise<Sample[]> {
    return parse(await readFile(this.file, "utf8").catch(() => ""));
  }

  /**
   * Resolves once the probe has written a sample at or after `us` (monotonic µs), or after
   * `timeoutMs` (the app stopped, or its event loop is stuck): the samples so far.
   */
  async waitFor(us: number, timeoutMs = 5_000): Promise<Sample[]> {
    const covered = (samples: Sample[]) => (samples.at(-1)?.us ?? 0) >= us;
    let samples = await this.read();
    if (covered(samples)) return samples;
    return new Promise((resolve) => {
      const finish = () => {
        watcher.close();
        clearTimeout(timer);
        resolve(samples);
      };
      const watcher = watch(this.file, () => {
        void this.read().then((latest) => {
          samples = latest;
          if (covered(samples)) finish();
        });
      });
      const timer = setTimeout(finish, timeoutMs);
    });
  }

  /** Totals in [fromUs, toUs], interpolated between samples; null unless samples cover both ends. */
  async between(fromUs: number, toUs: number): Promise<GcWindow | null> {
    return windowOf(await this.waitFor(toUs), fromUs, toUs);
  }
}

export function windowOf(samples: Sample[], fromUs: number, toUs: number): GcWindow | null {
  const at = (us: number, value: (sample: Sample) => number): number | null => {
    const index = samples.findIndex((sample) => sample.us >= us);
    if (index < 0 || (index === 0 && samples[0]!.us > us)) return null;
    if (index === 0) return value(samples[0]!);
    const before = samples[index - 1]!;
    const after = samples[index]!;
    return value(before) + ((value(after) - value(before)) * (us - before.us)) / (after.us - before.us);
  };
  const delta = (value: (sample: Sample) => number) => {
    const from = at(fromUs, value);
    const to = at(toUs, value);
    return from === null || to === null ? null : to - from;
  };
  const allocatedBytes = delta((sample) => sample.allocatedBytes);
  const gcPauseUs = delta((sample) => sample.gcPauseUs);
  const collections = delta((sample) => sample.collections);
  if (allocatedBytes === null || gcPauseUs === null || collections === null) return null;
  // A sample holds the longest pause of the interval that ends at it.
  const overlapping = samples.filter(
    (sample, index) => sample.us > fromUs && (samples[index - 1]?.us ?? Number.NEGATIVE_INFINITY) < toUs,
  );
  const longestPauseMs = Math.max(0, ...overlapping.map((sample) => sample.longestPauseUs)) / 1000;
  return { allocatedBytes, gcPauseMs: gcPauseUs / 1000, collections: Math.round(collections), longestPauseMs };
}

/** The benchmark's side of bench/gc-probe.ts: compiles the probe, and cuts a window out of the totals it writes. */
import { watch, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { ROOT } from "../tests/support/app-process.ts";
import { valueAt } from "./memory";

/** Compiled rather than run through tsx: a TypeScript loader in the app would change its start-up and memory. */
export async function compileProbe(dir: string): Promise<string[]> {
  const source = await readFile(join(ROOT, "bench/gc-probe.ts"), "utf8");
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const file = join(dir, "gc-probe.mjs");
  writeFileSync(file, outputText);
  return ["--import", pathToFileURL(file).href];
}

const FIELDS = ["us", "allocatedBytes", "gcPauseUs", "collections", "longestPauseUs", "heapUsedBytes"] as const;
type Sample = Record<(typeof FIELDS)[number], number>;

function parse(text: string): Sample[] {
  return text
    .split("\n")
    .map((line) => line.split(" ").map(Number))
    .filter((fields) => fields.length === FIELDS.length && fields.every(Number.isFinite))
    .map((fields) => Object.fromEntries(FIELDS.map((name, index) => [name, fields[index]])) as Sample);
}

export class GcSamples {
  constructor(readonly file: string) {}

  async read(): Promise<Sample[]> {
    return parse(await readFile(this.file, "utf8").catch(() => ""));
  }

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

  async between(fromUs: number, toUs: number) {
    return windowOf(await this.waitFor(toUs), fromUs, toUs);
  }
}

/** Totals in [fromUs, toUs], interpolated between samples; null unless samples cover both ends. */
export function windowOf(samples: Array<Omit<Sample, "heapUsedBytes">>, fromUs: number, toUs: number) {
  const delta = (field: "allocatedBytes" | "gcPauseUs" | "collections") => {
    const series = samples.map((sample): [number, number] => [sample.us, sample[field]]);
    const [from, to] = [valueAt(series, fromUs), valueAt(series, toUs)];
    return from === null || to === null ? null : to - from;
  };
  const [allocatedBytes, gcPauseUs, collections] = [delta("allocatedBytes"), delta("gcPauseUs"), delta("collections")];
  if (allocatedBytes === null || gcPauseUs === null || collections === null) return null;
  // A sample holds the longest pause of the interval that ends at it.
  const overlapping = samples.filter(
    (sample, index) => sample.us > fromUs && (samples[index - 1]?.us ?? -Infinity) < toUs,
  );
  const longestPauseMs = Math.max(0, ...overlapping.map((sample) => sample.longestPauseUs)) / 1000;
  return { allocatedBytes, gcPauseMs: gcPauseUs / 1000, collections: Math.round(collections), longestPauseMs };
}

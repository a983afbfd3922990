/** Memory and CPU time of other processes, from /proc (Linux); elsewhere the readings are null. */
import { readdirSync, readFileSync } from "node:fs";

export interface ProcessInfo {
  pid: number;
  command: string;
}

const USER_HZ = 100;
export const nowUs = () => Number(process.hrtime.bigint() / 1000n);

const readProc = (pid: number | string, file: string): string | null => {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return null;
  }
};

/** The fields of /proc/<pid>/stat after the command name (which may contain spaces): [0] is field 3. */
function statFields(pid: number | string): number[] | null {
  const stat = readProc(pid, "stat");
  return stat === null
    ? null
    : stat
        .slice(stat.lastIndexOf(")") + 2)
        .split(" ")
        .map(Number);
}

export function processTree(rootPid: number): ProcessInfo[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry));
  } catch {
    return [];
  }
  for (const entry of entries) {
    const ppid = statFields(entry)?.[1];
    if (ppid !== undefined) children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const tree: ProcessInfo[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    const cmdline = readProc(pid, "cmdline");
    if (cmdline === null) continue;
    tree.push({ pid, command: cmdline.split("\0").join(" ").trim() });
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

export function readMemory(pid: number) {
  const status = readProc(pid, "status");
  if (status === null) return null;
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(status)?.[1] ?? NaN) / 1024;
  const rssMB = kb("VmRSS");
  return Number.isFinite(rssMB) ? { rssMB, hwmMB: kb("VmHWM") } : null;
}

/** With `reaped`, plus the CPU of the children it has waited for (PostgreSQL's backends come and go). */
export function readCpuMs(pid: number, reaped = false): number | null {
  const fields = statFields(pid);
  if (!fields) return null;
  const ticks = fields[11]! + fields[12]! + (reaped ? fields[13]! + fields[14]! : 0);
  return Number.isFinite(ticks) ? (ticks * 1000) / USER_HZ : null;
}

function sum<T>(pids: number[], read: (pid: number) => T | null, add: (a: T, b: T) => T): T | null {
  let total: T | null = null;
  for (const pid of pids) {
    const reading = read(pid);
    if (reading !== null) total = total === null ? reading : add(total, reading);
  }
  return total;
}

export const readTreeMemory = (pids: number[]) =>
  sum(pids, readMemory, (a, b) => ({ rssMB: a.rssMB + b.rssMB, hwmMB: a.hwmMB + b.hwmMB }));
export const readTreeCpuMs = (pids: number[]) => sum(pids, readCpuMs, (a, b) => a + b);

/** A value at monotonic microsecond `us`, interpolated between [us, value] samples; null outside them. */
export function valueAt(samples: Array<[number, number]>, us: number): number | null {
  if (samples.length === 0 || us < samples[0]![0] || us > samples.at(-1)![0]) return null;
  const index = samples.findIndex(([time]) => time >= us);
  if (index <= 0) return samples[0]![1];
  const [t0, v0] = samples[index - 1]!;
  const [t1, v1] = samples[index]!;
  return t1 === t0 ? v1 : v0 + ((v1 - v0) * (us - t0)) / (t1 - t0);
}

/** Samples named readings (CPU ms, RSS...) every `intervalMs`, to read any window or series later. */
export class Sampler<Group extends string = string> {
  private readonly samples = new Map<string, Array<[number, number]>>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly groups: Record<Group, () => number | null>,
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    const time = nowUs();
    for (const [name, read] of Object.entries<() => number | null>(this.groups)) {
      const value = read();
      if (value === null) continue;
      const list = this.samples.get(name) ?? [];
      list.push([time, value]);
      this.samples.set(name, list);
    }
  }

  stop(): this {
    clearInterval(this.timer);
    this.sample();
    return this;
  }

  series(name: Group): Array<[number, number]> {
    return this.samples.get(name) ?? [];
  }

  /** How much each group grew between two moments (process.hrtime in µs, in any process). */
  between(fromUs: number, toUs: number): Record<Group, number | null> {
    const growth = (name: Group) => {
      const from = valueAt(this.series(name), fromUs);
      const to = valueAt(this.series(name), toUs);
      return from === null || to === null ? null : to - from;
    };
    const names = Object.keys(this.groups) as Group[];
    return Object.fromEntries(names.map((name) => [name, growth(name)])) as Record<Group, number | null>;
  }
}

export const appSampler = (pids: number[]) =>
  new Sampler({ app: () => readTreeCpuMs(pids), rss: () => readTreeMemory(pids)?.rssMB ?? null });

/** The peak RSS sampled, the highest of every second (steady growth or a plateau?), and VmHWM (summed) now. */
export function memoryFigures(sampler: Sampler<"app" | "rss">, pids: number[]) {
  const rss = sampler.series("rss");
  const perSecond: number[] = [];
  for (const [us, mb] of rss) {
    const second = Math.floor((us - rss[0]![0]) / 1e6);
    if (!(mb <= (perSecond[second] ?? NaN))) perSecond[second] = mb;
  }
  const hwmMB = readTreeMemory(pids)?.hwmMB ?? NaN;
  return {
    peakRssMB: rss.length > 0 ? Math.max(...rss.map(([, mb]) => mb)) : null,
    hwmMB: Number.isFinite(hwmMB) ? hwmMB : null,
    timelineMB: Array.from(perSecond, (value) => (value === undefined ? null : Math.round(value))),
  };
}

/**
 * Memory and CPU time of other processes, from /proc (Linux): VmRSS (resident now) and VmHWM
 * (the highest resident size since the process started) from /proc/<pid>/status, user + system
 * CPU time of all its threads from /proc/<pid>/stat. Elsewhere the numbers are null.
 */
import { readdirSync, readFileSync } from "node:fs";

export interface ProcessInfo {
  pid: number;
  command: string;
}

/** `rootPid` and every process below it, with their command lines ([] without /proc). */
export function processTree(rootPid: number): ProcessInfo[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry));
  } catch {
    return [];
  }
  for (const entry of entries) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended meanwhile.
    }
  }
  const tree: ProcessInfo[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    try {
      const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
      tree.push({ pid, command });
    } catch {
      continue;
    }
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

export interface MemoryReading {
  rssMB: number;
  hwmMB: number;
}

export function readMemory(pid: number): MemoryReading | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
  const kb = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(status);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  };
  const rssMB = kb("VmRSS");
  const hwmMB = kb("VmHWM");
  return Number.isFinite(rssMB) ? { rssMB, hwmMB } : null;
}

/** Clock ticks per second of /proc/<pid>/stat times: USER_HZ, 100 on Linux. */
const USER_HZ = 100;

/** User + system CPU milliseconds the process has used so far (all threads). */
export function readCpuMs(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may contain spaces: split after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? ((utime + stime) * 1000) / USER_HZ : null;
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/** The sum of readings over several processes; null when none can be read. */
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
const readTreeCpuMs = (pids: number[]) => sum(pids, readCpuMs, (a, b) => a + b);

/**
 * Samples the resident memory of a set of processes (summed) every `intervalMs` until stopped;
 * keeps the peak, and the highest reading of every second (a timeline to tell steady growth
 * from a plateau), and their CPU time, to know how much CPU they used in a given window.
 */
export class MemorySampler {
  private peak = Number.NaN;
  private samples = 0;
  private readonly started = performance.now();
  private readonly perSecond: number[] = [];
  /** [monotonic microseconds, CPU milliseconds used so far]. */
  private readonly cpu: Array<[number, number]> = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: number[],
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    const cpuMs = readTreeCpuMs(this.pids);
    if (cpuMs !== null) this.cpu.push([nowUs(), cpuMs]);
    const reading = readTreeMemory(this.pids);
    if (!reading) return;
    this.samples++;
    if (!(reading.rssMB <= this.peak)) this.peak = reading.rssMB;
    const second = Math.floor((performance.now() - this.started) / 1000);
    if (!(reading.rssMB <= (this.perSecond[second] ?? Number.NaN))) this.perSecond[second] = reading.rssMB;
  }

  /**
   * CPU milliseconds used between two moments (monotonic microseconds, as
   * process.hrtime.bigint() / 1000n in any process), interpolated between samples.
   */
  cpuMsBetween(fromUs: number, toUs: number): number | null {
    const samples = this.cpu;
    const at = (us: number): number | null => {
      if (samples.length === 0 || us < samples[0]![0] || us > samples[samples.length - 1]![0]) return null;
      const index = samples.findIndex(([time]) => time >= us);
      if (index <= 0) return samples[0]![1];
      const [t0, c0] = samples[index - 1]!;
      const [t1, c1] = samples[index]!;
      return t1 === t0 ? c1 : c0 + ((c1 - c0) * (us - t0)) / (t1 - t0);
    };
    const from = at(fromUs);
    const to = at(toUs);
    return from === null || to === null ? null : to - from;
  }

  /** Peak sampled RSS and the processes' VmHWM (summed) at this moment; null where /proc is missing. */
  stop(): { peakRssMB: number | null; hwmMB: number | null; samples: number; timelineMB: Array<number | null> } {
    clearInterval(this.timer);
    this.sample();
    const reading = readTreeMemory(this.pids);
    return {
      peakRssMB: this.samples > 0 ? this.peak : null,
      hwmMB: reading && Number.isFinite(reading.hwmMB) ? reading.hwmMB : null,
      samples: this.samples,
      timelineMB: Array.from(this.perSecond, (value) => (value === undefined ? null : Math.round(value))),
    };
  }
}

/**
 * Memory and CPU time of another process, from /proc (Linux): VmRSS (resident now) and VmHWM
 * (the highest resident size since the process started) from /proc/<pid>/status, user + system
 * CPU time of all its threads from /proc/<pid>/stat. Elsewhere the numbers are null.
 */
import { readFileSync } from "node:fs";

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

/**
 * Samples a process's resident memory every `intervalMs` until stopped; keeps the peak, and
 * the highest reading of every second (a timeline to tell steady growth from a plateau), and
 * its CPU time, to know how much CPU it used in a given window.
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
    private readonly pid: number,
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    const cpuMs = readCpuMs(this.pid);
    if (cpuMs !== null) this.cpu.push([nowUs(), cpuMs]);
    const reading = readMemory(this.pid);
    if (!reading) return;
    this.samples++;
    if (!(reading.rssMB <= this.peak)) this.peak = reading.rssMB;
    const second = Math.floor((performance.now() - this.started) / 1000);
    if (!(reading.rssMB <= (this.perSecond[second] ?? Number.NaN))) this.perSecond[second] = reading.rssMB;
  }

  /** Peak sampled RSS and the process's VmHWM at this moment; null where /proc is missing. */
  /**
   * CPU milliseconds the process used between two moments (monotonic microseconds, as
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

  stop(): { peakRssMB: number | null; hwmMB: number | null; samples: number; timelineMB: Array<number | null> } {
    clearInterval(this.timer);
    this.sample();
    const reading = readMemory(this.pid);
    return {
      peakRssMB: this.samples > 0 ? this.peak : null,
      hwmMB: reading && Number.isFinite(reading.hwmMB) ? reading.hwmMB : null,
      samples: this.samples,
      timelineMB: Array.from(this.perSecond, (value) => (value === undefined ? null : Math.round(value))),
    };
  }
}

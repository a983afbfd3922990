/** Latency statistics from raw samples (milliseconds), exact rather than bucketed. */

export type LatencySummary = ReturnType<typeof summarize>;

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(samples: number[]) {
  const sorted = Float64Array.from(samples).sort();
  const count = sorted.length;
  const total = sorted.reduce((sum, value) => sum + value, 0);
  const ms = (value: number) => round(value, 3);
  return {
    count,
    min: ms(count ? sorted[0]! : NaN),
    mean: ms(count ? total / count : NaN),
    p50: ms(percentile(sorted, 50)),
    p90: ms(percentile(sorted, 90)),
    p99: ms(percentile(sorted, 99)),
    max: ms(count ? sorted[count - 1]! : NaN),
  };
}

export function round(value: number, decimals = 2): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

export const roundOrNull = (value: number | null | undefined, decimals = 2) =>
  value === null || value === undefined ? null : round(value, decimals);

export function increment(counts: Record<string, number>, key: string | number): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** Keeps at most `limit` samples (reservoir sampling), so memory stays bounded on long runs. */
export class Reservoir {
  readonly values: number[] = [];
  private seen = 0;

  constructor(private readonly limit = 1_000_000) {}

  add(value: number): void {
    this.seen++;
    if (this.values.length < this.limit) {
      this.values.push(value);
      return;
    }
    const slot = Math.floor(Math.random() * this.seen);
    if (slot < this.limit) this.values[slot] = value;
  }
}

/** Least-squares slope of y over x. */
export function slope(points: Array<[number, number]>): number {
  const mean = (index: 0 | 1) => points.reduce((sum, point) => sum + point[index], 0) / points.length;
  const [x, y] = [mean(0), mean(1)];
  const spread = points.reduce((sum, [px]) => sum + (px - x) ** 2, 0);
  return spread > 0 ? points.reduce((sum, [px, py]) => sum + (px - x) * (py - y), 0) / spread : NaN;
}

// The soak's memory slope is a least-squares fit: exact on a line, and a sawtooth around a flat line is flat.
import { describe, expect, it } from "vitest";
import { slope, summarize } from "../../../bench/stats";

describe("bench/stats.ts", () => {
  it("fits the slope of the samples by least squares", () => {
    expect(slope([0, 1, 2, 3, 4].map((x): [number, number] => [x, 100 + 2.5 * x]))).toBeCloseTo(2.5, 10);
    const sawtooth = Array.from({ length: 100 }, (_, x): [number, number] => [x, 50 + (x % 2 === 0 ? 5 : -5)]);
    expect(Math.abs(slope(sawtooth))).toBeLessThan(0.01);
    expect(slope([[1, 5]])).toBeNaN();
  });

  it("summarizes latencies with nearest-rank percentiles", () => {
    const summary = summarize(Array.from({ length: 100 }, (_, index) => index + 1));
    expect(summary).toEqual({ count: 100, min: 1, mean: 50.5, p50: 50, p90: 90, p99: 99, max: 100 });
  });
});

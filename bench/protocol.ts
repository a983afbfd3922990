/**
 * What bench/run.ts sends to the load process (JSON on its stdin) and what the load process
 * answers (one JSON line on its stdout).
 */
import type { Credentials } from "../tests/support/people.ts";
import type { LatencySummary } from "./stats";

interface JobBase {
  name: string;
  /** Measured seconds. */
  duration: number;
  /** Seconds of load before measuring; not counted in the results (errors excepted). */
  warmup: number;
  /** Seconds per request. */
  timeout: number;
  /** Accept-Encoding for every request; "" for none. */
  acceptEncoding: string;
}

/** One request, repeated by autocannon. */
export interface HttpJob extends JobBase {
  kind: "http";
  url: string;
  connections: number;
  /** Cookie headers to rotate through, one per request; empty for anonymous requests. */
  cookies: string[];
  expectStatus: number;
  /** When set, a response only counts as a success if its Location has this path. */
  expectLocationPath?: string;
}

/** The full sign-in round trip, in a bounded concurrent loop. */
export interface SignInJob extends JobBase {
  kind: "sign-in";
  appUrl: string;
  users: Credentials[];
  concurrency: number;
  /** No more round trips than this (warm-up included), whatever the duration. */
  maxRounds: number;
}

export type LoadJob = HttpJob | SignInJob;

export interface LoadResult {
  name: string;
  /** Seconds actually measured. */
  seconds: number;
  /** Completed requests (round trips for sign-in), successes and failures, while measuring. */
  completed: number;
  /** Successful requests (or round trips) per second while measuring. */
  rps: number;
  /** Latency of successful requests (round trips), in milliseconds. */
  latency: LatencySummary;
  /** Failures, warm-up included: wrong status or Location, timeouts, connection errors. */
  errors: number;
  /** Failure counts by reason, e.g. {"status 500": 3, "timeout": 1}. */
  errorKinds: Record<string, number>;
  /** A few failure messages, for the log. */
  errorSamples: string[];
  /** Status codes seen while measuring. */
  statusCounts: Record<string, number>;
  warmup: { seconds: number; completed: number; errors: number };
  /** Per-hop latency summaries (sign-in only), from measured round trips. */
  steps?: Record<string, LatencySummary>;
  /** Sign-in only: per round trip, the sum of the app's hops (those named "app-..."). */
  appSide?: LatencySummary;
  /** process.hrtime.bigint() in microseconds (CLOCK_MONOTONIC, the clock of .cpuprofile files). */
  measuredFromUs: number;
  measuredToUs: number;
  /** The load process's own CPU milliseconds while measuring (HTTP phases). */
  loadCpuMs?: number;
}

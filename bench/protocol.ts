/** The load process's input (a LoadJob as JSON on stdin) and output (a LoadResult, one JSON line on stdout). */
import type { Credentials } from "../tests/support/people.ts";
import type { LatencySummary } from "./stats";

interface JobBase {
  name: string;
  duration: number;
  warmup: number;
  timeout: number;
  acceptEncoding: string;
}

export interface HttpJob extends JobBase {
  kind: "http";
  url: string;
  connections: number;
  /** Cookie headers to rotate through, one per request; empty for anonymous requests. */
  cookies: string[];
  expectStatus: number;
  expectLocationPath?: string;
}

export interface SignInJob extends JobBase {
  kind: "sign-in";
  appUrl: string;
  users: Credentials[];
  concurrency: number;
  /** No more round trips than this (warm-up included), whatever the duration. */
  maxRounds: number;
}

export type BenchUser = Credentials & { cookie: string };

export const SOAK_KINDS = ["public", "dashboard", "profile-post", "sign-in", "refresh"] as const;
export type SoakKind = (typeof SOAK_KINDS)[number];

/** Mixed load by `concurrency` workers, each with its own users (so no two refreshes of one user race). */
export interface SoakJob extends JobBase {
  kind: "soak";
  appUrl: string;
  users: BenchUser[];
  concurrency: number;
  maxActions: number;
  maxSignIns: number;
}

export type LoadJob = HttpJob | SignInJob | SoakJob;

interface ResultBase {
  name: string;
  seconds: number;
  errors: number;
  errorKinds: Record<string, number>;
  errorSamples: string[];
  measuredFromUs: number;
  measuredToUs: number;
}

export interface SoakLoadResult extends ResultBase {
  actions: number;
  kinds: Record<SoakKind, { count: number; errors: number; rps: number; latency: LatencySummary }>;
}

/** The fields bench/README.md's "Results files" describes; times are process.hrtime µs (CLOCK_MONOTONIC). */
export interface LoadResult extends ResultBase {
  completed: number;
  rps: number;
  latency: LatencySummary;
  statusCounts: Record<string, number>;
  warmup: { seconds: number; completed: number; errors: number };
  steps?: Record<string, LatencySummary>;
  appSide?: LatencySummary;
  /** The load process's own CPU milliseconds while measuring (HTTP phases). */
  loadCpuMs?: number;
}

/**
 * The benchmark's options, from the environment (see bench/README.md). Every option has a
 * default and a hard upper bound, so a typo cannot start an unbounded load loop.
 */
import { z } from "zod";

export const PHASE_NAMES = ["landing", "dashboard", "auth-success", "sign-in"] as const;
export type PhaseName = (typeof PHASE_NAMES)[number];

/** BENCH_DATABASES: 1 instance on SQLite, 1 on PostgreSQL, 2 behind HAProxy on PostgreSQL. */
export const DATABASE_SETUPS = ["sqlite", "postgres", "postgres-2"] as const;
export type DatabaseSetup = (typeof DATABASE_SETUPS)[number];

export interface BenchConfig {
  quick: boolean;
  /** Accept-Encoding sent with every request ("" sends none; then nothing is compressed). */
  acceptEncoding: string;
  /**
   * Node.js flags for the app process after those of package.json's `start` script (so they
   * win), e.g. ["--max-old-space-size=128"].
   */
  appNodeArgs: string[];
  /** Measured seconds per phase. */
  duration: number;
  /** Warm-up seconds per phase, before measuring (not counted). */
  warmup: number;
  /** autocannon connections for the single-request phases. */
  connections: number;
  /** Concurrent sign-in round trips in the sign-in phase. */
  signInConcurrency: number;
  /** Upper bound on sign-in round trips per phase, whatever the duration. */
  signInMaxRounds: number;
  users: number;
  /** Reuse build/ when it has the app and the compiled server; else build. */
  skipBuild: boolean;
  /** Start the app under `node --cpu-prof` and keep its .cpuprofile with the results. */
  profile: boolean;
  /** Record a sampling heap profile of the app's allocations (bench/gc-probe.ts) and keep it. */
  heapProfile: boolean;
  phases: PhaseName[];
  /** Where results go; bench/results by default. */
  resultsDir: string;
  /** Per-request timeout in seconds (autocannon and each sign-in step). */
  timeout: number;
  /** The databases mode (bench/databases.ts) when not empty: these setups, one after the other. */
  databases: DatabaseSetup[];
}

/** "1", "true", "yes"... are on; "0", "false", "no", "" are off; unset is undefined (the default applies). */
const flag = z
  .string()
  .optional()
  .transform((value) =>
    value === undefined ? undefined : !["", "0", "false", "no", "off"].includes(value.trim().toLowerCase()),
  );

function number(name: string, min: number, max: number, integer: boolean) {
  return z
    .string()
    .optional()
    .transform((value, context) => {
      if (value === undefined || value.trim() === "") return undefined;
      const parsed = Number(value);
      if (!Number.isFinite(parsed) || parsed < min || parsed > max || (integer && !Number.isInteger(parsed))) {
        context.addIssue({
          code: "custom",
          message: `${name} must be ${integer ? "an integer" : "a number"} from ${min} to ${max} (got "${value}")`,
        });
        return z.NEVER;
      }
      return parsed;
    });
}

const schema = z.object({
  BENCH_QUICK: flag,
  // Whole seconds: autocannon stops on its one-second tick, so it would round them up anyway.
  BENCH_DURATION: number("BENCH_DURATION", 1, 600, true),
  BENCH_WARMUP: number("BENCH_WARMUP", 0, 60, true),
  BENCH_CONNECTIONS: number("BENCH_CONNECTIONS", 1, 500, true),
  BENCH_SIGNIN_CONCURRENCY: number("BENCH_SIGNIN_CONCURRENCY", 1, 64, true),
  BENCH_SIGNIN_MAX_ROUNDS: number("BENCH_SIGNIN_MAX_ROUNDS", 1, 1_000_000, true),
  BENCH_USERS: number("BENCH_USERS", 1, 1000, true),
  BENCH_SKIP_BUILD: flag,
  BENCH_PROFILE: flag,
  BENCH_HEAP_PROFILE: flag,
  BENCH_TIMEOUT: number("BENCH_TIMEOUT", 1, 120, false),
  BENCH_PHASES: z
    .string()
    .optional()
    .transform((value, context) => {
      if (value === undefined || value.trim() === "") return [...PHASE_NAMES];
      const names = value
        .split(",")
        .map((name) => name.trim())
        .filter(Boolean);
      const unknown = names.filter((name) => !(PHASE_NAMES as readonly string[]).includes(name));
      if (unknown.length > 0 || names.length === 0) {
        context.addIssue({
          code: "custom",
          message: `BENCH_PHASES must list some of ${PHASE_NAMES.join(", ")} (got "${value}")`,
        });
        return z.NEVER;
      }
      // Always in the canonical order: the landing page is the baseline the others compare to.
      return PHASE_NAMES.filter((name) => names.includes(name));
    }),
  BENCH_DATABASES: z
    .string()
    .optional()
    .transform((value, context) => {
      const names = (value ?? "")
        .split(",")
        .map((name) => name.trim())
        .filter(Boolean);
      const unknown = names.filter((name) => !(DATABASE_SETUPS as readonly string[]).includes(name));
      if (unknown.length > 0) {
        context.addIssue({
          code: "custom",
          message: `BENCH_DATABASES must list some of ${DATABASE_SETUPS.join(", ")} (got "${value}")`,
        });
        return z.NEVER;
      }
      return DATABASE_SETUPS.filter((name) => names.includes(name));
    }),
  BENCH_RESULTS_DIR: z.string().optional(),
  BENCH_ACCEPT_ENCODING: z.string().max(200).optional(),
  BENCH_APP_NODE_ARGS: z
    .string()
    .max(1000)
    .optional()
    .transform((value, context) => {
      const args = (value ?? "").split(/\s+/).filter(Boolean);
      if (args.some((arg) => !arg.startsWith("--"))) {
        context.addIssue({
          code: "custom",
          message: `BENCH_APP_NODE_ARGS must be Node.js flags such as --max-old-space-size=128 (got "${value}")`,
        });
        return z.NEVER;
      }
      return args;
    }),
});

export function readConfig(source: Record<string, string | undefined> = process.env): BenchConfig {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    throw new Error(`Invalid benchmark option: ${parsed.error.issues.map((issue) => issue.message).join("; ")}`);
  }
  const env = parsed.data;
  const quick = env.BENCH_QUICK ?? false;
  return {
    quick,
    acceptEncoding: env.BENCH_ACCEPT_ENCODING ?? "",
    appNodeArgs: env.BENCH_APP_NODE_ARGS,
    duration: env.BENCH_DURATION ?? (quick ? 1 : 10),
    warmup: env.BENCH_WARMUP ?? (quick ? 1 : 2),
    connections: env.BENCH_CONNECTIONS ?? (quick ? 4 : 10),
    signInConcurrency: env.BENCH_SIGNIN_CONCURRENCY ?? (quick ? 2 : 4),
    signInMaxRounds: env.BENCH_SIGNIN_MAX_ROUNDS ?? (quick ? 200 : 20_000),
    users: env.BENCH_USERS ?? (quick ? 3 : 50),
    // Quick mode reuses an existing build unless told otherwise; a missing build is always built.
    skipBuild: env.BENCH_SKIP_BUILD ?? quick,
    profile: env.BENCH_PROFILE ?? false,
    heapProfile: env.BENCH_HEAP_PROFILE ?? false,
    phases: env.BENCH_PHASES,
    resultsDir: env.BENCH_RESULTS_DIR ?? "bench/results",
    timeout: env.BENCH_TIMEOUT ?? 10,
    databases: env.BENCH_DATABASES,
  };
}

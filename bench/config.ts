/** The benchmark's options, from the environment (bench/README.md lists them); each has a hard upper bound. */
import { z } from "zod";

export const PHASE_NAMES = ["landing", "dashboard", "projects", "auth-success", "sign-in"] as const;
export type PhaseName = (typeof PHASE_NAMES)[number];
export const DATABASE_SETUPS = ["sqlite", "postgres", "postgres-2"] as const;
export type DatabaseSetup = (typeof DATABASE_SETUPS)[number];

/** "1", "true", "yes"... are on; "0", "false", "no", "" are off; unset is undefined (the default applies). */
const flag = z
  .string()
  .optional()
  .transform((value) =>
    value === undefined ? undefined : !["", "0", "false", "no", "off"].includes(value.trim().toLowerCase()),
  );

const invalid = (context: z.RefinementCtx, message: string) => {
  context.addIssue({ code: "custom", message });
  return z.NEVER;
};

function number(name: string, min: number, max: number, integer = true) {
  return z
    .string()
    .optional()
    .transform((value, context) => {
      if (value === undefined || value.trim() === "") return undefined;
      const parsed = Number(value);
      if (Number.isFinite(parsed) && parsed >= min && parsed <= max && (!integer || Number.isInteger(parsed)))
        return parsed;
      return invalid(
        context,
        `${name} must be ${integer ? "an integer" : "a number"} from ${min} to ${max} (got "${value}")`,
      );
    });
}

/** A comma-separated subset of `allowed`, always in `allowed`'s order (landing first: the others compare to it). */
function names<T extends string>(name: string, allowed: readonly T[], emptyIsAll: boolean) {
  return z
    .string()
    .optional()
    .transform((value, context) => {
      const listed = (value ?? "")
        .split(",")
        .map((entry) => entry.trim())
        .filter(Boolean);
      if (!value?.trim()) return emptyIsAll ? [...allowed] : [];
      if (
        (emptyIsAll && listed.length === 0) ||
        listed.some((entry) => !(allowed as readonly string[]).includes(entry))
      ) {
        return invalid(context, `${name} must list some of ${allowed.join(", ")} (got "${value}")`);
      }
      return allowed.filter((entry) => listed.includes(entry));
    });
}

const schema = z.object({
  BENCH_QUICK: flag,
  // Whole seconds: autocannon stops on its one-second tick, so it would round them up anyway.
  BENCH_DURATION: number("BENCH_DURATION", 1, 600),
  BENCH_WARMUP: number("BENCH_WARMUP", 0, 60),
  BENCH_CONNECTIONS: number("BENCH_CONNECTIONS", 1, 500),
  BENCH_SIGNIN_CONCURRENCY: number("BENCH_SIGNIN_CONCURRENCY", 1, 64),
  BENCH_SIGNIN_MAX_ROUNDS: number("BENCH_SIGNIN_MAX_ROUNDS", 1, 1_000_000),
  BENCH_USERS: number("BENCH_USERS", 1, 1000),
  BENCH_SKIP_BUILD: flag,
  BENCH_PROFILE: flag,
  BENCH_HEAP_PROFILE: flag,
  BENCH_TIMEOUT: number("BENCH_TIMEOUT", 1, 120, false),
  BENCH_PHASES: names("BENCH_PHASES", PHASE_NAMES, true),
  BENCH_DATABASES: names("BENCH_DATABASES", DATABASE_SETUPS, false),
  BENCH_SOAK: number("BENCH_SOAK", 0, 3600),
  BENCH_SOAK_TOKEN_TTL: number("BENCH_SOAK_TOKEN_TTL", 1, 3600),
  BENCH_RESULTS_DIR: z.string().optional(),
  BENCH_ACCEPT_ENCODING: z.string().max(200).optional(),
  BENCH_APP_NODE_ARGS: z
    .string()
    .max(1000)
    .optional()
    .transform((value, context) => {
      const args = (value ?? "").split(/\s+/).filter(Boolean);
      if (args.every((arg) => arg.startsWith("--"))) return args;
      return invalid(
        context,
        `BENCH_APP_NODE_ARGS must be Node.js flags such as --max-old-space-size=128 (got "${value}")`,
      );
    }),
});

export type BenchConfig = ReturnType<typeof readConfig>;

export function readConfig(source: Record<string, string | undefined> = process.env) {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    throw new Error(`Invalid benchmark option: ${parsed.error.issues.map((issue) => issue.message).join("; ")}`);
  }
  const env = parsed.data;
  const quick = env.BENCH_QUICK ?? false;
  if (env.BENCH_SOAK && env.BENCH_DATABASES.length > 0)
    throw new Error("BENCH_SOAK and BENCH_DATABASES are separate modes");
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
    skipBuild: env.BENCH_SKIP_BUILD ?? quick,
    profile: env.BENCH_PROFILE ?? false,
    heapProfile: env.BENCH_HEAP_PROFILE ?? false,
    phases: env.BENCH_PHASES,
    resultsDir: env.BENCH_RESULTS_DIR ?? "bench/results",
    timeout: env.BENCH_TIMEOUT ?? 10,
    databases: env.BENCH_DATABASES,
    /** Seconds of the soak mode's mixed load (0: off), and its access tokens' lifetime. */
    soak: env.BENCH_SOAK ?? 0,
    soakTokenTtl: env.BENCH_SOAK_TOKEN_TTL ?? 30,
  };
}

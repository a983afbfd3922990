/**
 * What `npm run dev` and `npm start` share: configuration check, migrations, and the local
 * Kinde server beside the app. Also used by the tests to start their own instances.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { parseEnv, type Env, EnvError } from "../../app/lib/env-schema.server.ts";
import { loadDotEnv } from "../../app/lib/dotenv.server.ts";

export const BIN = "node_modules/.bin";

/**
 * Node flags for the production server. V8 otherwise grows the heap lazily far past what
 * the app keeps alive (peaks of 300-430 MB RSS under load in `npm run bench`); a 160 MB
 * old space holds it near 215 MB at the cost of more frequent GC (docs/decisions/0012).
 * APP_MAX_OLD_SPACE_MB overrides it; NODE_OPTIONS still applies on top.
 */
export function appServerNodeArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  const megabytes = Number(env.APP_MAX_OLD_SPACE_MB ?? 160);
  return Number.isInteger(megabytes) && megabytes >= 64 ? [`--max-old-space-size=${megabytes}`] : [];
}

/** A fresh clone has no .env: start from the example, which runs everything locally. */
export function ensureEnvFile(): void {
  if (!existsSync(".env") && existsSync(".env.example")) {
    copyFileSync(".env.example", ".env");
    console.log("Created .env from .env.example (local Kinde server, SQLite in ./data).");
  }
}

/** Loads .env and validates it; on a bad variable prints the one message and exits. */
export function loadConfig(): Env {
  loadDotEnv();
  try {
    return parseEnv(process.env);
  } catch (error) {
    if (error instanceof EnvError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

/** Applies the committed migrations (creates the SQLite file on first run). */
export function migrate(env: NodeJS.ProcessEnv = process.env): void {
  const result = spawnSync(`${BIN}/prisma`, ["migrate", "deploy"], { env, encoding: "utf8" });
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr);
    throw new Error("prisma migrate deploy failed");
  }
}

export function usesLocalKinde(issuerUrl: string): boolean {
  const { hostname } = new URL(issuerUrl);
  return hostname === "localhost" || hostname === "127.0.0.1" || hostname === "[::1]";
}

/** Resolves once `url` answers (any status), or rejects after `timeoutMs`. */
export async function waitForUrl(url: string, timeoutMs = 30_000, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`${url}: the process exited with code ${child.exitCode}`);
    try {
      await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(2_000) });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export function startLocalKinde(env: NodeJS.ProcessEnv = process.env): ChildProcess {
  // `node --import tsx` rather than the tsx CLI: signals reach the server itself, not a wrapper.
  return spawn(process.execPath, ["--import", "tsx", "kinde-local/main.ts"], { env, stdio: "inherit" });
}

/**
 * Runs the children until one exits or the process is told to stop; signals are passed on
 * so each child shuts down gracefully, and the exit code is the first child's.
 */
export function superviseChildren(children: ChildProcess[]): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    for (const child of children) if (child.exitCode === null) child.kill(signal);
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  let exitCode: number | undefined;
  for (const child of children) {
    child.once("exit", (code, signal) => {
      exitCode ??= code ?? (signal ? 0 : 1);
      if (!stopping) stop("SIGTERM");
      if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) process.exit(exitCode);
    });
  }
}

export { type Env };

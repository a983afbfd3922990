import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** SQLite is the embedded default: with no DATABASE_URL the app keeps its data here. */
export const DEFAULT_DATABASE_URL = "file:./data/dev.db";

/**
 * Loads `.env` from the working directory into `process.env`, if the file exists.
 *
 * Variables already set in the environment win (CI, tests and hosts set their own), which is
 * also how Node's `process.loadEnvFile` behaves. No `.env` is not an error: production hosts
 * usually inject variables directly, and `npm run dev` creates one from `.env.example`.
 */
export function loadDotEnv(file = ".env"): void {
  const path = resolve(file);
  if (existsSync(path)) process.loadEnvFile(path);
}

/**
 * The file behind a `file:` SQLite URL, with its folder created: better-sqlite3 creates the
 * database file on first open but not the folders above it.
 */
export function prepareSqliteFile(databaseUrl: string): string {
  const path = databaseUrl.replace(/^file:/, "");
  if (path !== ":memory:") mkdirSync(dirname(resolve(path)), { recursive: true });
  return path;
}

import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { sqliteFile } from "../database/url.ts";

export const DEFAULT_DATABASE_URL = "file:./data/dev.db";

/** Loads `.env`, if there is one; variables already set win, as with Node's `process.loadEnvFile`. */
export function loadDotEnv(file = ".env"): void {
  const path = resolve(file);
  if (existsSync(path)) process.loadEnvFile(path);
}

/** The file behind a SQLite URL, with its folder created (better-sqlite3 creates only the file). */
export function prepareSqliteFile(databaseUrl: string): string {
  const path = sqliteFile(databaseUrl);
  if (path !== ":memory:") mkdirSync(dirname(resolve(path)), { recursive: true });
  return path;
}

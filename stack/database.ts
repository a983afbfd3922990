/**
 * Migrations and throwaway databases. The server applies migrations at start with the real
 * `prisma migrate deploy` (a short-lived child); tests and the benchmark get migrated copies
 * of one template made the same way.
 */
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isPostgresUrl } from "../app/lib/database-url.ts";
import { migratePostgres } from "./migrate-postgres.ts";

/** Where vitest's global setup leaves the run's migrated template (workers inherit it). */
export const TEMPLATE_ENV = "TEST_TEMPLATE_DB";

/**
 * `prisma migrate deploy` for `databaseUrl`, from `cwd` (the project root); on PostgreSQL only
 * when migrations are pending, under a lock shared by every instance (stack/migrate-postgres.ts).
 * Rejects with the CLI's output.
 */
export async function migrate(databaseUrl: string, cwd = process.cwd()): Promise<void> {
  if (isPostgresUrl(databaseUrl)) await migratePostgres(databaseUrl, cwd, () => deploy(databaseUrl, cwd));
  else await deploy(databaseUrl, cwd);
}

function deploy(databaseUrl: string, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(cwd, "node_modules/.bin/prisma"), ["migrate", "deploy"], {
      cwd,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`prisma migrate deploy failed (exit ${code}):\n${output.trim()}`)),
    );
  });
}

/** A new database file in a folder of its own, migrated with the real migrations. */
export async function createMigratedTemplate(cwd = process.cwd()): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), "rkp-template-")), "template.db");
  await migrate(`file:${file}`, cwd);
  return file;
}

/**
 * A fresh, migrated database file in `dir` (a new temporary folder by default): a copy of the
 * run's template when vitest's global setup made one, else migrated on the spot.
 */
export async function freshDatabaseFile(dir?: string, cwd = process.cwd()): Promise<string> {
  const file = join(dir ?? mkdtempSync(join(tmpdir(), "rkp-db-")), "app.db");
  const template = process.env[TEMPLATE_ENV];
  if (template) copyFileSync(template, file);
  else await migrate(`file:${file}`, cwd);
  return file;
}

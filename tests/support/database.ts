/**
 * Throwaway SQLite databases for tests: one migrated template per run (real migrations,
 * through `prisma migrate deploy`), copied for every test file or server that needs one.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const TEMPLATE_ENV = "TEST_TEMPLATE_DB";

export function createMigratedTemplate(): string {
  const dir = mkdtempSync(join(tmpdir(), "rkp-template-"));
  const file = join(dir, "template.db");
  const result = spawnSync("node_modules/.bin/prisma", ["migrate", "deploy"], {
    env: { ...process.env, DATABASE_URL: `file:${file}` },
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`prisma migrate deploy failed:\n${result.stdout}${result.stderr}`);
  return file;
}

/** A fresh, migrated database file of its own. */
export function freshDatabaseFile(): string {
  const template = process.env[TEMPLATE_ENV];
  if (!template) throw new Error(`${TEMPLATE_ENV} is not set: run tests through vitest or playwright configs`);
  const file = join(mkdtempSync(join(tmpdir(), "rkp-db-")), "test.db");
  copyFileSync(template, file);
  return file;
}

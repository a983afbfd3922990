import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate } from "../../server/migrate.ts";

export const TEMPLATE_ENV = "TEST_TEMPLATE_DB";

export async function createMigratedTemplate(cwd = process.cwd()): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), "rkp-template-")), "template.db");
  await migrate(`file:${file}`, cwd);
  return file;
}

/** A copy of the run's template when vitest's global setup made one, else migrated on the spot. */
export async function freshDatabaseFile(dir?: string, cwd = process.cwd()): Promise<string> {
  const file = join(dir ?? mkdtempSync(join(tmpdir(), "rkp-db-")), "app.db");
  const template = process.env[TEMPLATE_ENV];
  if (template) copyFileSync(template, file);
  else await migrate(`file:${file}`, cwd);
  return file;
}

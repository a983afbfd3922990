/** `prisma migrate deploy` on PostgreSQL when several instances start at once: docs/decisions/0018-postgresql-beside-sqlite.md. */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { redactDatabaseUrl } from "../app/lib/database/url.ts";

// Any constant other than Prisma's own (72707369), which its CLI takes inside ours.
export const MIGRATE_LOCK_KEY = 727073690;
const LOCK_WAIT_MS = 10 * 60_000;
export const POSTGRES_MIGRATIONS_DIR = "prisma/postgresql/migrations";

function migrationNames(cwd: string): string[] {
  return readdirSync(join(cwd, POSTGRES_MIGRATIONS_DIR), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
}

async function pendingMigrations(client: pg.Client, cwd: string): Promise<string[]> {
  const table = await client.query<{ exists: boolean }>(
    "SELECT to_regclass('_prisma_migrations') IS NOT NULL AS exists",
  );
  const local = migrationNames(cwd);
  if (!table.rows[0]?.exists) return local;
  const done = await client.query<{ migration_name: string }>(
    "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL",
  );
  const applied = new Set(done.rows.map((row) => row.migration_name));
  return local.filter((name) => !applied.has(name));
}

/** Runs `deploy` only when migrations are pending, under a lock longer-lived than Prisma's 10 s; resolves with whether it ran. */
export async function migratePostgres(databaseUrl: string, cwd: string, deploy: () => Promise<void>): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  // An error on the idle lock connection (the server restarting) surfaces in the next query.
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `cannot connect to the database at ${redactDatabaseUrl(databaseUrl)}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  try {
    if ((await pendingMigrations(client, cwd)).length === 0) return false;
    await client.query(`SET lock_timeout = ${LOCK_WAIT_MS}`);
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATE_LOCK_KEY]);
    try {
      if ((await pendingMigrations(client, cwd)).length === 0) return false;
      await deploy();
      return true;
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATE_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

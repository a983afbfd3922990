// Migrations for both databases: one schema source, no drift, db:new-migration, safe concurrent starts.
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import type { DatabaseProvider } from "../../app/lib/database/url";
import { postgresSchemaFrom } from "../../prisma/postgresql/derive-schema";
import { ROOT } from "../support/app-process";
import { migrate } from "../../server/migrate";
import { MIGRATE_LOCK_KEY } from "../../server/migrate-postgres";
import { sharedPostgres, withPgClient } from "../support/postgres";
import { migrationDrift, PROVIDER_FILES } from "../support/schema-drift";

const adminUrl = () => sharedPostgres()?.adminUrl;
const NO_DRIFT = { onlyInMigrations: [], onlyInSchema: [] };
const migrationFolders = (root: string, provider: DatabaseProvider) =>
  readdirSync(join(root, PROVIDER_FILES[provider].migrations), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();

/** A new empty database on the run's server; returns its URL. */
async function emptyDatabase(): Promise<string> {
  const name = `rkp_empty_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  await withPgClient(adminUrl()!, (client) => client.query(`CREATE DATABASE "${name}"`));
  return adminUrl()!.replace(/\/[^/]*$/, `/${name}`);
}

describe("one schema source", () => {
  it("keeps prisma/postgresql/schema.prisma derived from prisma/schema.prisma", () => {
    const derived = postgresSchemaFrom(readFileSync(join(ROOT, "prisma/schema.prisma"), "utf8"));
    expect(
      readFileSync(join(ROOT, "prisma/postgresql/schema.prisma"), "utf8") === derived,
      "prisma/postgresql/schema.prisma is out of date: run `npm run db:new-migration -- <name>`",
    ).toBe(true);
  });

  it.each<DatabaseProvider>(["sqlite", "postgresql"])("has %s migrations that give exactly the schema", async (db) => {
    const fix = `${db} migrations drift from the schema: run \`npm run db:new-migration -- <name>\``;
    expect(await migrationDrift(ROOT, db, adminUrl()), fix).toEqual(NO_DRIFT);
  });
});

describe("npm run db:new-migration", () => {
  // A copy of what the script and the check read, with the project's node_modules.
  const copy = mkdtempSync(join(tmpdir(), "rkp-new-migration-test-"));
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it("writes the migration for both databases from one schema change, and the drift check sees the change until then", async () => {
    for (const path of [
      "prisma",
      "scripts/new-migration.ts",
      "app/lib/database/url.ts",
      "app/lib/config/dotenv.server.ts",
    ]) {
      cpSync(join(ROOT, path), join(copy, path), { recursive: true });
    }
    for (const file of ["package.json", "prisma.config.ts", "prisma.postgresql.config.ts", "tsconfig.json"]) {
      cpSync(join(ROOT, file), join(copy, file));
    }
    symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"));
    mkdirSync(join(copy, "app/generated"), { recursive: true });
    const schema = join(copy, "prisma/schema.prisma");
    writeFileSync(
      schema,
      readFileSync(schema, "utf8").replace(
        "  picture         String?\n",
        "  picture         String?\n  bio             String?\n",
      ),
    );

    // Edited, not migrated: the check fails for both.
    expect((await migrationDrift(copy, "sqlite")).onlyInSchema).toEqual(["User.bio TEXT"]);

    const before = { sqlite: migrationFolders(copy, "sqlite"), postgresql: migrationFolders(copy, "postgresql") };
    await promisify(execFile)(join(ROOT, "node_modules/.bin/tsx"), ["scripts/new-migration.ts", "add_user_bio"], {
      cwd: copy,
      env: { ...process.env, DATABASE_URL: "" },
    });
    for (const provider of ["sqlite", "postgresql"] as const) {
      const added = migrationFolders(copy, provider).filter((name) => !before[provider].includes(name));
      expect(added, provider).toEqual([expect.stringMatching(/^\d{14}_add_user_bio$/)]);
      const sql = readFileSync(join(copy, PROVIDER_FILES[provider].migrations, added[0]!, "migration.sql"), "utf8");
      expect(sql, provider).toMatch(/ALTER TABLE "User" ADD COLUMN\s+"bio" TEXT;/);
      expect(await migrationDrift(copy, provider, adminUrl()), provider).toEqual(NO_DRIFT);
    }
    expect(readFileSync(join(copy, "prisma/postgresql/schema.prisma"), "utf8")).toContain("bio             String?");
  }, 120_000);
});

it("PostgreSQL migrations at start wait for another instance's run however long it takes, and apply each migration once when several start together", async () => {
  const url = await emptyDatabase();
  const name = url.split("/").pop();
  await withPgClient(url, async (other) => {
    // Another instance in the middle of a long migration holds the lock; three more start.
    await other.query("SELECT pg_advisory_lock($1)", [MIGRATE_LOCK_KEY]);
    let settled = 0;
    const runs = Array.from({ length: 3 }, () => migrate(url, ROOT).finally(() => settled++));
    for (const run of runs) run.catch(() => {});
    // Until all three are seen waiting for the lock (bounded).
    for (let attempt = 0; ; attempt++) {
      const waiting = await other.query(
        "SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND NOT l.granted AND a.datname = $1",
        [name],
      );
      if (waiting.rowCount === 3) break;
      if (attempt >= 100) throw new Error(`${waiting.rowCount} of 3 migration runs waited for the lock`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(settled).toBe(0);
    await other.query("SELECT pg_advisory_unlock($1)", [MIGRATE_LOCK_KEY]);
    await Promise.all(runs);
  });
  const applied = await withPgClient(url, (client) =>
    client.query<{ migration_name: string }>(
      "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY migration_name",
    ),
  );
  expect(applied.rows.map((row) => row.migration_name)).toEqual(migrationFolders(ROOT, "postgresql"));
  await withPgClient(adminUrl()!, (client) => client.query(`DROP DATABASE "${name}" WITH (FORCE)`));
}, 120_000);

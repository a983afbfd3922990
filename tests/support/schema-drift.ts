// Do the migrations give exactly the schema's database? Both into scratch databases (the schema's via
// `migrate diff --from-empty`), their catalogs compared. No shadow database, no native engine.
import Database from "better-sqlite3";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { DatabaseProvider } from "../../app/lib/database/url";
import { withPgClient } from "./postgres";

export const PROVIDER_FILES: Record<DatabaseProvider, { schema: string; migrations: string }> = {
  sqlite: { schema: "prisma/schema.prisma", migrations: "prisma/migrations" },
  postgresql: { schema: "prisma/postgresql/schema.prisma", migrations: "prisma/postgresql/migrations" },
};

function migrationScripts(root: string, provider: DatabaseProvider): string[] {
  const dir = join(root, PROVIDER_FILES[provider].migrations);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => readFileSync(join(dir, name, "migration.sql"), "utf8"));
}

async function schemaScript(root: string, provider: DatabaseProvider, scratch: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    join(root, "node_modules/.bin/prisma"),
    ["migrate", "diff", "--from-empty", "--to-schema-datamodel", PROVIDER_FILES[provider].schema, "--script"],
    // A scratch SQLite URL keeps the CLI offline for both providers' schema files.
    { cwd: root, env: { ...process.env, DATABASE_URL: `file:${join(scratch, "cli.db")}` } },
  );
  return stdout;
}

function sqliteCatalog(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    const lines: string[] = [];
    const tables = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_prisma_migrations'",
      )
      .all() as { name: string }[];
    for (const { name: table } of tables) {
      for (const column of db.pragma(`table_info("${table}")`) as Record<string, unknown>[]) {
        lines.push(
          `${table}.${String(column.name)} ${String(column.type)}${column.notnull ? " NOT NULL" : ""}` +
            `${column.dflt_value !== null ? ` DEFAULT ${String(column.dflt_value)}` : ""}${column.pk ? " PRIMARY KEY" : ""}`,
        );
      }
      for (const index of db.pragma(`index_list("${table}")`) as { name: string; unique: number }[]) {
        const columns = (db.pragma(`index_info("${index.name}")`) as { name: string }[]).map((c) => c.name);
        lines.push(`${table} ${index.unique ? "UNIQUE " : ""}INDEX ${index.name} (${columns.join(", ")})`);
      }
      for (const key of db.pragma(`foreign_key_list("${table}")`) as Record<string, unknown>[]) {
        lines.push(
          `${table} FOREIGN KEY (${String(key.from)}) -> ${String(key.table)}(${String(key.to)}) ${String(key.on_delete)}`,
        );
      }
    }
    return lines.sort();
  } finally {
    db.close();
  }
}

async function postgresCatalog(url: string): Promise<string[]> {
  return withPgClient(url, async (client) => {
    const { rows } = await client.query<{ line: string }>(`
      SELECT table_name || '.' || column_name || ' ' || data_type || coalesce('(' || datetime_precision || ')', '')
        || CASE WHEN is_nullable = 'NO' THEN ' NOT NULL' ELSE '' END
        || coalesce(' DEFAULT ' || column_default, '') AS line
        FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'
      UNION ALL
      SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'
      UNION ALL
      SELECT conrelid::regclass || ' CONSTRAINT ' || conname || ' ' || pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '_prisma_migrations'`);
    return rows.map((row) => row.line).sort();
  });
}

export interface Drift {
  onlyInMigrations: string[];
  onlyInSchema: string[];
}

/** PostgreSQL needs a superuser's `adminUrl` for two scratch databases, dropped afterwards. */
export async function migrationDrift(root: string, provider: DatabaseProvider, adminUrl?: string): Promise<Drift> {
  const scratch = mkdtempSync(join(tmpdir(), "rkp-drift-"));
  try {
    const expected = await schemaScript(root, provider, scratch);
    let build: (name: string, scripts: string[]) => Promise<string[]>;
    if (provider === "sqlite") {
      build = async (name, scripts) => {
        const file = join(scratch, `${name}.db`);
        const db = new Database(file);
        try {
          for (const script of scripts) db.exec(script);
        } finally {
          db.close();
        }
        return sqliteCatalog(file);
      };
    } else {
      if (!adminUrl) throw new Error("comparing PostgreSQL migrations needs a server");
      const admin = (sql: string) => withPgClient(adminUrl, (client) => client.query(sql));
      build = async (name, scripts) => {
        const database = `rkp_drift_${name}_${process.pid}_${Date.now()}`;
        await admin(`CREATE DATABASE "${database}"`);
        try {
          const url = adminUrl.replace(/\/[^/]*$/, `/${database}`);
          await withPgClient(url, async (client) => {
            for (const script of scripts) await client.query(script);
          });
          return await postgresCatalog(url);
        } finally {
          await admin(`DROP DATABASE IF EXISTS "${database}"`);
        }
      };
    }
    const migrated = await build("migrated", migrationScripts(root, provider));
    const described = await build("described", [expected]);
    return {
      onlyInMigrations: migrated.filter((line) => !described.includes(line)),
      onlyInSchema: described.filter((line) => !migrated.includes(line)),
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

// npm run db:new-migration -- add_user_bio: the next migration for SQLite and PostgreSQL, by schema diff
// (docs/decisions/0003-migrations-by-schema-diff.md, 0018-postgresql-beside-sqlite.md).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POSTGRES_SCHEMA_FILE, postgresSchemaFrom, SQLITE_SCHEMA } from "../prisma/postgresql/derive-schema.ts";

const SNAPSHOT = "schema.prisma";
const PROVIDERS = [
  { name: "SQLite", provider: "sqlite", schema: SQLITE_SCHEMA, migrations: "prisma/migrations" },
  {
    name: "PostgreSQL",
    provider: "postgresql",
    schema: POSTGRES_SCHEMA_FILE,
    migrations: "prisma/postgresql/migrations",
  },
] as const;

const name = process.argv[2] ?? "";
if (!/^[a-z][a-z0-9_]{0,60}$/.test(name)) {
  console.error("Usage: npm run db:new-migration -- <name>   (lowercase letters, digits and _, e.g. add_user_bio)");
  process.exit(1);
}

writeFileSync(POSTGRES_SCHEMA_FILE, postgresSchemaFrom(readFileSync(SQLITE_SCHEMA, "utf8")));

// A scratch SQLite URL keeps the CLI offline, whatever DATABASE_URL the developer's .env names.
const scratch = mkdtempSync(join(tmpdir(), "rkp-new-migration-"));
const cliEnv = { ...process.env, DATABASE_URL: `file:${join(scratch, "unused.db")}` };

const folderName = `${new Date().toISOString().replace(/\D/g, "").slice(0, 14)}_${name}`;
let written = 0;
try {
  for (const { name: label, provider, schema, migrations } of PROVIDERS) {
    const folders = existsSync(migrations)
      ? readdirSync(migrations, { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => entry.name)
          .sort()
      : [];
    const last = folders.at(-1);
    if (last && !existsSync(join(migrations, last, SNAPSHOT))) {
      throw new Error(`${join(migrations, last)} has no ${SNAPSHOT} snapshot to diff from.`);
    }
    if (last && last >= folderName) {
      throw new Error(`${join(migrations, last)} sorts after the new ${folderName}: is the clock right?`);
    }
    const from = last ? ["--from-schema-datamodel", join(migrations, last, SNAPSHOT)] : ["--from-empty"];
    const sql = execFileSync(
      "npx",
      ["prisma", "migrate", "diff", ...from, "--to-schema-datamodel", schema, "--script"],
      { encoding: "utf8", env: cliEnv, stdio: ["ignore", "pipe", "inherit"] },
    );
    if (sql.includes("This is an empty migration")) {
      console.log(`${label}: no change (${schema} matches ${last ?? "an empty database"}).`);
      continue;
    }
    const folder = join(migrations, folderName);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "migration.sql"), sql);
    writeFileSync(join(folder, SNAPSHOT), readFileSync(schema, "utf8"));
    if (!existsSync(join(migrations, "migration_lock.toml"))) {
      writeFileSync(join(migrations, "migration_lock.toml"), `provider = "${provider}"\n`);
    }
    console.log(`${label}: wrote ${folder}/migration.sql`);
    written++;
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
if (written > 0) {
  execFileSync("npx", ["prisma", "generate"], { env: cliEnv, stdio: "inherit" });
  execFileSync("npx", ["prisma", "generate", "--config", "prisma.postgresql.config.ts"], { stdio: "inherit" });
  console.log("Review the SQL, then apply it with `npm run db:migrate` (npm run dev and npm start do it too).");
}

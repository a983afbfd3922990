/**
 * Writes the next Prisma migration from a change to prisma/schema.prisma.
 *
 *   npm run db:new-migration -- add_user_bio
 *
 * `prisma migrate dev` cannot run here: with the Wasm schema engine its shadow database fails
 * on SQLite (docs/decisions/0002-prisma-6-rust-free.md). So each migration folder keeps a
 * copy of the schema it leads to (`schema.prisma`), and the next migration is the diff
 * between that copy and the current schema. `npm run dev` / `npm start` apply it.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const MIGRATIONS = "prisma/migrations";
const SCHEMA = "prisma/schema.prisma";
const SNAPSHOT = "schema.prisma";

const name = process.argv[2] ?? "";
if (!/^[a-z][a-z0-9_]{0,60}$/.test(name)) {
  console.error("Usage: npm run db:new-migration -- <name>   (lowercase letters, digits and _, e.g. add_user_bio)");
  process.exit(1);
}

const folders = existsSync(MIGRATIONS)
  ? readdirSync(MIGRATIONS, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort()
  : [];
const last = folders.at(-1);
const from = last ? ["--from-schema-datamodel", join(MIGRATIONS, last, SNAPSHOT)] : ["--from-empty"];
if (last && !existsSync(join(MIGRATIONS, last, SNAPSHOT))) {
  console.error(`${join(MIGRATIONS, last)} has no ${SNAPSHOT} snapshot to diff from.`);
  process.exit(1);
}

const sql = execFileSync("npx", ["prisma", "migrate", "diff", ...from, "--to-schema-datamodel", SCHEMA, "--script"], {
  encoding: "utf8",
  stdio: ["ignore", "pipe", "inherit"],
});
if (sql.includes("This is an empty migration")) {
  console.log(`No change: ${SCHEMA} matches the last migration${last ? ` (${last})` : ""}.`);
  process.exit(0);
}

// Prisma's own folder format: a UTC timestamp (yyyymmddhhmmss), then the name.
const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
const folder = join(MIGRATIONS, `${stamp}_${name}`);
mkdirSync(folder, { recursive: true });
writeFileSync(join(folder, "migration.sql"), sql);
copyFileSync(SCHEMA, join(folder, SNAPSHOT));
if (!existsSync(join(MIGRATIONS, "migration_lock.toml"))) {
  writeFileSync(join(MIGRATIONS, "migration_lock.toml"), 'provider = "sqlite"\n');
}
console.log(
  `Wrote ${folder}/migration.sql. Review it, then apply it with \`npm run db:migrate\` (npm run dev does it too).`,
);

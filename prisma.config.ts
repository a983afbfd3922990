// Prisma CLI configuration. DATABASE_URL picks the database: a `file:` URL uses SQLite
// (prisma/schema.prisma, prisma/migrations), a postgres(ql):// URL PostgreSQL
// (prisma/postgresql/, docs/decisions/0018-postgresql-beside-sqlite.md). The "js" engine with a
// driver adapter is what lets the CLI run with no native engine download
// (docs/decisions/0002-prisma-6-rust-free.md).
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { defineConfig } from "prisma/config";
import { isPostgresUrl } from "./app/lib/database/url.ts";
import { DEFAULT_DATABASE_URL, loadDotEnv, prepareSqliteFile } from "./app/lib/config/dotenv.server.ts";
import { postgresCliConfig } from "./prisma/postgresql/cli-config.ts";

// A prisma.config.ts turns off Prisma's own .env loading, so load it here.
loadDotEnv();
// The schema's `env("DATABASE_URL")` must resolve even for `prisma generate` (run on install,
// before any .env exists), or the CLI falls back to downloading a native engine.
process.env.DATABASE_URL ||= DEFAULT_DATABASE_URL;

export default defineConfig(
  isPostgresUrl(process.env.DATABASE_URL)
    ? postgresCliConfig()
    : {
        schema: "prisma/schema.prisma",
        migrations: { path: "prisma/migrations" },
        experimental: { adapter: true },
        engine: "js",
        async adapter() {
          const url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
          return new PrismaBetterSQLite3({ url: prepareSqliteFile(url) });
        },
      },
);

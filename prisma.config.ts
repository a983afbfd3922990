// Prisma CLI configuration. The "js" engine with a driver adapter is what lets `prisma
// generate` and `prisma migrate deploy` run with no native engine download
// (docs/decisions/0002-prisma-6-rust-free.md).
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { defineConfig } from "prisma/config";
import { DEFAULT_DATABASE_URL, loadDotEnv, prepareSqliteFile } from "./app/lib/dotenv.server.ts";

// A prisma.config.ts turns off Prisma's own .env loading, so load it here.
loadDotEnv();
// The schema's `env("DATABASE_URL")` must resolve even for `prisma generate` (run on install,
// before any .env exists), or the CLI falls back to downloading a native engine.
process.env.DATABASE_URL ||= DEFAULT_DATABASE_URL;

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  experimental: { adapter: true },
  engine: "js",
  async adapter() {
    const url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
    return new PrismaBetterSQLite3({ url: prepareSqliteFile(url) });
  },
});

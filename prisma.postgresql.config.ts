// The Prisma CLI on the PostgreSQL schema whatever DATABASE_URL says: `npm install` generates
// the PostgreSQL client with it (`prisma generate --config prisma.postgresql.config.ts`).
// prisma.config.ts already picks PostgreSQL by itself for a postgres(ql):// DATABASE_URL.
import { defineConfig } from "prisma/config";
import { isPostgresUrl } from "./app/lib/database/url.ts";
import { loadDotEnv } from "./app/lib/config/dotenv.server.ts";
import { postgresCliConfig } from "./prisma/postgresql/cli-config.ts";

loadDotEnv();
// The CLI checks the datasource URL's scheme against the provider even where it connects to
// nothing (generate); commands that connect fail on this address, never on another database.
if (!isPostgresUrl(process.env.DATABASE_URL)) process.env.DATABASE_URL = "postgresql://not-configured.invalid/none";

export default defineConfig(postgresCliConfig());

/**
 * The Prisma CLI's configuration for PostgreSQL: the generated schema, its own migrations, and
 * a pool made for `migrate deploy` (docs/decisions/0018-postgresql-beside-sqlite.md).
 */
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import type { PrismaConfig } from "prisma/config";

export const POSTGRES_SCHEMA = "prisma/postgresql/schema.prisma";
export const POSTGRES_MIGRATIONS = "prisma/postgresql/migrations";

// The schema engine's catalog queries return PostgreSQL's internal types (name, "char", their
// arrays, regclass, xid, pg_node_tree), which adapter-pg 6.19 cannot map (prisma/orm#27403:
// "Column type 'name' could not be deserialized"). Their text form is all Prisma reads.
const TEXT = 25;
const TEXT_ARRAY = 1009;
const AS_TEXT: Record<number, number> = {
  18: TEXT,
  19: TEXT,
  28: TEXT,
  194: TEXT,
  2205: TEXT,
  1002: TEXT_ARRAY,
  1003: TEXT_ARRAY,
};

type Fields = { fields?: { dataTypeID: number }[] } | undefined;

function asText<R>(result: R): R {
  for (const field of (result as Fields)?.fields ?? [])
    field.dataTypeID = AS_TEXT[field.dataTypeID] ?? field.dataTypeID;
  return result;
}

/** Wraps a client's query() (promise and callback forms) so catalog types come back as text. */
function reportCatalogTypesAsText(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const last = args.at(-1);
    if (typeof last === "function") {
      args[args.length - 1] = (error: unknown, result: unknown) =>
        (last as (e: unknown, r: unknown) => void)(error, asText(result));
    }
    const result = query(...args);
    return result instanceof Promise ? result.then(asText) : result;
  };
}

export function postgresCliConfig(): PrismaConfig {
  return {
    schema: POSTGRES_SCHEMA,
    migrations: { path: POSTGRES_MIGRATIONS },
    experimental: { adapter: true },
    engine: "js",
    async adapter() {
      // One connection that closes once idle: migrate's session advisory lock (10 s timeout)
      // is then released as soon as the run ends, and another instance starting at the same
      // moment gets it instead of timing out behind an idle pooled connection.
      const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1, allowExitOnIdle: true });
      pool.on("connect", reportCatalogTypesAsText);
      return new PrismaPg(pool);
    },
  };
}

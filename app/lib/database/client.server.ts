/**
 * The one PrismaClient of the server process. DATABASE_URL picks the database: SQLite for a
 * `file:` URL (app/lib/db-sqlite.server.ts), PostgreSQL for a postgres(ql):// URL
 * (app/lib/db-postgres.server.ts). The models run on either.
 */
import { databaseProvider as provider, type DatabaseProvider } from "./url";
import type { Prisma } from "~/generated/prisma/client";
import { databaseUnavailableResponse, databaseFailure } from "./errors.server";
import { createPostgresClient } from "./postgres.server";
import { createSqliteClient } from "./sqlite.server";
import { env } from "../config/env.server";

/** `error`, or the 503 response that stands for it when the database cannot be used (logged once). */
function asResponse(error: unknown, operation: string): unknown {
  const failure = error instanceof Response ? null : databaseFailure(error);
  if (!failure) return error;
  const message = error instanceof Error ? error.message.split("\n").at(-1) : String(error);
  console.error(`[db] ${operation} failed, database unavailable (${failure}): ${message}`);
  return databaseUnavailableResponse(failure);
}

function createClient(databaseUrl: string) {
  const base =
    provider(databaseUrl) === "postgresql"
      ? createPostgresClient(databaseUrl, { poolSize: env.DATABASE_POOL_SIZE })
      : createSqliteClient(databaseUrl);
  // A database that cannot be used (down, unreachable, read-only, locked, full) becomes a 503
  // for the route that needed it, in one place, instead of a 500 from wherever the query ran.
  return base.$extends({
    name: "database-unavailable-is-503",
    query: {
      async $allOperations({ args, query, operation }) {
        try {
          return await query(args);
        } catch (error) {
          throw asResponse(error, operation);
        }
      },
    },
  });
}

export type Database = ReturnType<typeof createClient>;

/**
 * What model functions run their queries on: the client, or the interactive transaction they
 * are part of (`prisma.$transaction(async (tx) => ...)`).
 */
export type Db = Omit<Database, "$connect" | "$disconnect" | "$on" | "$transaction" | "$extends">;

/**
 * An interactive transaction. A database that cannot even start one (no connection to be had,
 * server down) is answered 503 like any failed query; queries inside already are.
 */
export async function transaction<T>(
  run: (tx: Db) => Promise<T>,
  options?: { isolationLevel?: Prisma.TransactionIsolationLevel },
): Promise<T> {
  try {
    return await prisma.$transaction(run, options);
  } catch (error) {
    throw asResponse(error, "transaction");
  }
}

/** A batch transaction (`prisma.$transaction([...])`), failures to start it answered 503 too. */
export async function batch<T extends readonly unknown[]>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw asResponse(error, "batch");
  }
}

// Vite's dev server re-evaluates modules on every change; keeping the client on globalThis
// stops each reload from opening another connection (or pool).
const globalForDb = globalThis as typeof globalThis & { __prisma?: Database; __prismaShutdownHook?: true };

export const prisma: Database = (globalForDb.__prisma ??= createClient(env.DATABASE_URL));

/** Which database `prisma` runs on, for the few raw queries whose SQL differs. */
export const databaseProvider: DatabaseProvider = provider(env.DATABASE_URL);

if (!globalForDb.__prismaShutdownHook) {
  globalForDb.__prismaShutdownHook = true;
  // On SIGINT/SIGTERM the server (server/index.ts, or remix-serve) closes and lets the requests
  // in flight finish; the event loop then empties (idle PostgreSQL connections do not hold it)
  // and `beforeExit` fires: the moment to disconnect, which closes the pool.
  process.once("beforeExit", () => {
    void prisma.$disconnect().then(() => console.log("[db] disconnected"));
  });
}

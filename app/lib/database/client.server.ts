// The one PrismaClient of the server process, on SQLite or PostgreSQL as DATABASE_URL says.
import { databaseProvider as provider, type DatabaseProvider } from "./url";
import type { Prisma } from "~/generated/prisma/client";
import { databaseUnavailableResponse, databaseFailure } from "./errors.server";
import { createPostgresClient } from "./postgres.server";
import { createSqliteClient } from "./sqlite.server";
import { env } from "../config/env.server";

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
  // A database that cannot be used becomes a 503 here, instead of a 500 wherever the query ran.
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

export type Db = Omit<Database, "$connect" | "$disconnect" | "$on" | "$transaction" | "$extends">;

// Transactions whose start fails answer 503 too.
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

export async function batch<T extends readonly unknown[]>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw asResponse(error, "batch");
  }
}

// Vite's dev server re-evaluates modules on every change: one client (and pool) across reloads.
const globalForDb = globalThis as typeof globalThis & { __prisma?: Database; __prismaShutdownHook?: true };

export const prisma: Database = (globalForDb.__prisma ??= createClient(env.DATABASE_URL));

export const databaseProvider: DatabaseProvider = provider(env.DATABASE_URL);

if (!globalForDb.__prismaShutdownHook) {
  globalForDb.__prismaShutdownHook = true;
  // After SIGINT/SIGTERM the requests in flight finish, the event loop empties, and `beforeExit` fires.
  process.once("beforeExit", () => {
    void prisma.$disconnect().then(() => console.log("[db] disconnected"));
  });
}

/**
 * The one PrismaClient of the server process, on SQLite through the better-sqlite3 adapter.
 */
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "~/generated/prisma/client";
import { prepareSqliteFile } from "./dotenv.server";
import { env } from "./env.server";

// How long a write waits for another connection's lock before SQLITE_BUSY (CLI migrations,
// a second server process, a developer's sqlite3 shell).
const BUSY_TIMEOUT_MS = 5_000;

function createClient(databaseUrl: string): PrismaClient {
  const adapter = new PrismaBetterSQLite3({ url: prepareSqliteFile(databaseUrl), timeout: BUSY_TIMEOUT_MS });
  const client = new PrismaClient({ adapter });
  // WAL lets readers go on while one request writes, and NORMAL sync is safe under WAL.
  // It is a property of the database file, so setting it on connect covers a file made by any
  // tool. A read-only or missing database fails here: that is reported by the health check
  // and by the pages that need the database, not as an unhandled rejection.
  client
    .$queryRawUnsafe("PRAGMA journal_mode = WAL")
    .then(() => client.$queryRawUnsafe("PRAGMA synchronous = NORMAL"))
    .catch((error: unknown) => {
      console.error(`[db] could not enable WAL mode: ${error instanceof Error ? error.message : String(error)}`);
    });
  return client;
}

// Vite's dev server re-evaluates modules on every change; keeping the client on globalThis
// stops each reload from opening another connection.
const globalForDb = globalThis as typeof globalThis & { __prisma?: PrismaClient };

export const prisma: PrismaClient = (globalForDb.__prisma ??= createClient(env.DATABASE_URL));

if (!(globalThis as { __prismaShutdownHook?: true }).__prismaShutdownHook) {
  (globalThis as { __prismaShutdownHook?: true }).__prismaShutdownHook = true;
  // remix-serve closes its HTTP server on SIGINT/SIGTERM and lets the requests in flight
  // finish; the event loop then empties and `beforeExit` fires: the moment to disconnect.
  process.once("beforeExit", () => {
    void prisma.$disconnect();
  });
}

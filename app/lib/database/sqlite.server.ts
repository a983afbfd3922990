/**
 * SQLite through the better-sqlite3 driver adapter: one connection, WAL, a busy timeout, and
 * one interactive transaction at a time (docs/decisions/0015-sqlite-one-transaction-at-a-time.md).
 * None of this applies to PostgreSQL (app/lib/db-postgres.server.ts).
 */
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "~/generated/prisma/client";
import { prepareSqliteFile } from "../config/dotenv.server";

// How long a statement waits for another connection's lock before SQLITE_BUSY (CLI migrations,
// a second server process, a developer's sqlite3 shell).
const BUSY_TIMEOUT_MS = 5_000;

function sqlitePath(databaseUrl: string): string {
  try {
    return prepareSqliteFile(databaseUrl);
  } catch (error) {
    // The folder cannot be created: the first query fails and answers 503; the process
    // (and every page that needs no database) stays up.
    console.error(`[db] cannot prepare ${databaseUrl}: ${error instanceof Error ? error.message : String(error)}`);
    return databaseUrl.replace(/^file:/, "");
  }
}

type SqliteConnection = Awaited<ReturnType<PrismaBetterSQLite3["connect"]>>;
type SqliteTransaction = Awaited<ReturnType<SqliteConnection["startTransaction"]>>;

/**
 * better-sqlite3 is one connection. While an interactive transaction is open on it, a query
 * from another request would run inside that transaction: it would read rows not yet
 * committed, and its own writes would be rolled back with the transaction. So here a query
 * outside a transaction waits until none is open (the adapter already queues transactions
 * among themselves). Nothing waits when no transaction is open, which is almost always.
 */
function oneTransactionAtATime(connection: SqliteConnection): SqliteConnection {
  let open: Promise<void> | null = null;
  const outside =
    <A extends unknown[], R>(run: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      while (open) await open;
      return run(...args);
    };
  return {
    provider: connection.provider,
    adapterName: connection.adapterName,
    queryRaw: outside((query) => connection.queryRaw(query)),
    executeRaw: outside((query) => connection.executeRaw(query)),
    executeScript: outside((script) => connection.executeScript(script)),
    getConnectionInfo: connection.getConnectionInfo?.bind(connection),
    dispose: () => connection.dispose(),
    async startTransaction(isolationLevel) {
      while (open) await open;
      let close!: () => void;
      open = new Promise((resolve) => (close = resolve));
      const end = () => {
        open = null;
        close();
      };
      let transaction: SqliteTransaction;
      try {
        transaction = await connection.startTransaction(isolationLevel);
      } catch (error) {
        end();
        throw error;
      }
      return {
        provider: transaction.provider,
        adapterName: transaction.adapterName,
        options: transaction.options,
        queryRaw: (query) => transaction.queryRaw(query),
        executeRaw: (query) => transaction.executeRaw(query),
        commit: () => transaction.commit().finally(end),
        rollback: () => transaction.rollback().finally(end),
      };
    },
  };
}

export function createSqliteClient(databaseUrl: string): PrismaClient {
  const sqlite = new PrismaBetterSQLite3({ url: sqlitePath(databaseUrl), timeout: BUSY_TIMEOUT_MS });
  const adapter = {
    provider: sqlite.provider as "sqlite",
    adapterName: sqlite.adapterName,
    connect: async () => oneTransactionAtATime(await sqlite.connect()),
  };
  const client = new PrismaClient({ adapter });
  // WAL lets readers go on while one request writes, and NORMAL sync is safe under WAL.
  // It is a property of the database file, so setting it on connect covers a file made by any
  // tool. A read-only or missing database fails here: that is reported by /healthz and by the
  // pages that need the database, not as an unhandled rejection.
  client
    .$queryRawUnsafe("PRAGMA journal_mode = WAL")
    .then(() => client.$queryRawUnsafe("PRAGMA synchronous = NORMAL"))
    .catch((error: unknown) => {
      console.error(`[db] could not enable WAL mode: ${error instanceof Error ? error.message : String(error)}`);
    });
  return client;
}

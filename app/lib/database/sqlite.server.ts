// See docs/decisions/0015-sqlite-one-transaction-at-a-time.md.
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "~/generated/prisma/client";
import { prepareSqliteFile } from "../config/dotenv.server";
import { sqliteFile } from "./url";

// Another connection's lock (CLI migrations, a second process, a sqlite3 shell) is waited for this long.
const BUSY_TIMEOUT_MS = 5_000;

function sqlitePath(databaseUrl: string): string {
  try {
    return prepareSqliteFile(databaseUrl);
  } catch (error) {
    // The first query then fails with a 503; the process and pages needing no database stay up.
    console.error(`[db] cannot prepare ${databaseUrl}: ${error instanceof Error ? error.message : String(error)}`);
    return sqliteFile(databaseUrl);
  }
}

type SqliteConnection = Awaited<ReturnType<PrismaBetterSQLite3["connect"]>>;
type SqliteTransaction = Awaited<ReturnType<SqliteConnection["startTransaction"]>>;

// One connection: a query from another request would run inside an open transaction, so it waits for none to be open.
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
  // Set on connect, so a file made by any tool gets WAL; a failure here is reported by /healthz and the pages.
  client
    .$queryRawUnsafe("PRAGMA journal_mode = WAL")
    .then(() => client.$queryRawUnsafe("PRAGMA synchronous = NORMAL"))
    .catch((error: unknown) => {
      console.error(`[db] could not enable WAL mode: ${error instanceof Error ? error.message : String(error)}`);
    });
  return client;
}

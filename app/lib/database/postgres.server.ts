/**
 * PostgreSQL through @prisma/adapter-pg and a pg pool (docs/decisions/0018-postgresql-beside-sqlite.md).
 * The pool reconnects by itself: a connection the server closed (a restart, a failover) is
 * dropped from the pool, the query on it fails (503), and the next one opens a new connection.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient as PostgresPrismaClient } from "~/generated/prisma-postgresql/client";
import type { PrismaClient } from "~/generated/prisma/client";
import { redactDatabaseUrl } from "./url";

const CONNECTION_WAIT_MS = 10_000;

type PgConnection = Awaited<ReturnType<PrismaPg["connect"]>>;
type PgTransaction = Awaited<ReturnType<PgConnection["startTransaction"]>>;

/**
 * Prisma 6.19 ends an interactive transaction by sending COMMIT (or ROLLBACK) and then calling
 * the adapter's commit() (or rollback()), which gives the connection back to the pool. When the
 * statement fails, as a serializable transaction's COMMIT does on a conflict (40001), Prisma
 * never calls it: the connection is lost to the pool, and after DATABASE_POOL_SIZE such
 * conflicts every query waits in vain. Here a failed COMMIT or ROLLBACK gives it back.
 */
function releaseAfterFailedEnd(connection: PgConnection): PgConnection {
  return Object.assign(Object.create(connection) as PgConnection, {
    async startTransaction(isolationLevel?: Parameters<PgConnection["startTransaction"]>[0]) {
      const transaction = await connection.startTransaction(isolationLevel);
      let released = false;
      const release = async (end: () => Promise<void>) => {
        if (released) return;
        released = true;
        await end();
      };
      const wrapped: PgTransaction = {
        provider: transaction.provider,
        adapterName: transaction.adapterName,
        options: transaction.options,
        queryRaw: (query) => transaction.queryRaw(query),
        async executeRaw(query) {
          try {
            return await transaction.executeRaw(query);
          } catch (error) {
            // PostgreSQL has ended the transaction either way; the connection can go back.
            if (/^\s*(COMMIT|ROLLBACK)\s*$/i.test(query.sql)) await release(() => transaction.rollback());
            throw error;
          }
        },
        commit: () => release(() => transaction.commit()),
        rollback: () => release(() => transaction.rollback()),
      };
      return wrapped;
    },
  });
}

export interface PostgresOptions {
  poolSize: number;
}

export function createPostgresClient(databaseUrl: string, options: PostgresOptions): PrismaClient {
  const logLost = (what: string) => (error: Error) =>
    console.error(`[db] ${what} (${redactDatabaseUrl(databaseUrl)}): ${error.message}`);
  const pg = new PrismaPg(
    {
      connectionString: databaseUrl,
      max: options.poolSize,
      // A request waits this long for a connection (every one busy, or a server that does not
      // answer) before its 503. A server that refuses connections fails at once.
      connectionTimeoutMillis: CONNECTION_WAIT_MS,
      idleTimeoutMillis: 30_000,
      // Idle connections do not keep a stopping server alive: it exits once its requests are done.
      allowExitOnIdle: true,
      application_name: "remix-kinde-prisma",
    },
    {
      // Without these an idle connection's error would be an unhandled 'error' event: a crash.
      onPoolError: logLost("idle connection lost"),
      onConnectionError: logLost("transaction connection lost"),
    },
  );
  const adapter = {
    provider: pg.provider as "postgres",
    adapterName: pg.adapterName,
    connect: async () => releaseAfterFailedEnd(await pg.connect()),
  };
  // The PostgreSQL client has the same models and a superset of the SQLite client's options:
  // the models are typed against one (app/generated/prisma) and run on either.
  return new PostgresPrismaClient({
    adapter,
    // Prisma's own wait for a transaction's connection must end after the pool's: when Prisma
    // gives up first (P2028) the adapter still gets the connection later, opens the transaction
    // on it and never gives it back, until the pool is empty for good. The pool's timeout
    // withdraws the request cleanly.
    transactionOptions: { maxWait: CONNECTION_WAIT_MS + 10_000, timeout: 20_000 },
  }) as unknown as PrismaClient;
}

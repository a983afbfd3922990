// See docs/decisions/0018-postgresql-beside-sqlite.md.
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient as PostgresPrismaClient } from "~/generated/prisma-postgresql/client";
import type { PrismaClient } from "~/generated/prisma/client";
import { redactDatabaseUrl } from "./url";

const CONNECTION_WAIT_MS = 10_000;

type PgConnection = Awaited<ReturnType<PrismaPg["connect"]>>;
type PgTransaction = Awaited<ReturnType<PgConnection["startTransaction"]>>;

// Workaround: when COMMIT or ROLLBACK fails (a serialization conflict, 40001), Prisma 6.19 never calls the
// adapter's commit()/rollback(), so the connection never returns to the pool; here it does.
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
      connectionTimeoutMillis: CONNECTION_WAIT_MS,
      idleTimeoutMillis: 30_000,
      // Idle connections do not keep a stopping server alive.
      allowExitOnIdle: true,
      application_name: "remix-kinde-prisma",
    },
    {
      // Otherwise an idle connection's error is an unhandled 'error' event: a crash.
      onPoolError: logLost("idle connection lost"),
      onConnectionError: logLost("transaction connection lost"),
    },
  );
  const adapter = {
    provider: pg.provider as "postgres",
    adapterName: pg.adapterName,
    connect: async () => releaseAfterFailedEnd(await pg.connect()),
  };
  // Same models as the SQLite client, which types them (app/generated/prisma).
  return new PostgresPrismaClient({
    adapter,
    // Longer than the pool's wait: when Prisma gives up first (P2028) the adapter still opens the
    // transaction later and never gives the connection back.
    transactionOptions: { maxWait: CONNECTION_WAIT_MS + 10_000, timeout: 20_000 },
  }) as unknown as PrismaClient;
}

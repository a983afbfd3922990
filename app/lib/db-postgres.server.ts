/**
 * PostgreSQL through @prisma/adapter-pg and a pg pool (docs/decisions/0016-postgresql-beside-sqlite.md).
 * The pool reconnects by itself: a connection the server closed (a restart, a failover) is
 * dropped from the pool, the query on it fails (503), and the next one opens a new connection.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient as PostgresPrismaClient } from "~/generated/prisma-postgresql/client";
import type { PrismaClient } from "~/generated/prisma/client";
import { redactDatabaseUrl } from "./database-url";

export interface PostgresOptions {
  poolSize: number;
}

export function createPostgresClient(databaseUrl: string, options: PostgresOptions): PrismaClient {
  const logLost = (what: string) => (error: Error) =>
    console.error(`[db] ${what} (${redactDatabaseUrl(databaseUrl)}): ${error.message}`);
  const adapter = new PrismaPg(
    {
      connectionString: databaseUrl,
      max: options.poolSize,
      // A request waits this long for a connection (every one busy, or a server that does not
      // answer) before its 503. A server that refuses connections fails at once.
      connectionTimeoutMillis: 15_000,
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
  // The PostgreSQL client has the same models and a superset of the SQLite client's options:
  // the models are typed against one (app/generated/prisma) and run on either.
  return new PostgresPrismaClient({
    adapter,
    // An interactive transaction holds a pooled connection: under a burst it may wait for one
    // as long as a query would (Prisma's default is 2 s), and gets longer to finish.
    transactionOptions: { maxWait: 15_000, timeout: 15_000 },
  }) as unknown as PrismaClient;
}

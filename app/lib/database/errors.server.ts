/**
 * Tells "the database cannot be used right now" from a bug, and a lost race from a failure, for
 * SQLite and PostgreSQL alike: the one place that knows how each driver adapter reports them.
 * An unusable database is answered with a 503 page; a bug stays a 500.
 */
import { Prisma } from "~/generated/prisma/client";

export type DatabaseFailure = "unavailable" | "read-only";

const SQLITE_UNAVAILABLE = /^SQLITE_(READONLY|CANTOPEN|BUSY|LOCKED|IOERR|FULL|CORRUPT|NOTADB|PERM|AUTH)/;
const SQLITE_READ_ONLY = /^SQLITE_READONLY/;
// Driver adapter error kinds (both adapters) that mean the database cannot be reached or used.
const ADAPTER_UNAVAILABLE = new Set([
  "DatabaseNotReachable",
  "DatabaseDoesNotExist",
  "DatabaseAccessDenied",
  "AuthenticationFailed",
  "ConnectionClosed",
  "TooManyConnections",
  "SocketTimeout",
  "TlsConnectionError",
  "TableDoesNotExist",
]);
// PostgreSQL SQLSTATEs: 25006 read_only_sql_transaction (a standby, or
// default_transaction_read_only); class 08 connection exceptions; 57P01-57P03 the server is
// shutting down, crashed or starting; class 53 out of resources (connections, disk, memory).
const PG_READ_ONLY = "25006";
const PG_UNAVAILABLE = /^(08|57P0[1-4]|53)/;
// The pg driver's own errors, which carry no SQLSTATE: the connection went away, or none could
// be had in time (server down, pool exhausted).
const PG_DRIVER_UNAVAILABLE =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection closed|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND/i;

interface AdapterCause {
  kind?: string;
  originalCode?: string;
  code?: string;
  severity?: string;
  constraint?: { fields?: unknown; index?: unknown };
}

function adapterCause(error: unknown): AdapterCause | undefined {
  const meta = (error as { meta?: { driverAdapterError?: { cause?: AdapterCause } } } | undefined)?.meta;
  return meta?.driverAdapterError?.cause ?? (error as { cause?: AdapterCause } | undefined)?.cause;
}

/** What is wrong with the database, if that is why `error` happened; null for anything else. */
export function databaseFailure(error: unknown): DatabaseFailure | null {
  if (error instanceof Prisma.PrismaClientInitializationError) return "unavailable";
  if (!(error instanceof Error)) return null;
  const cause = adapterCause(error);
  const codes = [(error as { code?: unknown }).code, cause?.originalCode, cause?.code].filter(
    (code): code is string => typeof code === "string",
  );
  if (codes.some((code) => code === PG_READ_ONLY || SQLITE_READ_ONLY.test(code))) return "read-only";
  if (codes.some((code) => SQLITE_UNAVAILABLE.test(code) || PG_UNAVAILABLE.test(code))) return "unavailable";
  if (cause?.kind && ADAPTER_UNAVAILABLE.has(cause.kind)) return "unavailable";
  // A FATAL error ends the session: e.g. a database that no longer accepts connections.
  if (cause?.severity === "FATAL" || cause?.severity === "PANIC") return "unavailable";
  if (/readonly database|read-only transaction/i.test(error.message)) return "read-only";
  // better-sqlite3 failing to open the file surfaces as a plain error from the adapter.
  if (/cannot open database|unable to open database|database is locked/i.test(error.message)) return "unavailable";
  return PG_DRIVER_UNAVAILABLE.test(error.message) ? "unavailable" : null;
}

export function isDatabaseUnavailable(error: unknown): boolean {
  return databaseFailure(error) !== null;
}

const failures = new WeakMap<Response, DatabaseFailure>();

/** What loaders and actions see: a 503 response that the error boundary renders. */
export function databaseUnavailableResponse(failure: DatabaseFailure = "unavailable"): Response {
  const response = new Response("The database is unavailable.", { status: 503, headers: { "Retry-After": "5" } });
  failures.set(response, failure);
  return response;
}

/** Which failure a 503 from databaseUnavailableResponse() stands for (for /healthz). */
export function failureOf(thrown: unknown): DatabaseFailure | undefined {
  return thrown instanceof Response ? failures.get(thrown) : undefined;
}

/**
 * Whether a write failed on a unique constraint (on `field`, when given). SQLite names the
 * fields; PostgreSQL's detail names them as SQL identifiers ("kindeId" quoted), or the index.
 * Prisma reports it as P2002; a failure at COMMIT comes as the adapter's own error.
 */
export function isUniqueViolation(error: unknown, field?: string): boolean {
  const cause = adapterCause(error);
  const prismaUnique = error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
  if (!prismaUnique && cause?.kind !== "UniqueConstraintViolation") return false;
  if (field === undefined) return true;
  const constraint = cause?.constraint;
  const named = constraint?.fields ?? constraint?.index ?? (error as { meta?: { target?: unknown } }).meta?.target;
  const names = (Array.isArray(named) ? named : [named]).map((name) => String(name ?? "").replace(/"/g, ""));
  return names.some((name) => name === field || name.includes(`_${field}_`));
}

/**
 * A write that lost a race and may simply be tried again: a unique key taken meanwhile, a
 * serializable transaction that conflicted with another (PostgreSQL 40001: Prisma's P2034, or
 * the adapter's TransactionWriteConflict when it happens at COMMIT), or a deadlock (40P01).
 */
export function isRetryableConflict(error: unknown): boolean {
  if (isUniqueViolation(error)) return true;
  if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2034") return true;
  const cause = adapterCause(error);
  return (
    cause?.kind === "TransactionWriteConflict" ||
    [cause?.originalCode, cause?.code].some((code) => code === "40001" || code === "40P01")
  );
}

// PostgreSQL serializable transactions of concurrent first sign-ins conflict often (predicate
// locks cover index pages), hence the room; each retry follows a write that lost a race.
const MAX_ATTEMPTS = 16;

/**
 * Runs `attempt` until it does not lose a race: a retryable conflict (or what `alsoRetry` accepts)
 * is tried again after a short random pause that grows, so colliding writers do not collide again.
 */
export async function retryOnConflict<T>(
  attempt: () => Promise<T>,
  { conflicts = true, alsoRetry = () => false }: { conflicts?: boolean; alsoRetry?: (error: unknown) => boolean } = {},
): Promise<T> {
  for (let count = 1; ; count++) {
    try {
      return await attempt();
    } catch (error) {
      const conflict = conflicts && isRetryableConflict(error);
      if (!(conflict || alsoRetry(error)) || count >= MAX_ATTEMPTS) throw error;
      if (conflict) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 2 ** count * 2)));
    }
  }
}

/** An update whose `where` matched no row (Prisma's "record to update not found"). */
export function isRecordNotFound(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2025";
}

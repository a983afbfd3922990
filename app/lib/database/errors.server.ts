// How each driver adapter reports an unusable database (a 503, not a 500) and a lost race.
import { Prisma } from "~/generated/prisma/client";

export type DatabaseFailure = "unavailable" | "read-only";

const SQLITE_UNAVAILABLE = /^SQLITE_(READONLY|CANTOPEN|BUSY|LOCKED|IOERR|FULL|CORRUPT|NOTADB|PERM|AUTH)/;
const SQLITE_READ_ONLY = /^SQLITE_READONLY/;
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
// SQLSTATEs: 25006 read-only transaction; 08 connection; 57P01-57P04 shutdown, crash, start-up; 53 out of resources.
const PG_READ_ONLY = "25006";
const PG_UNAVAILABLE = /^(08|57P0[1-4]|53)/;
// The pg driver's own errors carry no SQLSTATE.
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

export function databaseUnavailableResponse(failure: DatabaseFailure = "unavailable"): Response {
  const response = new Response("The database is unavailable.", { status: 503, headers: { "Retry-After": "5" } });
  failures.set(response, failure);
  return response;
}

export function failureOf(thrown: unknown): DatabaseFailure | undefined {
  return thrown instanceof Response ? failures.get(thrown) : undefined;
}

// SQLite names the fields; PostgreSQL quotes them ("kindeId") or names the index. At COMMIT the adapter reports it, not Prisma.
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

/** A unique key taken meanwhile, a serialization failure (40001, P2034) or a deadlock (40P01). */
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

// A random pause, growing with each attempt, so that colliding writers do not collide again in lockstep.
export async function retryOnConflict<T>(
  attempt: () => Promise<T>,
  { conflicts = true, alsoRetry = () => false }: { conflicts?: boolean; alsoRetry?: (error: unknown) => boolean } = {},
): Promise<T> {
  for (let count = 1; ; count++) {
    try {
      return await attempt();
    } catch (error) {
      const conflict = conflicts && isRetryableConflict(error);
      if (!(conflict || alsoRetry(error))) throw error;
      if (count >= MAX_ATTEMPTS) {
        if (!conflict) throw error;
        // Busy rather than broken: the person gets the "try again in a moment" page, not a 500.
        console.warn(`[database] gave up after ${MAX_ATTEMPTS} conflicting attempts: ${String(error).slice(0, 120)}`);
        throw databaseUnavailableResponse();
      }
      if (conflict) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 2 ** count * 2)));
    }
  }
}

export function isRecordNotFound(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2025";
}

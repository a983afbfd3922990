/**
 * Tells "the database cannot be used right now" (missing, unreadable, read-only, locked,
 * disk full) from a bug. The first is answered with a 503 page; the second stays a 500.
 */
import { Prisma } from "~/generated/prisma/client";

const SQLITE_UNAVAILABLE = /^SQLITE_(READONLY|CANTOPEN|BUSY|LOCKED|IOERR|FULL|CORRUPT|NOTADB|PERM|AUTH)/;
const ADAPTER_UNAVAILABLE = new Set([
  "DatabaseNotReachable",
  "DatabaseDoesNotExist",
  "DatabaseAccessDenied",
  "ConnectionClosed",
  "TooManyConnections",
  "SocketTimeout",
  "TableDoesNotExist",
]);

export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientInitializationError) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && SQLITE_UNAVAILABLE.test(code)) return true;
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    const cause = (
      error.meta as { driverAdapterError?: { cause?: { kind?: string; originalCode?: string } } } | undefined
    )?.driverAdapterError?.cause;
    if (cause?.kind && ADAPTER_UNAVAILABLE.has(cause.kind)) return true;
    if (cause?.originalCode && SQLITE_UNAVAILABLE.test(cause.originalCode)) return true;
  }
  // better-sqlite3 failing to open the file surfaces as a plain error from the adapter.
  return /cannot open database|unable to open database|database is locked|readonly database/i.test(error.message);
}

/** What loaders and actions see: a 503 response that the error boundary renders. */
export function databaseUnavailableResponse(): Response {
  return new Response("The database is unavailable.", { status: 503, headers: { "Retry-After": "5" } });
}

type KnownErrorMeta = {
  target?: unknown;
  driverAdapterError?: { cause?: { kind?: string; constraint?: { fields?: unknown; index?: unknown } } };
};

/**
 * Whether a write failed on a unique constraint (on `field`, when given). The one place that
 * knows how each driver adapter reports it: SQLite names the fields, PostgreSQL may name the
 * index ("User_email_key"), and older engines put either in `meta.target`.
 */
export function isUniqueViolation(error: unknown, field?: string): boolean {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== "P2002") return false;
  if (field === undefined) return true;
  const meta = error.meta as KnownErrorMeta | undefined;
  const constraint = meta?.driverAdapterError?.cause?.constraint;
  const named = constraint?.fields ?? constraint?.index ?? meta?.target;
  return Array.isArray(named) ? named.includes(field) : String(named ?? "").includes(field);
}

/**
 * A write that lost a race and may simply be tried again: a unique key taken meanwhile, or a
 * serializable transaction that conflicted with another (PostgreSQL reports P2034).
 */
export function isRetryableConflict(error: unknown): boolean {
  return isUniqueViolation(error) || (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2034");
}

/** An update whose `where` matched no row (Prisma's "record to update not found"). */
export function isRecordNotFound(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2025";
}

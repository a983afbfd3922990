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

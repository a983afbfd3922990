import { failureOf, type DatabaseFailure } from "./errors.server";
import { prisma } from "./client.server";

export type DatabaseHealth = "ok" | DatabaseFailure;

/**
 * Reads, then writes with a statement that changes nothing: SQLite opens a write transaction
 * for it, and PostgreSQL refuses it in a read-only transaction (a standby, or
 * default_transaction_read_only), so a read-only or locked database fails here too.
 */
export async function checkDatabase(): Promise<DatabaseHealth> {
  try {
    await prisma.$queryRawUnsafe("SELECT 1");
  } catch (error) {
    return failureOf(error) ?? "unavailable";
  }
  try {
    await prisma.$executeRawUnsafe('UPDATE "User" SET "id" = "id" WHERE 1 = 0');
    return "ok";
  } catch (error) {
    return failureOf(error) ?? "read-only";
  }
}

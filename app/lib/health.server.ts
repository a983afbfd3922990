import { prisma } from "./db.server";

export type DatabaseHealth = "ok" | "unavailable" | "read-only";

/**
 * Reads, then asks for a write lock with a statement that changes nothing: SQLite opens a
 * write transaction for it, so a read-only or locked database fails here too.
 */
export async function checkDatabase(): Promise<DatabaseHealth> {
  try {
    await prisma.$queryRawUnsafe("SELECT 1");
  } catch {
    return "unavailable";
  }
  try {
    await prisma.$executeRawUnsafe('UPDATE "User" SET "id" = "id" WHERE 0');
    return "ok";
  } catch {
    return "read-only";
  }
}

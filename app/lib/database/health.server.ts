import { failureOf, type DatabaseFailure } from "./errors.server";
import { prisma } from "./client.server";

export type DatabaseHealth = "ok" | DatabaseFailure;

// A write that changes nothing still needs a writable database (a SQLite write lock, a PostgreSQL primary).
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

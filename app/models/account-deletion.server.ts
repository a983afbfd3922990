// People who deleted their account here: docs/decisions/0020-account-deletion-in-the-app.md.
import { prisma, type Db } from "~/lib/database/client.server";

export async function accountDeletedAt(kindeId: string, db: Db = prisma): Promise<Date | null> {
  const deletion = await db.accountDeletion.findUnique({ where: { kindeId }, select: { deletedAt: true } });
  return deletion?.deletedAt ?? null;
}

export async function recordAccountDeletion(kindeId: string, deletedAt: Date, db: Db = prisma): Promise<void> {
  await db.accountDeletion.upsert({ where: { kindeId }, create: { kindeId, deletedAt }, update: { deletedAt } });
}

export async function forgetAccountDeletion(kindeId: string, db: Db = prisma): Promise<void> {
  await db.accountDeletion.deleteMany({ where: { kindeId } });
}

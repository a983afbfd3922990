/**
 * Every query about account deletions: people who deleted their account in the app. Kinde's
 * news about them (webhooks, users:sync) stores nothing; their own next sign-in lifts the
 * record and starts a new profile (docs/decisions/0020-account-deletion-in-the-app.md).
 */
import { prisma, type Db } from "~/lib/database/client.server";

/** When the person deleted their account here, or null. */
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

// Tombstones of identities deleted at Kinde: docs/decisions/0013-kinde-sync-tombstones-and-ordering.md.
import { prisma, type Db } from "~/lib/database/client.server";

export async function isKindeIdentityDeleted(kindeId: string, db: Db = prisma): Promise<boolean> {
  return (await db.deletedKindeIdentity.findUnique({ where: { kindeId }, select: { id: true } })) !== null;
}

export async function recordDeletedKindeIdentity(kindeId: string, deletedAt: Date, db: Db = prisma): Promise<boolean> {
  if (await isKindeIdentityDeleted(kindeId, db)) return false;
  // A concurrent deletion fails on the unique kindeId; the caller's retry finds the tombstone.
  await db.deletedKindeIdentity.create({ data: { kindeId, deletedAt } });
  return true;
}

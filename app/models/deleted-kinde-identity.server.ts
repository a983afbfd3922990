/**
 * Every query about tombstones: Kinde identities deleted at Kinde. Kinde never reuses a user
 * id, so once an id is here the app never stores a row for it again
 * (docs/decisions/0013-kinde-sync-tombstones-and-ordering.md).
 */
import { prisma, type Db } from "~/lib/database/client.server";

export async function isKindeIdentityDeleted(kindeId: string, db: Db = prisma): Promise<boolean> {
  return (await db.deletedKindeIdentity.findUnique({ where: { kindeId }, select: { id: true } })) !== null;
}

/** Records the deletion once; returns false when the id was already tombstoned. */
export async function recordDeletedKindeIdentity(kindeId: string, deletedAt: Date, db: Db = prisma): Promise<boolean> {
  if (await isKindeIdentityDeleted(kindeId, db)) return false;
  // A concurrent deletion of the same id fails here on the unique kindeId; the caller's
  // transaction is then retried and finds the tombstone above.
  await db.deletedKindeIdentity.create({ data: { kindeId, deletedAt } });
  return true;
}

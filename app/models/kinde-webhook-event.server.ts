// Processed Kinde webhook events: the record that makes each event apply exactly once.
import { isUniqueViolation } from "~/lib/database/errors.server";
import { prisma, type Db } from "~/lib/database/client.server";

export interface ProcessedWebhookEvent {
  eventId: string;
  type: string;
  occurredAt: Date;
}

export class DuplicateWebhookEvent extends Error {
  override name = "DuplicateWebhookEvent";
}

/** Claims the event id, first in the transaction that applies it; DuplicateWebhookEvent when already claimed. */
export async function recordWebhookEvent(event: ProcessedWebhookEvent, db: Db = prisma): Promise<void> {
  try {
    await db.kindeWebhookEvent.create({ data: event });
  } catch (error) {
    // The table has one unique key: any unique violation here is the event id.
    if (isUniqueViolation(error)) throw new DuplicateWebhookEvent(event.eventId);
    throw error;
  }
}

export async function pruneWebhookEvents(cutoff: Date, db: Db = prisma): Promise<number> {
  const { count } = await db.kindeWebhookEvent.deleteMany({ where: { occurredAt: { lt: cutoff } } });
  return count;
}

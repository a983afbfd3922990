/**
 * Every query about processed Kinde webhook events: the record that makes each event apply
 * exactly once, however often Kinde delivers it.
 */
import { isUniqueViolation } from "~/lib/database/errors.server";
import { prisma, type Db } from "~/lib/database/client.server";

export interface ProcessedWebhookEvent {
  eventId: string;
  type: string;
  occurredAt: Date;
}

/** The event was processed before (a retry, or a duplicate delivered at the same moment). */
export class DuplicateWebhookEvent extends Error {
  override name = "DuplicateWebhookEvent";
}

/**
 * Claims the event id. Run it first in the transaction that applies the event: a concurrent
 * delivery of the same id then waits on the unique key and fails once this one commits, so
 * the event is applied once. Throws DuplicateWebhookEvent for an id already recorded.
 */
export async function recordWebhookEvent(event: ProcessedWebhookEvent, db: Db = prisma): Promise<void> {
  try {
    await db.kindeWebhookEvent.create({ data: event });
  } catch (error) {
    // The table has one unique key: any unique violation here is the event id.
    if (isUniqueViolation(error)) throw new DuplicateWebhookEvent(event.eventId);
    throw error;
  }
}

/** Forgets events that occurred before `cutoff`: deliveries that old are refused anyway. */
export async function pruneWebhookEvents(cutoff: Date, db: Db = prisma): Promise<number> {
  const { count } = await db.kindeWebhookEvent.deleteMany({ where: { occurredAt: { lt: cutoff } } });
  return count;
}

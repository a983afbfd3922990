/**
 * POST /webhooks/kinde: Kinde's events about users, applied exactly once. The event id is
 * claimed and the change applied in one transaction, so a retry or a duplicate delivered at
 * the same moment ends as one application and 200s. Events arrive in any order; the rules of
 * app/lib/kinde-user-facts.server.ts keep the newest news.
 */
import { Prisma } from "~/generated/prisma/client";
import { DuplicateWebhookEvent, pruneWebhookEvents, recordWebhookEvent } from "~/models/kinde-webhook-event.server";
import { applyKindeUserFacts, forgetKindeUser } from "~/models/user.server";
import { retryOnConflict } from "../database/errors.server";
import { transaction, type Db } from "../database/client.server";
import { cleanKindeProfile } from "./user-facts.server";
import {
  REPLAY_WINDOW_MS,
  verifyKindeWebhook,
  WebhookRejected,
  type KindeWebhookEvent,
  type VerifyOptions,
} from "./webhook-verify.server";

/** What became of a delivery; logged, and answered to Kinde. */
export type WebhookOutcome =
  | "created"
  | "updated"
  | "unchanged"
  | "older"
  | "deleted"
  | "already deleted"
  | "ignored (deleted identity)"
  | "ignored (deleted their account here)"
  | "ignored (unknown user)"
  | "recorded"
  | "duplicate";

const PRUNE_EVERY_MS = 60_000;
let lastPrunedAt = 0;

async function applyEvent(event: KindeWebhookEvent, tx: Db): Promise<WebhookOutcome> {
  const source = `webhook ${event.type}` as const;
  switch (event.kind) {
    case "user-profile": {
      const { id, ...raw } = event.user;
      const result = await applyKindeUserFacts(
        { kindeId: id, observedAt: event.occurredAt, source, profile: cleanKindeProfile(raw), createIfMissing: true },
        { db: tx },
      );
      if (result.outcome === "left") return "ignored (deleted their account here)";
      return result.outcome === "deleted"
        ? "ignored (deleted identity)"
        : result.outcome === "unknown"
          ? "ignored (unknown user)"
          : result.outcome;
    }
    case "user-authenticated": {
      const result = await applyKindeUserFacts(
        {
          kindeId: event.userId,
          observedAt: event.occurredAt,
          source,
          profile: {},
          signedInAt: event.occurredAt,
          createIfMissing: false,
        },
        { db: tx },
      );
      if (result.outcome === "deleted") return "ignored (deleted identity)";
      if (result.outcome === "left") return "ignored (deleted their account here)";
      if (result.outcome === "unknown") return "ignored (unknown user)";
      return result.outcome === "older" ? "unchanged" : result.outcome;
    }
    case "user-deleted": {
      const { newlyTombstoned } = await forgetKindeUser(event.userId, event.occurredAt, tx);
      return newlyTombstoned ? "deleted" : "already deleted";
    }
    case "other":
      return "recorded";
  }
}

/** Claims the event id and applies the event in one transaction; a lost race tries again. */
async function processOnce(event: KindeWebhookEvent): Promise<WebhookOutcome> {
  const claimAndApply = async (tx: Db) => {
    // Claimed first, so that a concurrent duplicate waits on the unique id, then fails.
    await recordWebhookEvent({ eventId: event.eventId, type: event.type, occurredAt: event.occurredAt }, tx);
    return applyEvent(event, tx);
  };
  try {
    return await retryOnConflict(() =>
      transaction(claimAndApply, { isolationLevel: Prisma.TransactionIsolationLevel.Serializable }),
    );
  } catch (error) {
    if (error instanceof DuplicateWebhookEvent) return "duplicate";
    throw error;
  }
}

/** Forgets event ids past the replay window, at most once a minute per process. */
async function pruneNowAndThen(now: number): Promise<void> {
  if (now - lastPrunedAt < PRUNE_EVERY_MS) return;
  lastPrunedAt = now;
  try {
    const pruned = await pruneWebhookEvents(new Date(now - REPLAY_WINDOW_MS));
    if (pruned > 0) console.info(`[webhook] pruned ${pruned} processed event ids past the replay window`);
  } catch {
    // The next delivery tries again; nothing depends on it happening now.
    lastPrunedAt = 0;
  }
}

function answer(status: number, body: Record<string, string>): Response {
  return Response.json(body, { status, headers: { "Cache-Control": "no-store" } });
}

/**
 * One log line per delivery: type, event id and outcome, never the token or personal data.
 * Only a verified event's type and id are logged; a refused delivery logs why.
 */
export async function handleKindeWebhook(request: Request, options: VerifyOptions = {}): Promise<Response> {
  let event: KindeWebhookEvent;
  try {
    event = await verifyKindeWebhook(request, options);
  } catch (error) {
    if (!(error instanceof WebhookRejected)) throw error;
    console.warn(`[webhook] refused ${error.status}: ${error.message}`);
    return answer(error.status, { error: error.message });
  }
  let outcome: WebhookOutcome;
  try {
    outcome = await processOnce(event);
  } catch (error) {
    // The database is unavailable (a 503 Response from db.server.ts): Kinde retries later.
    if (error instanceof Response && error.status === 503) {
      console.warn(`[webhook] ${event.type} ${event.eventId} not applied: database unavailable`);
      return answer(503, { error: "database unavailable" });
    }
    throw error;
  }
  console.info(`[webhook] ${event.type} ${event.eventId} ${outcome}`);
  await pruneNowAndThen((options.now ?? Date.now)());
  return answer(200, { outcome });
}

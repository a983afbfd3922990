// POST /webhooks/kinde: each event claimed and applied in one transaction, so it applies exactly once.
import { Prisma } from "~/generated/prisma/client";
import { DuplicateWebhookEvent, pruneWebhookEvents, recordWebhookEvent } from "~/models/kinde-webhook-event.server";
import {
  applyKindeOrganizationFacts,
  applyKindeUserMemberships,
  forgetKindeOrganization,
} from "~/models/organization.server";
import { applyKindeUserFacts, forgetKindeUser, type KindeUserOutcome } from "~/models/user.server";
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
  | "ignored (deleted organization)"
  | "recorded"
  | "duplicate";

const PRUNE_EVERY_MS = 60_000;
let lastPrunedAt = 0;

const IGNORED = {
  deleted: "ignored (deleted identity)",
  left: "ignored (deleted their account here)",
  unknown: "ignored (unknown user)",
} as const;

function outcomeOf(outcome: KindeUserOutcome["outcome"]): WebhookOutcome {
  return outcome === "deleted" || outcome === "left" || outcome === "unknown" ? IGNORED[outcome] : outcome;
}

async function applyEvent(event: KindeWebhookEvent, tx: Db): Promise<WebhookOutcome> {
  const source = `webhook ${event.type}` as const;
  switch (event.kind) {
    case "user-profile": {
      const { id, organizations, ...raw } = event.user;
      const { outcome } = await applyKindeUserFacts(
        { kindeId: id, observedAt: event.occurredAt, source, profile: cleanKindeProfile(raw), createIfMissing: true },
        { db: tx },
      );
      // user.created's list predates an organization created at that sign-up: the token's is newer.
      if (organizations && event.type === "user.updated") {
        await applyKindeUserMemberships(id, organizations, event.occurredAt, source, tx);
      }
      return outcomeOf(outcome);
    }
    case "user-authenticated": {
      const { outcome } = await applyKindeUserFacts(
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
      return outcomeOf(outcome === "older" ? "unchanged" : outcome);
    }
    case "user-deleted": {
      const { newlyTombstoned } = await forgetKindeUser(event.userId, event.occurredAt, tx);
      return newlyTombstoned ? "deleted" : "already deleted";
    }
    case "organization-profile": {
      const outcome = await applyKindeOrganizationFacts(
        { ...event.organization, observedAt: event.occurredAt, source },
        tx,
      );
      return outcome === "deleted" ? "ignored (deleted organization)" : outcome;
    }
    case "organization-deleted": {
      const { newlyTombstoned } = await forgetKindeOrganization(event.code, event.occurredAt, tx);
      return newlyTombstoned ? "deleted" : "already deleted";
    }
    case "other":
      return "recorded";
  }
}

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

// One log line per delivery (type, event id, outcome), never the token or personal data.
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
    // The database is unavailable: Kinde retries a 503 later.
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

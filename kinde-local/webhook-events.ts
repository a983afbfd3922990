import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import type { UserClaims } from "./config.ts";
import type { StoredUser } from "./store.ts";
import { webhookUrl } from "./validation.ts";

export const WEBHOOK_EVENT_TYPES = [
  "user.created",
  "user.updated",
  "user.deleted",
  "user.authenticated",
  "organization.created",
  "organization.updated",
  "organization.deleted",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** admin: Kinde's dashboard (never sent here); api: the Management API; user: the person. */
export type WebhookSource = "admin" | "api" | "user";

export const webhookEndpointSchema = z.strictObject({
  url: webhookUrl,
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).optional(),
});

export type WebhookEndpoint = z.output<typeof webhookEndpointSchema>;

export function buildEvent(type: WebhookEventType, source: WebhookSource, data: Record<string, unknown>, now: number) {
  // Kinde's example payload carries both timestamp fields, with the same value.
  const timestamp = new Date(now).toISOString();
  const eventId = `event_${randomBytes(16).toString("hex")}`;
  return { data, event_id: eventId, event_timestamp: timestamp, source, timestamp, type };
}

/** Permissions have no ids in config.json; Kinde's payload has {id, key}, so derive a stable one. */
function permissionId(key: string): string {
  return `perm_${createHash("sha256").update(key).digest("hex").slice(0, 16)}`;
}

/** As in Kinde's example payload: names not entered are "", and organizations other than org_code list null roles. */
export function webhookUser(user: StoredUser, claims: UserClaims): Record<string, unknown> {
  const roles = claims.roles.map((role) => role.key);
  const permissions = claims.permissions.map((key) => ({ id: permissionId(key), key }));
  return {
    email: user.email,
    first_name: user.givenName ?? "",
    id: user.id,
    is_password_reset_requested: user.isPasswordResetRequested,
    is_suspended: user.isSuspended,
    last_name: user.familyName ?? "",
    organizations: claims.orgCodes.map((code) => ({
      code,
      permissions: code === claims.orgCode && permissions.length > 0 ? permissions : null,
      roles: code === claims.orgCode && roles.length > 0 ? roles : null,
    })),
    phone: null,
    username: null,
  };
}

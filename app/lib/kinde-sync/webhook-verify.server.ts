// A POST /webhooks/kinde verified into an event, or refused with a status: docs/decisions/0014-verify-webhooks-with-jose.md.
import { errors, jwtVerify, type JWTVerifyGetKey } from "jose";
import { z } from "zod";
import { kindeJwks } from "../auth/tokens.server";
import {
  cleanOrganizationName,
  KINDE_ORG_CODE,
  MAX_ORGANIZATIONS,
  type MembershipNews,
} from "./organization-facts.server";

export const MAX_WEBHOOK_BYTES = 32 * 1024;
// Kinde retries for about 36 hours; anything older is a replay. Clocks differ a little.
export const REPLAY_WINDOW_MS = 72 * 60 * 60 * 1000;
export const MAX_CLOCK_AHEAD_MS = 5 * 60 * 1000;

export class WebhookRejected extends Error {
  constructor(
    readonly status: 400 | 401 | 413 | 415 | 503,
    reason: string,
  ) {
    super(reason);
  }
}

const kindeUserId = z.string().regex(/^kp_[A-Za-z0-9]{1,64}$/);
const text = z.string().max(1000).nullable().optional();

const envelopeSchema = z.object({
  event_id: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/),
  type: z.string().regex(/^[a-z][a-z0-9_.]{0,99}$/),
  timestamp: z.iso.datetime({ offset: true }),
  data: z.unknown(),
});

const userProfileData = z.object({
  user: z.object({
    id: kindeUserId,
    email: text,
    first_name: text,
    last_name: text,
    picture: z.string().max(4096).nullable().optional(),
    is_suspended: z.boolean().optional(),
    // Every organization of the person; roles (keys) only where Kinde gives them, else null.
    organizations: z
      .array(
        z.object({
          code: z.string().regex(KINDE_ORG_CODE),
          roles: z.array(z.string().min(1).max(128)).max(100).nullish(),
        }),
      )
      .max(MAX_ORGANIZATIONS)
      .optional(),
  }),
});

const userIdData = z.object({ user: z.object({ id: kindeUserId }) });

// @kinde/webhooks' types (kinde-oss/webhook lib/types.ts): created and updated carry
// `organization: {code, name, handle, external_id}`, deleted only `organization.code`.
const organizationData = z.object({
  organization: z.object({ code: z.string().regex(KINDE_ORG_CODE), name: z.string().max(1000).nullable().optional() }),
});

export interface KindeUserProfileEvent {
  id: string;
  email?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  picture?: string | null;
  suspended?: boolean;
  /** undefined: the event does not list them, and the memberships stay. */
  organizations?: MembershipNews[];
}

interface EventBase {
  eventId: string;
  type: string;
  occurredAt: Date;
}

export type KindeWebhookEvent = EventBase &
  (
    | { kind: "user-profile"; user: KindeUserProfileEvent }
    | { kind: "user-deleted"; userId: string }
    | { kind: "user-authenticated"; userId: string }
    | { kind: "organization-profile"; organization: { code: string; name?: string | null } }
    | { kind: "organization-deleted"; code: string }
    | { kind: "other" }
  );

async function readBody(request: Request): Promise<string> {
  const declared = Number(request.headers.get("Content-Length") ?? 0);
  let tooLarge = !Number.isFinite(declared) || declared > MAX_WEBHOOK_BYTES;
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    // Read to the end even when too large: answering before the body is read resets the sender's connection.
    const reader = request.body?.getReader();
    for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
      size += chunk.value.byteLength;
      if (size > MAX_WEBHOOK_BYTES) tooLarge = true;
      if (!tooLarge) chunks.push(chunk.value);
    }
  } catch {
    throw new WebhookRejected(400, "body could not be read");
  }
  if (tooLarge) throw new WebhookRejected(413, "body too large");
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks)).trim();
  } catch {
    throw new WebhookRejected(400, "body is not UTF-8");
  }
}

function rejectionFor(error: unknown): WebhookRejected {
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return new WebhookRejected(400, "not a well-formed JWT");
  }
  if (
    error instanceof errors.JOSEAlgNotAllowed ||
    error instanceof errors.JOSENotSupported ||
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JWKInvalid ||
    error instanceof errors.JWTClaimValidationFailed
  ) {
    return new WebhookRejected(401, "signature not from Kinde's keys");
  }
  // The JWKS timed out, was unreachable or unreadable: Kinde retries a 503 later.
  return new WebhookRejected(503, "Kinde's signing keys are unavailable");
}

function parseEvent(payload: unknown, now: number): KindeWebhookEvent {
  const envelope = envelopeSchema.safeParse(payload);
  if (!envelope.success) throw new WebhookRejected(400, "payload is not a Kinde event");
  const { event_id: eventId, type, timestamp, data } = envelope.data;
  const occurredAt = new Date(timestamp);
  if (occurredAt.getTime() < now - REPLAY_WINDOW_MS) throw new WebhookRejected(400, "event older than replay window");
  if (occurredAt.getTime() > now + MAX_CLOCK_AHEAD_MS) throw new WebhookRejected(400, "event from the future");
  const base = { eventId, type, occurredAt };
  if (type === "user.created" || type === "user.updated") {
    const parsed = userProfileData.safeParse(data);
    if (!parsed.success) throw new WebhookRejected(400, `payload is not a ${type} event`);
    const { id, email, first_name, last_name, picture, is_suspended, organizations } = parsed.data.user;
    const memberships = organizations?.map(({ code, roles }) => ({ code, roleKeys: roles ?? undefined }));
    return {
      ...base,
      kind: "user-profile",
      user: {
        id,
        email,
        firstName: first_name,
        lastName: last_name,
        picture,
        suspended: is_suspended,
        organizations: memberships,
      },
    };
  }
  if (type === "user.deleted" || type === "user.authenticated") {
    const parsed = userIdData.safeParse(data);
    if (!parsed.success) throw new WebhookRejected(400, `payload is not a ${type} event`);
    const userId = parsed.data.user.id;
    return type === "user.deleted"
      ? { ...base, kind: "user-deleted", userId }
      : { ...base, kind: "user-authenticated", userId };
  }
  if (type === "organization.created" || type === "organization.updated" || type === "organization.deleted") {
    const parsed = organizationData.safeParse(data);
    if (!parsed.success) throw new WebhookRejected(400, `payload is not a ${type} event`);
    const { code, name } = parsed.data.organization;
    if (type === "organization.deleted") return { ...base, kind: "organization-deleted", code };
    const organization = name === undefined ? { code } : { code, name: cleanOrganizationName(name) };
    return { ...base, kind: "organization-profile", organization };
  }
  return { ...base, kind: "other" };
}

export interface VerifyOptions {
  keys?: JWTVerifyGetKey;
  now?: () => number;
}

export async function verifyKindeWebhook(request: Request, options: VerifyOptions = {}): Promise<KindeWebhookEvent> {
  const mediaType = request.headers.get("Content-Type")?.split(";")[0]?.trim().toLowerCase();
  if (mediaType !== "application/jwt") throw new WebhookRejected(415, "content type is not application/jwt");
  const token = await readBody(request);
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, options.keys ?? kindeJwks, { algorithms: ["RS256"] }));
  } catch (error) {
    throw rejectionFor(error);
  }
  return parseEvent(payload, (options.now ?? Date.now)());
}

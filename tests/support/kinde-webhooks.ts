// Kinde webhook deliveries signed with the local Kinde server's key and POSTed as Kinde posts them (no Origin).
import { randomBytes } from "node:crypto";
import type { Stack } from "./stack.ts";
import { kindeAdmin } from "./kinde-session.ts";
import { signWithKindeKey } from "./tokens";

export interface KindeEventOptions {
  timestamp?: string | Date;
  eventId?: string;
}

type WebhookAnswer = { status: number; body: { outcome?: string; error?: string } | string };

export const newEventId = () => `event_${randomBytes(16).toString("hex")}`;

export function kindeEvent(type: string, user: Record<string, unknown>, options: KindeEventOptions = {}) {
  const timestamp = options.timestamp ?? new Date();
  return {
    data: { user },
    event_id: options.eventId ?? newEventId(),
    source: "admin",
    timestamp: timestamp instanceof Date ? timestamp.toISOString() : timestamp,
    type,
  };
}

export function signKindeEvent(stack: Stack, payload: Record<string, unknown>): Promise<string> {
  return signWithKindeKey(stack.kindeDataDir, payload);
}

export async function deliverWebhook(
  stack: Pick<Stack, "appUrl">,
  body: BodyInit,
  headers: Record<string, string> = { "Content-Type": "application/jwt" },
): Promise<WebhookAnswer> {
  const response = await fetch(`${stack.appUrl}/webhooks/kinde`, {
    method: "POST",
    headers: { "webhook-id": `msg_${randomBytes(8).toString("hex")}`, ...headers },
    body,
    duplex: "half",
  } as RequestInit);
  const text = await response.text();
  let parsed: WebhookAnswer["body"] = text;
  try {
    parsed = JSON.parse(text) as WebhookAnswer["body"];
  } catch {
    // An HTML page (413 over 64 KiB): keep the text.
  }
  return { status: response.status, body: parsed };
}

export async function sendKindeEvent(
  stack: Stack,
  type: string,
  user: Record<string, unknown>,
  options?: KindeEventOptions,
): Promise<WebhookAnswer> {
  return deliverWebhook(stack, await signKindeEvent(stack, kindeEvent(type, user, options)));
}

export async function deleteKindeUser(stack: Stack, id: string): Promise<void> {
  await (await kindeAdmin(stack)).deleteUser(id);
}

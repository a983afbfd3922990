import { z } from "zod";

/** Rules for what users type, shared by the sign-up form, the account page and the API. */

export const NAME_MAX_LENGTH = 100;
const CONTROL_CHARACTERS = /\p{Cc}/u;

export const emailSchema = z.email().max(254);

/** Emails are compared trimmed and lowercased, so one person cannot register twice. */
export function normalizeEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

export function isValidEmail(email: string): boolean {
  return emailSchema.safeParse(email).success;
}

/** A first or last name (already trimmed); undefined when acceptable. */
export function nameError(name: string): string | undefined {
  if (name.length > NAME_MAX_LENGTH) return `Use at most ${NAME_MAX_LENGTH} characters.`;
  if (CONTROL_CHARACTERS.test(name)) return "Remove line breaks and other control characters.";
  return undefined;
}

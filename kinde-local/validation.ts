import { z } from "zod";
import { NAME_MAX_LENGTH, nameProblem, normalizeName } from "../common/names.ts";

/** Rules for what users type, shared by the sign-up form, the account page and the API. */

export { NAME_MAX_LENGTH, normalizeName };

export const emailSchema = z.email().max(254);

/** Emails are compared trimmed and lowercased, so one person cannot register twice. */
export function normalizeEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

export function isValidEmail(email: string): boolean {
  return emailSchema.safeParse(email).success;
}

/** A first or last name, already normalised (normalizeName), by the app's rule (common/names.ts). */
export function nameError(name: string): string | undefined {
  switch (nameProblem(name)) {
    case "too-long":
      return `Use at most ${NAME_MAX_LENGTH} characters.`;
    case "forbidden-characters":
      return "Remove line breaks, control characters and invisible formatting characters.";
    default:
      return undefined;
  }
}

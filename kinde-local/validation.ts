import { z } from "zod";
import { NAME_MAX_LENGTH, nameProblem, normalizeName } from "../common/names.ts";

/** Rules for what users type, shared by the sign-up form, the account page and the API. */

export { NAME_MAX_LENGTH, normalizeName };

/** An absolute http(s) URL that also passes `check`. */
export const httpUrl = (message: string, check: (url: URL) => boolean = () => true) =>
  z.string().refine((value) => {
    if (!URL.canParse(value)) return false;
    const url = new URL(value);
    return ["http:", "https:"].includes(url.protocol) && check(url);
  }, message);

const withoutCredentials = (url: URL) => url.username === "" && url.password === "";

/** Redirects must not carry a fragment (RFC 6749 section 3.1.2). */
export const redirectUrl = z
  .string()
  .max(2000)
  .pipe(
    httpUrl(
      "must be an absolute http(s) URL without a fragment or credentials",
      (url) => url.hash === "" && withoutCredentials(url),
    ),
  );

export const webhookUrl = z
  .string()
  .max(2000)
  .pipe(httpUrl("must be an absolute http(s) URL without credentials", withoutCredentials));

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

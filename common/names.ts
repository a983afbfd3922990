/**
 * The one rule for a person's first or last name, wherever a name is typed or received: the
 * app's profile form, what the app stores from Kinde (sign-in, webhooks, users:sync), and the
 * local Kinde server's sign-up, account page and Management API. Pure, no dependencies: the
 * browser bundle, the server and kinde-local all import it.
 *
 * A name is NFC-normalised and trimmed, at most NAME_MAX_LENGTH characters (code points), with
 * no control characters and none of the invisible marks that reorder or hide text (bidi
 * controls, zero-width space, word joiners, BOM) nor U+FFFD (what a broken encoding decodes
 * to). The zero-width non-joiner and joiner (U+200C, U+200D) stay: Persian and Indic names
 * and emoji sequences are spelled with them.
 * cleanName() turns anything into a name that passes nameProblem(), so a name the app stored
 * from Kinde is always one its own form accepts unchanged.
 */
export const NAME_MAX_LENGTH = 100;

const INVISIBLE = "\u200B\u200E\u200F\u202A-\u202E\u2060-\u2069\uFEFF\uFFFD";
const FORBIDDEN = new RegExp(`[\\p{Cc}${INVISIBLE}]`, "u");
const FORBIDDEN_ALL = new RegExp(`[\\p{Cc}${INVISIBLE}]`, "gu");
// Control characters that separate words (tab, line breaks) become a space when cleaning.
const BREAKS = /[\t\n\v\f\r\u0085]+/g;

export type NameProblem = "too-long" | "forbidden-characters";

/** What a typed name becomes before it is checked and stored. */
export function normalizeName(raw: string): string {
  return raw.normalize("NFC").trim();
}

export function nameLength(name: string): number {
  let length = 0;
  for (const _ of name) length++;
  return length;
}

/** Why a normalised name is not acceptable, or undefined. An empty name is the caller's call. */
export function nameProblem(name: string): NameProblem | undefined {
  if (nameLength(name) > NAME_MAX_LENGTH) return "too-long";
  if (FORBIDDEN.test(name)) return "forbidden-characters";
  return undefined;
}

/**
 * A name received from elsewhere (Kinde), made acceptable: line breaks and tabs become spaces,
 * other forbidden characters are dropped, and it is cut to NAME_MAX_LENGTH characters. Null
 * when nothing is left.
 */
export function cleanName(raw: string | null | undefined): string | null {
  if (raw == null) return null;
  let name = normalizeName(raw.normalize("NFC").replace(BREAKS, " ").replace(FORBIDDEN_ALL, ""));
  if (nameLength(name) > NAME_MAX_LENGTH) name = Array.from(name).slice(0, NAME_MAX_LENGTH).join("").trimEnd();
  return name === "" ? null : name;
}

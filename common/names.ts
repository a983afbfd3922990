// The one rule for names, typed or received, in the app and kinde-local: docs/decisions/0017-one-name-rule.md.
// The zero-width non-joiner and joiner (U+200C, U+200D) stay: Persian and Indic names and emoji use them.
export const NAME_MAX_LENGTH = 100;

const INVISIBLE = "\u200B\u200E\u200F\u202A-\u202E\u2060-\u2069\uFEFF\uFFFD";
const FORBIDDEN = new RegExp(`[\\p{Cc}${INVISIBLE}]`, "u");
const FORBIDDEN_ALL = new RegExp(`[\\p{Cc}${INVISIBLE}]`, "gu");
const BREAKS = /[\t\n\v\f\r\u0085]+/g;

export type NameProblem = "too-long" | "forbidden-characters";

export function normalizeName(raw: string): string {
  return raw.normalize("NFC").trim();
}

export function nameLength(name: string): number {
  let length = 0;
  for (const _ of name) length++;
  return length;
}

export function nameProblem(name: string): NameProblem | undefined {
  if (nameLength(name) > NAME_MAX_LENGTH) return "too-long";
  if (FORBIDDEN.test(name)) return "forbidden-characters";
  return undefined;
}

export function cleanName(raw: string | null | undefined): string | null {
  if (raw == null) return null;
  let name = normalizeName(raw.normalize("NFC").replace(BREAKS, " ").replace(FORBIDDEN_ALL, ""));
  if (nameLength(name) > NAME_MAX_LENGTH) name = Array.from(name).slice(0, NAME_MAX_LENGTH).join("").trimEnd();
  return name === "" ? null : name;
}

/**
 * One rule for names (common/names.ts) across the three places that judge one: the local Kinde
 * server's sign-up (kinde-local/validation.ts), what the app stores from Kinde
 * (cleanKindeProfile) and the app's profile form (parseProfile).
 */
import { expect, it } from "vitest";
import { cleanName, NAME_MAX_LENGTH, nameLength, nameProblem, normalizeName } from "../../../common/names.ts";
import { nameError } from "../../../kinde-local/validation.ts";
import { cleanKindeProfile } from "~/lib/kinde-sync/user-facts.server";
import { parseProfile } from "~/lib/forms";

const profileForm = (firstName: string, lastName = "") => {
  const data = new FormData();
  data.set("firstName", firstName);
  data.set("lastName", lastName);
  return data;
};

/** Deterministic strings made of what breaks name handling; every other one has no forbidden character. */
function nastyNames(count: number): string[] {
  const safe = ["a", "Zoë", "e\u0301", "😀", " ", "-", "ß", "李", "O'", "\u2028", "👩\u200D💻", "\u200C"];
  const forbidden = ["\t", "\n", "\u0000", "\u200B", "\u202E", "\u2066", "\uFEFF", "\uFFFD", "\u0085"];
  let seed = 42;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
  return Array.from({ length: count }, (_, index) => {
    const pieces = index % 2 === 0 ? safe : [...safe, ...forbidden];
    return Array.from({ length: next() % 160 }, () => pieces[next() % pieces.length]).join("");
  });
}

it("normalises (NFC, trimmed) and measures in characters, not UTF-16 units", () => {
  expect(normalizeName("  Zoe\u0308 ")).toBe("Zoë");
  expect(nameLength("😀😀")).toBe(2);
  expect(nameProblem("a".repeat(NAME_MAX_LENGTH))).toBeUndefined();
  expect(nameProblem("a".repeat(NAME_MAX_LENGTH + 1))).toBe("too-long");
  expect(nameProblem("Ada\u200BLovelace")).toBe("forbidden-characters");
});

it("keeps the joiners that Persian and Indic names and emoji are spelled with", () => {
  for (const name of ["\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645", "\u0915\u094D\u200D\u0937", "👩\u200D💻"]) {
    expect(nameProblem(name)).toBeUndefined();
    expect(cleanName(name)).toBe(name);
  }
});

it("cleans what Kinde sends: breaks become spaces, invisible marks go, the length is cut", () => {
  expect(cleanName(" Ada\nLovelace ")).toBe("Ada Lovelace");
  expect(cleanName("Ev\u202Eil\u200B")).toBe("Evil");
  expect(cleanName("x".repeat(300))).toBe("x".repeat(NAME_MAX_LENGTH));
  expect(cleanName("   ")).toBeNull();
  expect(cleanName(null)).toBeNull();
});

it("a 60-character name from sign-up is stored, and the profile form saves it unchanged", () => {
  const firstName = "Maximiliane Theodora Wilhelmina Konstanze Friederike Augusta";
  expect(nameLength(firstName)).toBe(60);
  // Accepted by the local Kinde server's sign-up form...
  expect(nameError(normalizeName(firstName))).toBeUndefined();
  // ...stored as is by the app...
  const stored = cleanKindeProfile({ firstName, lastName: "L".repeat(60) });
  expect(stored).toEqual({ firstName, lastName: "L".repeat(60) });
  // ...and the form, sent back unchanged, saves it.
  expect(parseProfile(profileForm(stored.firstName!, stored.lastName!))).toEqual({
    ok: true,
    data: { firstName, lastName: "L".repeat(60) },
  });
});

it("whatever Kinde sends, the stored name is one the form and the local server accept unchanged", () => {
  let checked = 0;
  for (const raw of nastyNames(2_000)) {
    const stored = cleanKindeProfile({ firstName: raw }).firstName ?? null;
    if (stored === null) continue;
    checked++;
    expect(nameProblem(stored), JSON.stringify(raw)).toBeUndefined();
    expect(nameError(normalizeName(stored)), JSON.stringify(raw)).toBeUndefined();
    expect(parseProfile(profileForm(stored)), JSON.stringify(raw)).toEqual({
      ok: true,
      data: { firstName: stored, lastName: null },
    });
  }
  expect(checked).toBeGreaterThan(1_500);
});

it("whatever the local server accepts at sign-up, the app stores unchanged", () => {
  let accepted = 0;
  for (const raw of nastyNames(2_000)) {
    const typed = normalizeName(raw);
    if (typed === "" || nameError(typed) !== undefined) continue;
    accepted++;
    expect(cleanKindeProfile({ firstName: typed }).firstName, JSON.stringify(raw)).toBe(typed);
  }
  expect(accepted).toBeGreaterThan(200);
});

import { expect, it } from "vitest";
import { parseOrganizationName, parseProfile, parseProjectName } from "~/lib/forms";

const form = (fields: Record<string, string>) => {
  const data = new FormData();
  for (const [key, value] of Object.entries(fields)) data.set(key, value);
  return data;
};

it("trims, normalises and accepts a name; an empty last name is stored as none", () => {
  expect(parseProfile(form({ firstName: "  Zoë ", lastName: "" }))).toEqual({
    ok: true,
    data: { firstName: "Zoë", lastName: null },
  });
  expect(parseProfile(form({ firstName: "Ada", lastName: " Lovelace " }))).toEqual({
    ok: true,
    data: { firstName: "Ada", lastName: "Lovelace" },
  });
});

it("requires a first name", () => {
  const result = parseProfile(form({ firstName: "   ", lastName: "Kept" }));
  expect(result).toEqual({
    ok: false,
    errors: { firstName: "First name is required." },
    values: { firstName: "   ", lastName: "Kept" },
  });
  expect(parseProfile(form({ lastName: "x" }))).toMatchObject({
    ok: false,
    errors: { firstName: "First name is required." },
  });
});

it("limits names to 100 characters (code points: an emoji is one)", () => {
  expect(parseProfile(form({ firstName: "a".repeat(101), lastName: "b".repeat(101) }))).toMatchObject({
    ok: false,
    errors: {
      firstName: "First name must be at most 100 characters.",
      lastName: "Last name must be at most 100 characters.",
    },
  });
  expect(parseProfile(form({ firstName: "a".repeat(100) }))).toMatchObject({ ok: true });
  expect(parseProfile(form({ firstName: "😀".repeat(100) }))).toMatchObject({ ok: true });
});

it.each(["Bad\u0000Name", "Tab\tName", "Line\nBreak", "\u202Eevil", "zero\u200Bwidth", "broken\uFFFD"])(
  "refuses control and invisible characters: %j",
  (firstName) => {
    expect(parseProfile(form({ firstName }))).toMatchObject({
      ok: false,
      errors: { firstName: "First name contains characters that are not allowed." },
    });
  },
);

it("echoes at most 200 characters of the input back", () => {
  const result = parseProfile(form({ firstName: "x".repeat(10_000) }));
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.values.firstName).toHaveLength(200);
});

it("holds project and organization names to the same rule, with their own labels", () => {
  expect(parseProjectName(form({ name: "  Roadmap 2027 " }))).toEqual({ ok: true, data: { name: "Roadmap 2027" } });
  expect(parseOrganizationName(form({ orgName: "Acme Robotics" }))).toEqual({
    ok: true,
    data: { orgName: "Acme Robotics" },
  });
  expect(parseProjectName(form({}))).toMatchObject({ ok: false, errors: { name: "Project name is required." } });
  expect(parseProjectName(form({ name: "x".repeat(101) }))).toMatchObject({
    ok: false,
    errors: { name: "Project name must be at most 100 characters." },
  });
  expect(parseOrganizationName(form({ orgName: " \u200B " }))).toMatchObject({
    ok: false,
    errors: { orgName: "Organization name contains characters that are not allowed." },
    values: { orgName: " \u200B " },
  });
});

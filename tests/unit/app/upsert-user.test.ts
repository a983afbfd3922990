/** The upsert against a real SQLite file (tests/support/unit-env.ts gives each file its own). */
import { beforeEach, expect, it } from "vitest";
import { prisma } from "~/lib/database/client.server";
import { getUserByKindeId, upsertUserFromKinde } from "~/models/user.server";

let counter = 0;
const kindeId = () => `kp_${(++counter).toString(16).padStart(32, "0")}`;

beforeEach(async () => {
  await prisma.user.deleteMany();
});

it("creates the row on the first sign-in", async () => {
  const id = kindeId();
  const user = await upsertUserFromKinde({
    id,
    email: "Ada@Example.com ",
    given_name: " Ada ",
    family_name: "Lovelace",
    picture: null,
  });
  expect(user).toMatchObject({
    kindeId: id,
    email: "ada@example.com",
    firstName: "Ada",
    lastName: "Lovelace",
    picture: null,
  });
  expect(await prisma.user.count()).toBe(1);
});

it("updates names, email, picture and lastSignInAt on a later sign-in, keeping createdAt", async () => {
  const id = kindeId();
  const first = await upsertUserFromKinde(
    { id, email: "a@example.com", given_name: "Ada" },
    new Date("2026-01-01T00:00:00Z"),
  );
  const second = await upsertUserFromKinde(
    { id, email: "b@example.com", given_name: "Augusta", family_name: "King", picture: "https://img.example/a.png" },
    new Date("2026-02-01T00:00:00Z"),
  );
  expect(second).toMatchObject({
    id: first!.id,
    email: "b@example.com",
    firstName: "Augusta",
    lastName: "King",
    picture: "https://img.example/a.png",
  });
  expect(second!.createdAt).toEqual(first!.createdAt);
  expect(second!.lastSignInAt).toEqual(new Date("2026-02-01T00:00:00Z"));
  expect(await prisma.user.count()).toBe(1);
});

it("stores users without an email or names, any number of them", async () => {
  await upsertUserFromKinde({ id: kindeId(), email: "" });
  await upsertUserFromKinde({ id: kindeId(), email: null, given_name: "", family_name: "  " });
  await upsertUserFromKinde({ id: kindeId() });
  const users = await prisma.user.findMany();
  expect(users).toHaveLength(3);
  expect(users.map((user) => [user.email, user.firstName, user.lastName])).toEqual(Array(3).fill([null, null, null]));
});

it("gives the email to the newest identity when a re-created Kinde user reuses it", async () => {
  const oldId = kindeId();
  const newId = kindeId();
  await upsertUserFromKinde({ id: oldId, email: "reused@example.com", given_name: "Old" });
  await upsertUserFromKinde({ id: newId, email: "reused@example.com", given_name: "New" });
  expect(await getUserByKindeId(newId)).toMatchObject({ email: "reused@example.com", firstName: "New" });
  expect(await getUserByKindeId(oldId)).toMatchObject({ email: null, firstName: "Old" });
});

it("drops pictures that are not http(s) URLs", async () => {
  const user = await upsertUserFromKinde({ id: kindeId(), picture: "javascript:alert(1)" });
  expect(user!.picture).toBeNull();
});

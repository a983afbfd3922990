/**
 * getUserByKindeId is a raw query (the hot path of every signed-in page): it must give exactly
 * what Prisma's own read gives, on SQLite here (tests/support/unit-env.ts gives this file its
 * own database file; tests/integration/database.test.ts covers both databases through the app).
 */
import Database from "better-sqlite3";
import { afterEach, beforeEach, expect, it } from "vitest";
import { prisma } from "~/lib/database/client.server";
import { sqliteFile } from "~/lib/database/url";
import { getUserByKindeId } from "~/models/user.server";

const originalTz = process.env.TZ;

beforeEach(async () => {
  await prisma.user.deleteMany();
});
afterEach(() => {
  process.env.TZ = originalTz;
});

it("reads every column as Prisma does, nulls and dates included", async () => {
  const full = await prisma.user.create({
    data: {
      kindeId: "kp_full",
      email: "ada@example.com",
      firstName: "Ada",
      lastName: "Lovelace",
      picture: "https://img.example/ada.png",
      lastSignInAt: new Date("2026-01-02T03:04:05.678Z"),
      nameEditedAt: new Date("2026-01-03T00:00:00.001Z"),
      suspendedAt: new Date("2026-01-04T12:00:00Z"),
      kindeSyncedAt: new Date("2026-01-05T23:59:59.999Z"),
      kindeSyncedFrom: "sign-in",
    },
  });
  const bare = await prisma.user.create({ data: { kindeId: "kp_bare" } });

  expect(await getUserByKindeId("kp_full")).toEqual(full);
  expect(await getUserByKindeId("kp_bare")).toEqual(bare);
  expect(await getUserByKindeId("kp_bare")).toEqual(await prisma.user.findUnique({ where: { kindeId: "kp_bare" } }));
  expect(await getUserByKindeId("kp_nobody")).toBeNull();
});

it("reads SQLite's own timestamps (a row written by another tool) as UTC, whatever the server's time zone", async () => {
  const file = sqliteFile(process.env.DATABASE_URL!);
  const db = new Database(file);
  try {
    // CURRENT_TIMESTAMP's format, an ISO string, and milliseconds since 1970.
    db.prepare(
      `INSERT INTO "User" ("kindeId", "createdAt", "updatedAt", "lastSignInAt") VALUES ('kp_shell', '2026-01-02 03:04:05', '2026-01-02T03:04:05.000Z', 1767323045678)`,
    ).run();
  } finally {
    db.close();
  }
  process.env.TZ = "America/New_York";

  const user = await getUserByKindeId("kp_shell");
  expect(user?.createdAt.toISOString()).toBe("2026-01-02T03:04:05.000Z");
  expect(user?.updatedAt.toISOString()).toBe("2026-01-02T03:04:05.000Z");
  expect(user?.lastSignInAt?.toISOString()).toBe("2026-01-02T03:04:05.678Z");
  expect(user).toEqual(await prisma.user.findUnique({ where: { kindeId: "kp_shell" } }));
});

/**
 * SQLite is one connection here: an open interactive transaction must not swallow the queries
 * other requests make meanwhile (tests/support/unit-env.ts gives this file its own database).
 */
import { beforeEach, expect, it } from "vitest";
import { prisma } from "~/lib/database/client.server";
import { getUserByKindeId } from "~/models/user.server";

beforeEach(async () => {
  await prisma.user.deleteMany();
});

/** A few turns of the event loop: time for a query that is not held back to reach the database. */
async function letOtherWorkRun(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Opens a transaction that inserts a row, lets `during()` start queries outside it while it is
 * open, then rolls back. Returns what those outside queries returned.
 */
async function duringRolledBackTransaction<T>(during: () => Promise<T>): Promise<T> {
  let outside!: Promise<T>;
  await prisma
    .$transaction(async (tx) => {
      await tx.user.create({ data: { kindeId: "kp_inside" } });
      outside = during();
      await letOtherWorkRun();
      throw new Error("rolled back on purpose");
    })
    .catch((error: unknown) => {
      if (!(error instanceof Error) || error.message !== "rolled back on purpose") throw error;
    });
  return outside;
}

it("keeps a write made outside an open transaction when that transaction rolls back", async () => {
  await duringRolledBackTransaction(() => prisma.user.create({ data: { kindeId: "kp_outside" } }).then(() => null));
  expect((await prisma.user.findMany()).map((user) => user.kindeId)).toEqual(["kp_outside"]);
});

it("does not show a transaction's uncommitted rows to other readers", async () => {
  const seen = await duringRolledBackTransaction(() => prisma.user.findMany().then((users) => users));
  expect(seen).toEqual([]);
});

it("does not show a transaction's uncommitted row to the signed-in page's raw read", async () => {
  expect(await duringRolledBackTransaction(() => getUserByKindeId("kp_inside"))).toBeNull();
  expect(await getUserByKindeId("kp_inside")).toBeNull();
});

it("lets the queries held back meanwhile run once the transaction commits", async () => {
  let read!: Promise<string[]>;
  await prisma.$transaction(async (tx) => {
    await tx.user.create({ data: { kindeId: "kp_committed" } });
    read = prisma.user.findMany().then((users) => users.map((user) => user.kindeId));
    await letOtherWorkRun();
  });
  expect(await read).toEqual(["kp_committed"]);
});

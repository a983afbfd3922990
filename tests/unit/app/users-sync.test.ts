/**
 * users:sync's rules with a stand-in for Kinde's user list, against a real SQLite file. The
 * whole command against the local Kinde server: tests/integration/users-sync.test.ts.
 */
import { beforeEach, expect, it } from "vitest";
import { prisma } from "~/lib/database/client.server";
import { KindeManagementError, type KindeApiUser } from "~/lib/kinde-sync/management-api.server";
import { syncUsersFromKinde } from "~/lib/kinde-sync/users-sync.server";
import { getUserByKindeId, upsertUserFromKinde } from "~/models/user.server";

let counter = 0;
const kindeId = () => `kp_${(++counter).toString(16).padStart(32, "c")}`;

function kindeUser(id: string, overrides: Partial<KindeApiUser> = {}): KindeApiUser {
  return {
    id,
    email: `${id}@example.com`,
    firstName: "Ada",
    lastName: "Lovelace",
    picture: null,
    suspended: false,
    lastSignedIn: null,
    ...overrides,
  };
}

/** Kinde holding `users`, listed `perPage` at a time; `failAfterPage` breaks the listing. */
function fakeKinde(
  users: KindeApiUser[],
  options: { perPage?: number; failAfterPage?: number; alsoKnown?: string[] } = {},
) {
  const perPage = options.perPage ?? 2;
  const lookups: string[] = [];
  return {
    lookups,
    async *listUsers() {
      for (let start = 0, page = 1; start < users.length; start += perPage, page++) {
        if (page > (options.failAfterPage ?? Infinity))
          throw new KindeManagementError("Kinde answered 500 for the user list");
        yield users.slice(start, start + perPage);
      }
    },
    async userExists(id: string) {
      lookups.push(id);
      return users.some((user) => user.id === id) || (options.alsoKnown ?? []).includes(id);
    },
  };
}

const earlier = new Date(Date.now() - 60_000);
// The listing starts after the rows the test stored (a row stored in the very millisecond the
// listing starts is never a candidate for deletion).
const aMomentLater = () => new Date(Date.now() + 1);

beforeEach(async () => {
  await prisma.user.deleteMany();
  await prisma.deletedKindeIdentity.deleteMany();
});

it("creates missing rows, refreshes stale ones, tombstones the gone, and a second run changes nothing", async () => {
  const [kept, stale, missing, gone] = [kindeId(), kindeId(), kindeId(), kindeId()];
  for (const id of [kept, stale, gone]) {
    await upsertUserFromKinde({ id, email: `${id}@example.com`, given_name: "Ada", family_name: "Lovelace" }, earlier);
  }
  const kinde = fakeKinde([
    kindeUser(kept),
    kindeUser(stale, { firstName: "Augusta", suspended: true }),
    kindeUser(missing, { lastSignedIn: earlier }),
  ]);
  const first = await syncUsersFromKinde({ client: kinde, now: aMomentLater });
  expect(first).toMatchObject({ listed: 3, pages: 2, created: 1, updated: 1, unchanged: 1, tombstoned: 1 });
  expect(await getUserByKindeId(stale)).toMatchObject({ firstName: "Augusta", kindeSyncedFrom: "users:sync" });
  expect((await getUserByKindeId(stale))?.suspendedAt).not.toBeNull();
  expect(await getUserByKindeId(missing)).toMatchObject({ email: `${missing}@example.com`, lastSignInAt: earlier });
  expect(await getUserByKindeId(gone)).toBeNull();
  expect(await prisma.deletedKindeIdentity.count({ where: { kindeId: gone } })).toBe(1);
  expect(kinde.lookups).toEqual([gone]);

  const before = await prisma.user.findMany({ orderBy: { id: "asc" } });
  const second = await syncUsersFromKinde({ client: kinde, now: aMomentLater });
  expect(second).toMatchObject({ created: 0, updated: 0, unchanged: 3, tombstoned: 0 });
  expect(await prisma.user.findMany({ orderBy: { id: "asc" } })).toEqual(before);
});

it("writes nothing in a dry run and prints what it would change", async () => {
  const [stale, missing, gone] = [kindeId(), kindeId(), kindeId()];
  for (const id of [stale, gone]) await upsertUserFromKinde({ id, email: `${id}@example.com` }, earlier);
  const before = await prisma.user.findMany({ orderBy: { id: "asc" } });
  const lines: string[] = [];
  const summary = await syncUsersFromKinde({
    client: fakeKinde([kindeUser(stale, { firstName: "Augusta" }), kindeUser(missing)]),
    dryRun: true,
    log: (line) => lines.push(line),
    now: aMomentLater,
  });
  expect(summary).toMatchObject({ created: 1, updated: 1, tombstoned: 1, dryRun: true });
  expect(lines).toEqual(
    expect.arrayContaining([
      `would update ${stale}: firstName, lastName`,
      `would create ${missing}`,
      `would tombstone ${gone} (deleted at Kinde)`,
    ]),
  );
  expect(await prisma.user.findMany({ orderBy: { id: "asc" } })).toEqual(before);
  expect(await prisma.deletedKindeIdentity.count()).toBe(0);
});

it("deletes nothing when the listing breaks off", async () => {
  const ids = [kindeId(), kindeId(), kindeId()];
  for (const id of ids) await upsertUserFromKinde({ id, email: `${id}@example.com` }, earlier);
  const kinde = fakeKinde(
    ids.map((id) => kindeUser(id)),
    { perPage: 1, failAfterPage: 1 },
  );
  await expect(syncUsersFromKinde({ client: kinde, now: aMomentLater })).rejects.toThrow(KindeManagementError);
  expect(await prisma.user.count()).toBe(3);
  expect(await prisma.deletedKindeIdentity.count()).toBe(0);
});

it("keeps a row the listing missed while Kinde still has its user, and rows stored during the listing", async () => {
  const [listed, missed] = [kindeId(), kindeId()];
  for (const id of [listed, missed]) await upsertUserFromKinde({ id }, earlier);
  const summary = await syncUsersFromKinde({
    client: fakeKinde([kindeUser(listed)], { alsoKnown: [missed] }),
    now: aMomentLater,
  });
  expect(summary).toMatchObject({ tombstoned: 0, keptUnlisted: 1 });
  expect(await getUserByKindeId(missed)).not.toBeNull();

  // Signed up after the listing started: not in it, and not a candidate for deletion.
  const latecomer = kindeId();
  const kinde = fakeKinde([kindeUser(listed), kindeUser(missed)]);
  const started = new Date();
  await upsertUserFromKinde({ id: latecomer }, new Date(started.getTime() + 1000));
  await prisma.user.update({ where: { kindeId: latecomer }, data: { createdAt: new Date(started.getTime() + 1) } });
  expect(await syncUsersFromKinde({ client: kinde, now: () => started })).toMatchObject({ tombstoned: 0 });
  expect(kinde.lookups).toEqual([]);
});

it("never re-creates a tombstoned identity that Kinde still lists", async () => {
  const id = kindeId();
  await prisma.deletedKindeIdentity.create({ data: { kindeId: id, deletedAt: earlier } });
  expect(await syncUsersFromKinde({ client: fakeKinde([kindeUser(id)]) })).toMatchObject({ deleted: 1, created: 0 });
  expect(await getUserByKindeId(id)).toBeNull();
});

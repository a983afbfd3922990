/**
 * The one mechanism that applies what Kinde says about a user (sign-in, webhook, users:sync),
 * against a real SQLite file (tests/support/unit-env.ts gives this file its own).
 */
import { beforeEach, describe, expect, it } from "vitest";
import { prisma } from "~/lib/database/client.server";
import { cleanKindeProfile, type KindeFactsSource, type KindeUserFacts } from "~/lib/kinde-sync/user-facts.server";
import {
  applyKindeUserFacts,
  deleteOwnAccount,
  forgetKindeUser,
  getUserByKindeId,
  updateUserName,
  upsertUserFromKinde,
} from "~/models/user.server";

let counter = 0;
const kindeId = () => `kp_${(++counter).toString(16).padStart(32, "a")}`;
const at = (minute: number) => new Date(Date.UTC(2026, 10, 29, 12, minute));

type Raw = Parameters<typeof cleanKindeProfile>[0];
/** What Kinde says at `minute` from `source`: only the fields `raw` carries. */
const facts = (source: KindeFactsSource, id: string, minute: number, raw: Raw): KindeUserFacts => ({
  kindeId: id,
  observedAt: at(minute),
  source,
  profile: cleanKindeProfile(raw),
  createIfMissing: true,
});
const webhook = (id: string, minute: number, raw: Raw) => facts("webhook user.updated", id, minute, raw);
const sync = (id: string, minute: number, raw: Raw) => facts("users:sync", id, minute, raw);

const signIn = (id: string, minute: number, names: { given_name?: string; family_name?: string } = {}) =>
  upsertUserFromKinde({ id, email: `${id}@example.com`, ...names }, at(minute), at(minute));

beforeEach(async () => {
  await prisma.user.deleteMany();
  await prisma.deletedKindeIdentity.deleteMany();
  await prisma.accountDeletion.deleteMany();
});

describe("ordering", () => {
  it("keeps the newer data when an older update arrives after it", async () => {
    const id = kindeId();
    await applyKindeUserFacts(webhook(id, 10, { firstName: "Newer", email: "new@example.com" }));
    const late = await applyKindeUserFacts(webhook(id, 5, { firstName: "Older", email: "old@example.com" }));
    expect(late.outcome).toBe("older");
    expect(await getUserByKindeId(id)).toMatchObject({
      firstName: "Newer",
      email: "new@example.com",
      kindeSyncedAt: at(10),
      kindeSyncedFrom: "webhook user.updated",
    });
  });

  it("applies only the fields an event carries", async () => {
    const id = kindeId();
    await applyKindeUserFacts(webhook(id, 1, { firstName: "Ada", lastName: "Lovelace", email: "ada@example.com" }));
    await applyKindeUserFacts(webhook(id, 2, { lastName: "King" }));
    expect(await getUserByKindeId(id)).toMatchObject({ firstName: "Ada", lastName: "King", email: "ada@example.com" });
  });

  it("does not let an old ID token overwrite what a newer webhook stored, but still records the sign-in", async () => {
    const id = kindeId();
    await applyKindeUserFacts(webhook(id, 10, { firstName: "Renamed", email: `${id}@example.com` }));
    await upsertUserFromKinde({ id, email: `${id}@example.com`, given_name: "Stale" }, at(20), at(5));
    expect(await getUserByKindeId(id)).toMatchObject({ firstName: "Renamed", lastSignInAt: at(20) });
  });

  it("lets a second sign-in within the same second win (ID tokens count whole seconds)", async () => {
    const id = kindeId();
    await signIn(id, 1, { given_name: "Before" });
    await signIn(id, 1, { given_name: "After" });
    expect((await getUserByKindeId(id))?.firstName).toBe("After");
  });

  it("moves lastSignInAt only forward, and a bare sign-in event creates no row", async () => {
    const id = kindeId();
    const signedIn = (minute: number): KindeUserFacts => ({
      ...facts("webhook user.authenticated", id, minute, {}),
      signedInAt: at(minute),
      createIfMissing: false,
    });
    expect((await applyKindeUserFacts(signedIn(1))).outcome).toBe("unknown");
    expect(await getUserByKindeId(id)).toBeNull();
    await signIn(id, 10);
    await applyKindeUserFacts(signedIn(5));
    expect((await getUserByKindeId(id))?.lastSignInAt).toEqual(at(10));
    await applyKindeUserFacts(signedIn(15));
    expect(await getUserByKindeId(id)).toMatchObject({ lastSignInAt: at(15), kindeSyncedFrom: "sign-in" });
  });
});

it("keeps a name edited in the app when Kinde's name changes, and still follows the email", async () => {
  const id = kindeId();
  await signIn(id, 1, { given_name: "Kinde" });
  await updateUserName(id, { firstName: "Mine", lastName: null });
  await applyKindeUserFacts(webhook(id, 2, { firstName: "Changed", email: "changed@example.com" }));
  expect(await getUserByKindeId(id)).toMatchObject({ firstName: "Mine", email: "changed@example.com" });
});

it("records a suspension and lifts it only with newer news", async () => {
  const id = kindeId();
  await signIn(id, 1);
  await applyKindeUserFacts(webhook(id, 10, { suspended: true }));
  expect((await getUserByKindeId(id))?.suspendedAt).toEqual(at(10));

  // A token issued before the suspension does not lift it; a later one does.
  expect((await upsertUserFromKinde({ id }, at(11), at(9)))?.suspendedAt).toEqual(at(10));
  expect((await upsertUserFromKinde({ id }, at(12), at(12)))?.suspendedAt).toBeNull();

  await applyKindeUserFacts(webhook(id, 20, { suspended: true }));
  await applyKindeUserFacts(webhook(id, 15, { suspended: false }));
  expect((await getUserByKindeId(id))?.suspendedAt).toEqual(at(20));
  await applyKindeUserFacts(webhook(id, 25, { suspended: false }));
  expect((await getUserByKindeId(id))?.suspendedAt).toBeNull();
});

describe("tombstones", () => {
  it("deletes the row, and nothing re-creates it: not a sign-in, not a webhook, not a sync", async () => {
    const id = kindeId();
    await signIn(id, 1);
    expect(await forgetKindeUser(id, at(2))).toEqual({ rowDeleted: true, newlyTombstoned: true });
    expect(await forgetKindeUser(id, at(3))).toEqual({ rowDeleted: false, newlyTombstoned: false });

    expect(await signIn(id, 5)).toBeNull();
    expect(await applyKindeUserFacts(webhook(id, 6, { firstName: "Ghost" }))).toEqual({ outcome: "deleted" });
    expect(await applyKindeUserFacts(sync(id, 7, { firstName: "Ghost" }))).toEqual({ outcome: "deleted" });
    expect(await prisma.user.count({ where: { kindeId: id } })).toBe(0);
    expect(await prisma.deletedKindeIdentity.findMany({ where: { kindeId: id } })).toEqual([
      expect.objectContaining({ kindeId: id, deletedAt: at(2) }),
    ]);
  });

  it("lets a new identity with the deleted one's email sign up", async () => {
    const oldId = kindeId();
    const newId = kindeId();
    await upsertUserFromKinde({ id: oldId, email: "same@example.com" }, at(1), at(1));
    await forgetKindeUser(oldId, at(2));
    const user = await upsertUserFromKinde({ id: newId, email: "same@example.com" }, at(3), at(3));
    expect(user).toMatchObject({ kindeId: newId, email: "same@example.com" });
  });
});

it("moves an email reused by another identity to the newer news, and older news for the old holder does not take it back", async () => {
  const oldId = kindeId();
  const newId = kindeId();
  await applyKindeUserFacts(webhook(oldId, 1, { email: "shared@example.com", firstName: "Old" }));
  await applyKindeUserFacts(webhook(newId, 3, { email: "shared@example.com", firstName: "New" }));
  expect(await getUserByKindeId(oldId)).toMatchObject({ email: null, firstName: "Old" });

  await applyKindeUserFacts(webhook(oldId, 2, { email: "shared@example.com", firstName: "Old again" }));
  expect(await getUserByKindeId(newId)).toMatchObject({ email: "shared@example.com" });
  expect(await getUserByKindeId(oldId)).toMatchObject({ email: null, firstName: "Old again" });
});

describe("users:sync news", () => {
  it("writes only differences, so that a repeat changes nothing", async () => {
    const id = kindeId();
    await signIn(id, 1, { given_name: "Ada" });
    const before = await getUserByKindeId(id);
    const same = await applyKindeUserFacts(
      sync(id, 5, { email: `${id}@example.com`, firstName: "Ada", lastName: null }),
    );
    expect(same.outcome).toBe("unchanged");
    expect(await getUserByKindeId(id)).toEqual(before);

    const renamed = await applyKindeUserFacts(sync(id, 6, { firstName: "Augusta" }));
    expect(renamed).toMatchObject({ outcome: "updated", changed: ["firstName"] });
    expect(await getUserByKindeId(id)).toMatchObject({ firstName: "Augusta", kindeSyncedFrom: "users:sync" });
  });

  it("writes nothing in a dry run, yet says what it would do", async () => {
    const id = kindeId();
    expect((await applyKindeUserFacts(sync(id, 1, { firstName: "New" }), { dryRun: true })).outcome).toBe("created");
    expect(await prisma.user.count()).toBe(0);
    await signIn(id, 2, { given_name: "Ada" });
    const before = await getUserByKindeId(id);
    const planned = await applyKindeUserFacts(sync(id, 3, { firstName: "Augusta" }), { dryRun: true });
    expect(planned).toMatchObject({ outcome: "updated", changed: ["firstName"] });
    expect(await getUserByKindeId(id)).toEqual(before);
  });
});

describe("concurrency", () => {
  it("ends twenty simultaneous first sign-ins of one person, and a webhook among them, on one row", async () => {
    const id = kindeId();
    const results = await Promise.allSettled([
      ...Array.from({ length: 20 }, () => upsertUserFromKinde({ id, email: "once@example.com", given_name: "Once" })),
      applyKindeUserFacts(webhook(id, 1, { firstName: "Hook", email: "once@example.com" })),
    ]);
    expect(results.filter((result) => result.status === "rejected")).toEqual([]);
    expect(await prisma.user.count({ where: { kindeId: id } })).toBe(1);
    // The sign-ins carry the newest time (now), so their name is the one stored.
    expect((await getUserByKindeId(id))?.firstName).toBe("Once");
  });

  it("never re-creates an identity deleted while its first sign-ins were in flight", async () => {
    const id = kindeId();
    await Promise.allSettled([
      ...Array.from({ length: 10 }, () => upsertUserFromKinde({ id, email: "gone@example.com" })),
      forgetKindeUser(id, at(1)),
      ...Array.from({ length: 10 }, () => upsertUserFromKinde({ id, email: "gone@example.com" })),
    ]);
    expect(await prisma.user.count({ where: { kindeId: id } })).toBe(0);
  });
});

describe("an account deleted in the app", () => {
  it("is not brought back by Kinde's news, nor by a sign-in from before the deletion", async () => {
    const id = kindeId();
    await signIn(id, 1);
    expect(await deleteOwnAccount(id, at(10))).toBe(true);

    expect((await applyKindeUserFacts(webhook(id, 20, { firstName: "Renamed at Kinde" }))).outcome).toBe("left");
    expect((await applyKindeUserFacts(sync(id, 30, { firstName: "Listed" }))).outcome).toBe("left");
    // A token issued before the deletion (another browser still signed in).
    expect(await upsertUserFromKinde({ id, email: `${id}@example.com` }, at(40), at(5))).toBeNull();
    expect(await getUserByKindeId(id)).toBeNull();
    expect(await prisma.accountDeletion.count({ where: { kindeId: id } })).toBe(1);
  });

  it("comes back as a new, empty profile at the person's next sign-in, which lifts the record", async () => {
    const id = kindeId();
    await signIn(id, 1, { given_name: "First" });
    await updateUserName(id, { firstName: "Edited", lastName: null });
    await deleteOwnAccount(id, at(10));

    const user = await signIn(id, 11, { given_name: "Again" });
    expect(user).toMatchObject({ firstName: "Again", nameEditedAt: null, lastSignInAt: at(11) });
    expect(await prisma.accountDeletion.count({ where: { kindeId: id } })).toBe(0);
    // From then on Kinde's news applies as to anyone.
    expect((await applyKindeUserFacts(webhook(id, 12, { firstName: "Renamed" }))).outcome).toBe("updated");
  });

  it("gives way to a deletion at Kinde: the tombstone stays, the record goes", async () => {
    const id = kindeId();
    await signIn(id, 1);
    await deleteOwnAccount(id, at(10));
    await forgetKindeUser(id, at(20));
    expect(await prisma.accountDeletion.count({ where: { kindeId: id } })).toBe(0);
    expect((await applyKindeUserFacts(webhook(id, 30, { firstName: "Late" }))).outcome).toBe("deleted");
  });
});

/**
 * users:sync's organization rules with a stand-in for Kinde's lists, against a real SQLite file. The
 * whole command against the local Kinde server: tests/integration/organizations-sync.test.ts.
 */
import { beforeEach, expect, it } from "vitest";
import { prisma } from "~/lib/database/client.server";
import { KindeManagementError, type KindeApiMember } from "~/lib/kinde-sync/management-api.server";
import { syncOrganizationsFromKinde } from "~/lib/kinde-sync/organizations-sync.server";
import { listMembershipsOf, syncMembershipsFromSignIn } from "~/models/organization.server";
import { upsertUserFromKinde } from "~/models/user.server";

const [KEPT, GONE, UNLISTED] = ["org_00000000a01", "org_00000000a02", "org_00000000a03"];
const earlier = new Date(Date.now() - 60_000);
const aMomentLater = () => new Date(Date.now() + 1);

/** Kinde holding `organizations` and their members; `failMembers` breaks one member listing. */
function fakeKinde(
  organizations: { code: string; name: string; members: KindeApiMember[] }[],
  options: { alsoKnown?: string[]; failMembers?: string } = {},
) {
  const lookups: string[] = [];
  return {
    lookups,
    async *listOrganizations() {
      yield organizations.map(({ code, name }) => ({ code, name }));
    },
    async *listMembers(code: string) {
      if (code === options.failMembers) throw new KindeManagementError(`Kinde answered 500 for the members of ${code}`);
      yield organizations.find((organization) => organization.code === code)?.members ?? [];
    },
    async organizationExists(code: string) {
      lookups.push(code);
      return (options.alsoKnown ?? []).includes(code);
    },
  };
}

async function personIn(codes: string[], kindeId: string, at = earlier) {
  const user = await upsertUserFromKinde({ id: kindeId, email: `${kindeId}@example.com` }, at, at, {
    organizations: codes.map((code) => ({ code, name: null })),
    current: null,
  });
  return user!.id;
}

beforeEach(async () => {
  await prisma.user.deleteMany();
  await prisma.organization.deleteMany();
  await prisma.deletedKindeOrganization.deleteMany();
});

it("deletes an organization only after a complete listing, and only once Kinde confirms it is gone", async () => {
  const id = "kp_0000000000000000000000000000a001";
  await personIn([KEPT, GONE, UNLISTED], id);
  const broken = fakeKinde([{ code: KEPT, name: "Kept", members: [{ kindeId: id }] }], { failMembers: KEPT });
  await expect(syncOrganizationsFromKinde({ client: broken, now: aMomentLater })).rejects.toThrow(KindeManagementError);
  expect(broken.lookups).toEqual([]);
  expect(await prisma.organization.count()).toBe(3);

  const kinde = fakeKinde([{ code: KEPT, name: "Kept", members: [{ kindeId: id }] }], { alsoKnown: [UNLISTED] });
  const summary = await syncOrganizationsFromKinde({ client: kinde, now: aMomentLater });
  expect(summary).toMatchObject({ listed: 1, renamed: 1, tombstoned: 1, keptUnlisted: 1 });
  expect(kinde.lookups.sort()).toEqual([GONE, UNLISTED]);
  expect((await prisma.organization.findMany({ orderBy: { kindeCode: "asc" } })).map((o) => o.kindeCode)).toEqual([
    KEPT,
    UNLISTED,
  ]);
  expect(await prisma.deletedKindeOrganization.count({ where: { kindeCode: GONE } })).toBe(1);
});

it("leaves the memberships of a person whose sign-in is newer than the listing, and counts them", async () => {
  const id = "kp_0000000000000000000000000000a002";
  const userId = await personIn([KEPT], id);
  const listedAt = new Date();
  await syncMembershipsFromSignIn(
    userId,
    { organizations: [{ code: KEPT, name: null }], current: null },
    new Date(listedAt.getTime() + 1000),
  );
  const kinde = fakeKinde([
    { code: KEPT, name: "Kept", members: [] },
    { code: GONE, name: "Other", members: [{ kindeId: id, roleKeys: ["admin"] }] },
  ]);
  const dry = await syncOrganizationsFromKinde({ client: kinde, now: () => listedAt, dryRun: true });
  expect(dry.memberships).toEqual({ added: 0, removed: 0, rolesChanged: 0, newer: 2 });
  const summary = await syncOrganizationsFromKinde({ client: kinde, now: () => listedAt });
  expect(summary.memberships).toEqual({ added: 0, removed: 0, rolesChanged: 0, newer: 2 });
  expect((await listMembershipsOf(userId)).map((m) => m.organization.kindeCode)).toEqual([KEPT]);
});

it("never stores again an organization deleted here before, even when Kinde still lists it", async () => {
  const id = "kp_0000000000000000000000000000a003";
  await personIn([], id);
  await prisma.deletedKindeOrganization.create({ data: { kindeCode: GONE, deletedAt: earlier } });
  const kinde = fakeKinde([{ code: GONE, name: "Back", members: [{ kindeId: id }] }]);
  const summary = await syncOrganizationsFromKinde({ client: kinde, now: aMomentLater });
  expect(summary).toMatchObject({ listed: 1, created: 0, deletedBefore: 1, memberships: { added: 0 } });
  expect(await prisma.organization.count()).toBe(0);
  expect(await prisma.membership.count()).toBe(0);
});

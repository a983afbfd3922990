// Organizations and memberships from Kinde's tokens and webhooks, against a real SQLite file (tests/support/unit-env.ts).
import { beforeEach, describe, expect, it } from "vitest";
import { prisma } from "~/lib/database/client.server";
import { membershipFactsFromTokens } from "~/lib/kinde-sync/organization-facts.server";
import {
  applyKindeOrganizationFacts,
  forgetKindeOrganization,
  getMembership,
  getOrganizationByCode,
  listMembershipsOf,
  syncMembershipsFromSignIn,
} from "~/models/organization.server";
import { deleteOwnAccount, upsertUserFromKinde } from "~/models/user.server";

let counter = 0;
const kindeId = () => `kp_${(++counter).toString(16).padStart(32, "b")}`;
const at = (minute: number) => new Date(Date.UTC(2026, 11, 7, 12, minute));
const ORG_A = "org_aaaaaaaaaaa";
const ORG_B = "org_bbbbbbbbbbb";
const role = (key: string) => ({ id: `role_${key}`, key, name: key });

async function signedInUser(): Promise<{ id: number; kindeId: string }> {
  const id = kindeId();
  const user = await upsertUserFromKinde({ id, email: `${id}@example.com` }, at(0), at(0));
  return { id: user!.id, kindeId: id };
}

const tokens = (orgCodes: string[], current: string | null, roles: ReturnType<typeof role>[] = [], extra = {}) =>
  membershipFactsFromTokens({ org_code: current, roles }, { org_codes: orgCodes, ...extra });

const webhook = (code: string, minute: number, name?: string | null) =>
  applyKindeOrganizationFacts({ code, name, observedAt: at(minute), source: "webhook organization.updated" });

beforeEach(async () => {
  await prisma.user.deleteMany();
  await prisma.organization.deleteMany();
  await prisma.deletedKindeOrganization.deleteMany();
});

describe("membershipFactsFromTokens", () => {
  it("takes org_codes with the names of `organizations`, and the roles of the access token's organization", () => {
    const facts = membershipFactsFromTokens(
      { org_code: ORG_B, roles: [role("member"), role("admin"), { key: 5 }, "x"], org_name: "Ignored name" },
      { org_codes: [ORG_A, ORG_B, "not-a-code", 7], organizations: [{ id: ORG_A, name: "  Alpha " }] },
    );
    expect(facts).toEqual({
      organizations: [
        { code: ORG_A, name: "Alpha" },
        { code: ORG_B, name: "Ignored name" },
      ],
      current: { code: ORG_B, roleKeys: ["admin", "member"] },
    });
  });

  it("gives no current organization when the access token's is not among the ID token's", () => {
    expect(tokens([ORG_A], ORG_B, [role("admin")]).current).toBeNull();
    expect(membershipFactsFromTokens({}, {})).toEqual({ organizations: [], current: null });
  });
});

describe("memberships at sign-in", () => {
  it("adds the token's organizations, changes roles, and removes the ones the token no longer lists", async () => {
    const user = await signedInUser();
    await syncMembershipsFromSignIn(
      user.id,
      tokens([ORG_A, ORG_B], ORG_A, [role("member")], { organizations: [{ id: ORG_A, name: "Alpha" }] }),
      at(1),
    );
    expect(await listMembershipsOf(user.id)).toEqual([
      { organization: { kindeCode: ORG_A, name: "Alpha" }, roleKeys: ["member"] },
      { organization: { kindeCode: ORG_B, name: null }, roleKeys: null },
    ]);

    await syncMembershipsFromSignIn(user.id, tokens([ORG_A, ORG_B], ORG_B, [role("admin")]), at(2));
    await syncMembershipsFromSignIn(user.id, tokens([ORG_A, ORG_B], ORG_A, [role("admin"), role("member")]), at(3));
    expect(await listMembershipsOf(user.id)).toEqual([
      { organization: { kindeCode: ORG_A, name: "Alpha" }, roleKeys: ["admin", "member"] },
      { organization: { kindeCode: ORG_B, name: null }, roleKeys: ["admin"] },
    ]);

    await syncMembershipsFromSignIn(user.id, tokens([ORG_B], ORG_B, [role("admin")]), at(4));
    expect(await getMembership(user.id, ORG_A)).toBeNull();
    expect((await listMembershipsOf(user.id)).map((m) => m.organization.kindeCode)).toEqual([ORG_B]);
    expect(await getOrganizationByCode(ORG_A)).toMatchObject({ name: "Alpha" });
  });

  it("lets an older token change nothing", async () => {
    const user = await signedInUser();
    await syncMembershipsFromSignIn(user.id, tokens([ORG_B], ORG_B, [role("admin")]), at(5));
    expect(await syncMembershipsFromSignIn(user.id, tokens([ORG_A], ORG_A, [role("member")]), at(4))).toBe("older");
    expect(await listMembershipsOf(user.id)).toEqual([
      { organization: { kindeCode: ORG_B, name: null }, roleKeys: ["admin"] },
    ]);
  });

  it("moves the memberships' time forward on a sign-in that matches them, so older tokens still change nothing", async () => {
    const id = kindeId();
    const signIn = (minute: number, facts: ReturnType<typeof tokens>) =>
      upsertUserFromKinde({ id, email: `${id}@example.com` }, at(minute), at(minute), facts);
    const adminOfB = tokens([ORG_B], ORG_B, [role("admin")]);
    await signIn(1, adminOfB);
    await signIn(5, adminOfB);
    const user = await signIn(3, adminOfB);
    expect(await prisma.user.findUnique({ where: { id: user!.id } })).toMatchObject({ orgsSyncedAt: at(5) });

    await signIn(4, tokens([ORG_A], ORG_A, [role("member")]));
    expect(await listMembershipsOf(user!.id)).toEqual([
      { organization: { kindeCode: ORG_B, name: null }, roleKeys: ["admin"] },
    ]);
    await signIn(5, tokens([ORG_B], ORG_B, [role("member")]));
    expect(await listMembershipsOf(user!.id)).toEqual([
      { organization: { kindeCode: ORG_B, name: null }, roleKeys: ["member"] },
    ]);
  });

  it("keeps a person out of an organization deleted at Kinde, whatever their token says", async () => {
    const user = await signedInUser();
    await forgetKindeOrganization(ORG_A, at(1));
    await syncMembershipsFromSignIn(user.id, tokens([ORG_A, ORG_B], ORG_A, [role("admin")]), at(2));
    expect((await listMembershipsOf(user.id)).map((m) => m.organization.kindeCode)).toEqual([ORG_B]);
    expect(await getOrganizationByCode(ORG_A)).toBeNull();
  });

  it("goes with the person's row", async () => {
    const user = await signedInUser();
    await syncMembershipsFromSignIn(user.id, tokens([ORG_A], ORG_A), at(1));
    await deleteOwnAccount(user.kindeId);
    expect(await prisma.membership.count()).toBe(0);
    expect(await getOrganizationByCode(ORG_A)).not.toBeNull();
  });
});

describe("organization news", () => {
  it("upserts the name, and older news never overwrites newer", async () => {
    expect(await webhook(ORG_A, 10, "Newer")).toBe("created");
    expect(await webhook(ORG_A, 5, "Older")).toBe("older");
    expect(await getOrganizationByCode(ORG_A)).toMatchObject({
      name: "Newer",
      kindeSyncedAt: at(10),
      kindeSyncedFrom: "webhook organization.updated",
    });
    expect(await webhook(ORG_A, 11, "Newer")).toBe("unchanged");
    expect(await webhook(ORG_A, 12, "Newest")).toBe("updated");
    // A sign-in's token from before the rename does not undo it.
    const user = await signedInUser();
    await syncMembershipsFromSignIn(
      user.id,
      tokens([ORG_A], ORG_A, [], { organizations: [{ id: ORG_A, name: "Old" }] }),
      at(11),
    );
    expect(await getOrganizationByCode(ORG_A)).toMatchObject({ name: "Newest" });
  });

  it("deletes memberships and the row, and a tombstone keeps late news from bringing it back", async () => {
    const user = await signedInUser();
    await syncMembershipsFromSignIn(user.id, tokens([ORG_A], ORG_A), at(1));
    expect(await forgetKindeOrganization(ORG_A, at(2))).toEqual({ rowDeleted: true, newlyTombstoned: true });
    expect(await forgetKindeOrganization(ORG_A, at(2))).toEqual({ rowDeleted: false, newlyTombstoned: false });
    expect(await webhook(ORG_A, 3, "Back")).toBe("deleted");
    expect(await getOrganizationByCode(ORG_A)).toBeNull();
    expect(await listMembershipsOf(user.id)).toEqual([]);
  });
});

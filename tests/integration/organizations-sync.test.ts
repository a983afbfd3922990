// Membership changes made at Kinde reaching the app on SQLite and PostgreSQL: `npm run users:sync` through the
// Management API, and user.updated's `organizations`. Webhooks off: the app hears only what each test sends.
import { describe, expect, it } from "vitest";
import type { DatabaseProvider } from "../../app/lib/database/url";
import { kindeAdmin } from "../support/kinde-session.ts";
import { deliverWebhook, kindeEvent, signKindeEvent } from "../support/kinde-webhooks";
import { signInAs, type Person } from "../support/sign-in.ts";
import { signWithOtherKey } from "../support/tokens";
import { membershipsOf, newOrgCode, role, signInAgain } from "../support/organizations.ts";
import { useStack } from "../support/use-stack.ts";
import { runUsersSync } from "../support/npm-script.ts";

describe.each<DatabaseProvider>(["sqlite", "postgresql"])("on %s", (provider) => {
  const stack = useStack({ database: provider, webhooks: false });

  const inOrganization = (code: string) =>
    stack.database.query<{ kindeId: string; roles: string | null }>(
      `SELECT u."kindeId", m."roles" FROM "Membership" m JOIN "Organization" o ON o."id" = m."organizationId"
       JOIN "User" u ON u."id" = m."userId" WHERE o."kindeCode" = ? ORDER BY u."kindeId"`,
      code,
    );
  const organization = async (code: string) =>
    (
      await stack.database.query<{ name: string | null; kindeSyncedFrom: string | null }>(
        'SELECT "name", "kindeSyncedFrom" FROM "Organization" WHERE "kindeCode" = ?',
        code,
      )
    )[0];
  /** Everything the sync may write. */
  const everything = async () => ({
    organizations: await stack.database.query('SELECT * FROM "Organization" ORDER BY "id"'),
    memberships: await stack.database.query('SELECT * FROM "Membership" ORDER BY "id"'),
    users: await stack.database.query('SELECT * FROM "User" ORDER BY "id"'),
    tombstones: await stack.database.query('SELECT * FROM "DeletedKindeOrganization" ORDER BY "id"'),
  });

  describe("npm run users:sync", () => {
    it("adds, removes, renames and deletes as Kinde says; a dry run writes nothing; a second run changes nothing", async () => {
      const admin = await kindeAdmin(stack);
      const [ada, grace] = [await signInAs(stack), await signInAs(stack)];
      const [alpha, beta, gone] = [
        await admin.createOrganization("Alpha"),
        await admin.createOrganization("Beta"),
        await admin.createOrganization("Gone"),
      ];
      await admin.addMembers(alpha, [{ id: ada.kindeId, roles: ["admin"] }, { id: grace.kindeId }]);
      await admin.addMembers(gone, [{ id: ada.kindeId }]);

      const first = await runUsersSync(stack);
      expect(first.code, first.stderr).toBe(0);
      expect(await inOrganization(alpha)).toEqual(
        [
          { kindeId: ada.kindeId, roles: '["admin"]' },
          { kindeId: grace.kindeId, roles: '["member"]' },
        ].sort((a, b) => a.kindeId.localeCompare(b.kindeId)),
      );
      expect(await organization(alpha)).toEqual({ name: "Alpha", kindeSyncedFrom: "users:sync" });
      expect(await inOrganization(gone)).toEqual([{ kindeId: ada.kindeId, roles: '["member"]' }]);
      const idOf = 'SELECT "id" FROM "Organization" WHERE "kindeCode" = ?';
      const goneId = (await stack.database.query<{ id: unknown }>(idOf, gone))[0]!.id;

      // Changes at Kinde that no webhook tells the app about.
      await admin.addMembers(beta, [{ id: grace.kindeId, roles: ["admin"] }]);
      await admin.removeMember(alpha, ada.kindeId);
      await admin.renameOrganization(alpha, "Alpha Renamed");
      await admin.deleteOrganization(gone);

      const before = await everything();
      const dry = await runUsersSync(stack, ["--dry-run"]);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain(`would change ${alpha}: renamed, 1 removed`);
      expect(dry.stdout).toContain(`would change ${beta}: 1 added`);
      expect(dry.stdout).toContain(`would delete organization ${gone} (deleted at Kinde)`);
      expect(dry.stdout).toMatch(/Dry run, nothing written\. Would have: \d+ Kinde organizations in 1 page\(s\)/);
      expect(await everything()).toEqual(before);

      const second = await runUsersSync(stack);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toMatch(
        /Kinde organizations in 1 page\(s\): 0 created, 1 renamed, \d+ unchanged, 1 deleted; memberships: 1 added, 1 removed, 0 with new roles\./,
      );
      expect(await membershipsOf(stack.database, grace.kindeId)).toEqual(
        expect.arrayContaining([
          { kindeCode: alpha, name: "Alpha Renamed", roles: '["member"]' },
          { kindeCode: beta, name: "Beta", roles: '["admin"]' },
        ]),
      );
      expect(
        (await membershipsOf(stack.database, ada.kindeId)).map((membership) => membership.kindeCode),
      ).not.toContain(alpha);
      expect(await organization(gone)).toBeUndefined();
      const referencing = 'SELECT COUNT(*) AS "count" FROM "Membership" WHERE "organizationId" = ?';
      expect(Number((await stack.database.query<{ count: unknown }>(referencing, goneId))[0]!.count)).toBe(0);
      const tombstone = 'SELECT "kindeCode" FROM "DeletedKindeOrganization" WHERE "kindeCode" = ?';
      expect(await stack.database.query(tombstone, gone)).toEqual([{ kindeCode: gone }]);

      const synced = await everything();
      const third = await runUsersSync(stack);
      expect(third.code, third.stderr).toBe(0);
      expect(third.stdout).toMatch(
        /0 created, 0 renamed, \d+ unchanged, 0 deleted; memberships: 0 added, 0 removed, 0 with new roles\./,
      );
      expect(await everything()).toEqual(synced);
    });

    it("keeps a membership it added when a sign-in token from before the listing arrives later", async () => {
      const admin = await kindeAdmin(stack);
      const { person, kindeId } = await signInAs(stack);
      const code = await admin.createOrganization("Joined at Kinde");
      await admin.addMembers(code, [{ id: kindeId }]);
      const sync = await runUsersSync(stack);
      expect(sync.code, sync.stderr).toBe(0);
      expect(await inOrganization(code)).toEqual([{ kindeId, roles: '["member"]' }]);

      // A token issued before the listing, naming only config.json's default organization.
      await signInAgain(stack, person, kindeId, { issuedSecondsAgo: 60 });
      expect(await inOrganization(code)).toEqual([{ kindeId, roles: '["member"]' }]);
    });
  });

  describe("user.updated's organizations", () => {
    const userUpdated = (
      kindeId: string,
      person: Person,
      organizations: { code: string; roles: string[] | null }[] | undefined,
      timestamp: Date,
    ) =>
      kindeEvent(
        "user.updated",
        {
          id: kindeId,
          email: person.email,
          first_name: person.firstName,
          last_name: person.lastName,
          is_suspended: false,
          ...(organizations && {
            organizations: organizations.map((entry) => ({ ...entry, permissions: null })),
          }),
        },
        { timestamp },
      );

    it("makes the memberships the event's, once however often it is delivered; without the field they stay", async () => {
      const [a, b, c] = [newOrgCode(), newOrgCode(), newOrgCode()];
      const { person, kindeId } = await signInAs(
        stack,
        {},
        {
          claims: { orgCode: a, orgCodes: [a, b], roles: [role("member")], orgName: "" },
          idTokenClaims: {
            organizations: [
              { id: a, name: "Alpha" },
              { id: b, name: "Beta" },
            ],
          },
        },
      );
      const later = new Date(Date.now() + 2000);
      const event = await signKindeEvent(
        stack,
        userUpdated(
          kindeId,
          person,
          [
            { code: b, roles: ["admin"] },
            { code: c, roles: null },
          ],
          later,
        ),
      );
      const answers = await Promise.all(Array.from({ length: 3 }, () => deliverWebhook(stack, event)));
      expect(answers.map((answer) => (answer.body as { outcome: string }).outcome).sort()).toEqual([
        "duplicate",
        "duplicate",
        "unchanged",
      ]);
      expect(await membershipsOf(stack.database, kindeId)).toEqual([
        { kindeCode: b, name: "Beta", roles: '["admin"]' },
        { kindeCode: c, name: null, roles: null },
      ]);

      const withoutField = await signKindeEvent(
        stack,
        userUpdated(kindeId, { ...person, firstName: "Renamed" }, undefined, new Date(later.getTime() + 1000)),
      );
      expect((await deliverWebhook(stack, withoutField)).body).toEqual({ outcome: "updated" });
      expect(await membershipsOf(stack.database, kindeId)).toEqual([
        { kindeCode: b, name: "Beta", roles: '["admin"]' },
        { kindeCode: c, name: null, roles: null },
      ]);
    });

    it("changes nothing for an event older than the person's latest sign-in, and refuses a forged one", async () => {
      const [a, b] = [newOrgCode(), newOrgCode()];
      const { person, kindeId } = await signInAs(
        stack,
        {},
        {
          claims: { orgCode: a, orgCodes: [a], roles: [role("member")], orgName: "" },
          idTokenClaims: { organizations: [{ id: a, name: "Alpha" }] },
        },
      );
      const expected = [{ kindeCode: a, name: "Alpha", roles: '["member"]' }];

      const older = userUpdated(kindeId, person, [{ code: b, roles: ["admin"] }], new Date(Date.now() - 60_000));
      expect((await deliverWebhook(stack, await signKindeEvent(stack, older))).body).toEqual({ outcome: "older" });
      expect(await membershipsOf(stack.database, kindeId)).toEqual(expected);

      const forged = userUpdated(kindeId, person, [{ code: b, roles: ["admin"] }], new Date(Date.now() + 1000));
      const answer = await deliverWebhook(stack, await signWithOtherKey(forged, "forged-kid"));
      expect(answer.status).toBe(401);
      expect(await membershipsOf(stack.database, kindeId)).toEqual(expected);
    });
  });
});

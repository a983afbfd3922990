// Organizations and memberships as the app stores them, on SQLite and PostgreSQL: sign-in claims and Kinde's webhooks.
import { describe, expect, it } from "vitest";
import type { DatabaseProvider } from "../../app/lib/database/url";
import { type MintOptions } from "../support/kinde-session.ts";
import { textOf } from "../support/browser";
import { deliverWebhook, newEventId, signKindeEvent } from "../support/kinde-webhooks";
import { signInAs } from "../support/sign-in.ts";
import { membershipsOf, newOrgCode, role, signInAgain } from "../support/organizations.ts";
import { useStack } from "../support/use-stack.ts";

/** The claims of a person in `codes`, signed in to `current` with `roles` there. */
const orgClaims = (
  codes: string[],
  current: string,
  roles: string[],
  names: Record<string, string> = {},
): Pick<MintOptions, "claims" | "idTokenClaims"> => ({
  claims: { orgCode: current, orgCodes: codes, roles: roles.map(role), orgName: "" },
  idTokenClaims: { organizations: Object.entries(names).map(([id, name]) => ({ id, name })) },
});

describe.each<DatabaseProvider>(["sqlite", "postgresql"])("on %s", (provider) => {
  const stack = useStack({ database: provider });

  const organization = async (kindeCode: string) =>
    (
      await stack.database.query<{ name: string | null }>(
        'SELECT "name" FROM "Organization" WHERE "kindeCode" = ?',
        kindeCode,
      )
    )[0];

  function sendOrganizationEvent(type: string, organization: Record<string, unknown>, timestamp = new Date()) {
    const event = {
      data: { organization },
      event_id: newEventId(),
      source: "admin",
      timestamp: timestamp.toISOString(),
      type,
    };
    return signKindeEvent(stack, event);
  }

  it("makes the memberships match each sign-in's tokens: added, roles changed, removed", async () => {
    const [a, b] = [newOrgCode(), newOrgCode()];
    const { person, kindeId } = await signInAs(
      stack,
      {},
      orgClaims([a, b], a, ["member"], { [a]: "Alpha", [b]: "Beta" }),
    );
    expect(await membershipsOf(stack.database, kindeId)).toEqual([
      { kindeCode: a, name: "Alpha", roles: '["member"]' },
      { kindeCode: b, name: "Beta", roles: null },
    ]);

    await signInAgain(stack, person, kindeId, orgClaims([a, b], b, ["admin", "member"]));
    await signInAgain(stack, person, kindeId, orgClaims([a], a, ["admin"]));
    expect(await membershipsOf(stack.database, kindeId)).toEqual([{ kindeCode: a, name: "Alpha", roles: '["admin"]' }]);
    // The organization stays for its other members.
    expect(await organization(b)).toEqual({ name: "Beta" });
  });

  it("names the header's organizations from the database when the ID token gives only their codes", async () => {
    const code = newOrgCode();
    await signInAs(stack, {}, orgClaims([code], code, ["admin"], { [code]: "Named Before" }));
    const { page } = await signInAs(stack, {}, orgClaims([code], code, ["member"]));
    expect(page.url).toBe(`${stack.appUrl}/dashboard`);
    expect(textOf(page.html)).toContain("Organization: Named Before");
  });

  it("gives one membership per organization for 10 parallel sign-ins of two people into the same new organizations", async () => {
    const [a, b] = [newOrgCode(), newOrgCode()];
    const claims = orgClaims([a, b], a, ["member"], { [a]: "Alpha", [b]: "Beta" });
    const people = await Promise.all([signInAs(stack, {}, claims), signInAs(stack, {}, claims)]);
    const pages = await Promise.all(
      people.flatMap(({ browser }) =>
        Array.from({ length: 5 }, () => browser.get(`${stack.appUrl}/auth/success`, { follow: false })),
      ),
    );
    expect(pages.map((page) => `${page.status} ${page.headers.get("Location")}`)).toEqual(
      Array(10).fill("302 /dashboard"),
    );
    for (const { kindeId } of people) {
      expect(await membershipsOf(stack.database, kindeId)).toEqual([
        { kindeCode: a, name: "Alpha", roles: '["member"]' },
        { kindeCode: b, name: "Beta", roles: null },
      ]);
    }
    const rows = 'SELECT COUNT(*) AS "count" FROM "Organization" WHERE "kindeCode" IN (?, ?)';
    expect(Number((await stack.database.query<{ count: unknown }>(rows, a, b))[0]!.count)).toBe(2);
  });

  it("applies an organization webhook once, lets newer news win, and keeps a deleted organization deleted", async () => {
    const code = newOrgCode();
    const { kindeId } = await signInAs(stack, {}, orgClaims([code], code, ["admin"]));
    const now = Date.now();

    const created = await sendOrganizationEvent("organization.created", { code, name: "Once", handle: "once" });
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliverWebhook(stack, created)));
    expect(answers.map((answer) => (answer.body as { outcome: string }).outcome).sort()).toEqual([
      ...Array<string>(4).fill("duplicate"),
      "updated",
    ]);

    const newer = await sendOrganizationEvent("organization.updated", { code, name: "Newer" }, new Date(now + 2000));
    const older = await sendOrganizationEvent("organization.updated", { code, name: "Older" }, new Date(now + 1000));
    expect((await deliverWebhook(stack, newer)).body).toEqual({ outcome: "updated" });
    expect((await deliverWebhook(stack, older)).body).toEqual({ outcome: "older" });
    expect(await organization(code)).toEqual({ name: "Newer" });

    const deleted = await sendOrganizationEvent("organization.deleted", { code }, new Date(now + 3000));
    expect((await deliverWebhook(stack, deleted)).body).toEqual({ outcome: "deleted" });
    expect(await membershipsOf(stack.database, kindeId)).toEqual([]);
    expect(await organization(code)).toBeUndefined();
    const late = await sendOrganizationEvent("organization.updated", { code, name: "Back" }, new Date(now + 4000));
    expect((await deliverWebhook(stack, late)).body).toEqual({ outcome: "ignored (deleted organization)" });
    expect(await organization(code)).toBeUndefined();
    const tombstones = 'SELECT "kindeCode" FROM "DeletedKindeOrganization" WHERE "kindeCode" = ?';
    expect(await stack.database.query(tombstones, code)).toEqual([{ kindeCode: code }]);
  });
});

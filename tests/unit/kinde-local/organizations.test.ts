import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseClaimsConfig, rolesByKey } from "../../../kinde-local/config.ts";
import {
  addMember,
  claimsFor,
  createOrganization,
  creatorAccess,
  listOrganizations,
  membershipsOf,
  orgNameError,
  roleAccess,
} from "../../../kinde-local/organizations.ts";
import { Store } from "../../../kinde-local/store.ts";

const MEMBER = { id: "r1", key: "member", name: "Member" };
const ADMIN = { id: "r2", key: "admin", name: "Admin" };
const config = parseClaimsConfig(
  {
    organizations: [
      { code: "org_a", name: "A" },
      { code: "org_b", name: "B" },
    ],
    roles: [
      { ...MEMBER, permissions: ["read", "create"] },
      { ...ADMIN, permissions: ["read", "create", "delete"] },
    ],
    defaults: { org_code: "org_a", permissions: ["read"], roles: ["member"] },
    rules: [
      {
        emailEndsWith: "@boss.example",
        org_codes: ["org_a", "org_b"],
        permissions: ["read", "all-users"],
        roles: ["member", "admin"],
      },
    ],
  },
  "test",
);

async function setUp(email = "ada@example.com") {
  const dataDir = await mkdtemp(join(tmpdir(), "kinde-local-orgs-"));
  const store = await Store.open(dataDir, () => Date.UTC(2030, 0, 1), { refreshMs: 60_000, sessionMs: 60_000 });
  const user = await store.createUser({ email, givenName: null, familyName: null, passwordHash: null });
  return { store, user };
}

describe("organizations and memberships", () => {
  it("come from config.json until a membership is recorded", async () => {
    const { store, user } = await setUp("root@boss.example");
    expect(membershipsOf(config, store, user).map((membership) => membership.orgCode)).toEqual(["org_a", "org_b"]);
    await store.putMembership({ orgCode: "org_b", userId: user.id, roles: [], permissions: [], removed: true });
    expect(membershipsOf(config, store, user)).toEqual([
      { orgCode: "org_a", orgName: "A", roles: [MEMBER, ADMIN], permissions: ["read", "all-users"] },
    ]);
  });

  it("scope claims to the organization asked for, refusing one the person is not in", async () => {
    const { store, user } = await setUp();
    const made = await createOrganization(store, "Made", Date.UTC(2030, 0, 2));
    await addMember(store, made.code, user.id, creatorAccess(config));
    expect(claimsFor(config, store, user, null)).toMatchObject({
      orgCode: "org_a",
      roles: [MEMBER],
      permissions: ["read"],
    });
    expect(claimsFor(config, store, user, made.code)).toMatchObject({
      orgCode: made.code,
      orgName: "Made",
      roles: [ADMIN],
      permissions: ["read", "create", "delete"],
      orgCodes: ["org_a", made.code],
      organizations: [
        { id: "org_a", name: "A" },
        { id: made.code, name: "Made" },
      ],
    });
    expect(claimsFor(config, store, user, "org_b")).toBeUndefined();
  });

  it("fall back to the person's first organization when the default one is gone", async () => {
    const { store, user } = await setUp();
    const made = await createOrganization(store, "Only", Date.UTC(2030, 0, 2));
    await addMember(store, made.code, user.id, { roles: [MEMBER], permissions: [] });
    await store.putMembership({ orgCode: "org_a", userId: user.id, roles: [], permissions: [], removed: true });
    expect(claimsFor(config, store, user, null)?.orgCode).toBe(made.code);
  });

  it("list config.json's first; a deleted one disappears with its memberships", async () => {
    const { store, user } = await setUp();
    const made = await createOrganization(store, "Gone", Date.UTC(2030, 0, 2));
    expect(made.code).toMatch(/^org_[0-9a-f]{11}$/);
    await addMember(store, made.code, user.id, creatorAccess(config));
    expect(listOrganizations(config, store).map((organization) => organization.name)).toEqual(["A", "B", "Gone"]);
    await store.putOrganization({ ...made, deleted: true });
    expect(listOrganizations(config, store).map((organization) => organization.name)).toEqual(["A", "B"]);
    expect(membershipsOf(config, store, user).map((membership) => membership.orgCode)).toEqual(["org_a"]);
  });

  it("give a member what config.json's roles grant, and a creator exactly the admin role's", () => {
    expect(roleAccess(rolesByKey(config, ["member"]), ["extra"])).toEqual({
      roles: [MEMBER],
      permissions: ["extra", "read", "create"],
    });
    expect(roleAccess(rolesByKey(config, ["admin", "member"]))).toEqual({
      roles: [MEMBER, ADMIN],
      permissions: ["read", "create", "delete"],
    });
    expect(creatorAccess(config)).toEqual({ roles: [ADMIN], permissions: ["read", "create", "delete"] });
  });

  it("take names by the rule for people's names", () => {
    expect(orgNameError("Acme")).toBeUndefined();
    expect(orgNameError("")).toMatch(/Enter a name/);
    expect(orgNameError("x".repeat(101))).toMatch(/at most 100/);
    expect(orgNameError("a\u200bb")).toMatch(/invisible/);
  });
});

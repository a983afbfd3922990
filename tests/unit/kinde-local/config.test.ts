import { mkdtemp, readFile, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ClaimsConfigSource, ConfigError, parseClaimsConfig, resolveUserClaims } from "../../../kinde-local/config.ts";

const COMMITTED = fileURLToPath(new URL("../../../kinde-local/config.json", import.meta.url));

const MEMBER = { id: "r1", key: "member", name: "Member", permissions: ["read:profile", "create:things"] };
const ADMIN = { id: "r2", key: "admin", name: "Admin", permissions: ["delete:things"] };
const base = {
  organizations: [
    { code: "org_a", name: "A" },
    { code: "org_b", name: "B" },
  ],
  roles: [MEMBER, ADMIN],
  defaults: {
    org_code: "org_a",
    permissions: ["read:profile"],
    feature_flags: { theme: { t: "s", v: "pink" }, limit: { t: "i", v: 5 } },
  },
};

describe("the committed config.json", () => {
  it("is valid and makes @admin.example users admins", async () => {
    const config = parseClaimsConfig(JSON.parse(await readFile(COMMITTED, "utf8")), COMMITTED);
    const regular = resolveUserClaims(config, "someone@example.com");
    const admin = resolveUserClaims(config, "Boss@Admin.Example");
    expect(regular.permissions).not.toContain("read:users");
    expect(admin.permissions).toContain("read:users");
    expect(regular.featureFlags.theme).toEqual({ t: "s", v: "pink" });
    expect(regular.orgCodes).toContain(regular.orgCode);
  });

  it("lets every member create projects and only admins delete them, app-wide grants staying in the rule", async () => {
    const config = parseClaimsConfig(JSON.parse(await readFile(COMMITTED, "utf8")), COMMITTED);
    const grants = (key: string) => config.roles.find((role) => role.key === key)?.permissions;
    expect(grants("member")).toEqual(["read:profile", "update:profile", "create:projects"]);
    expect(grants("admin")).toEqual(["read:profile", "update:profile", "create:projects", "delete:projects"]);
    expect(resolveUserClaims(config, "someone@example.com").permissions).toEqual(grants("member"));
    expect(resolveUserClaims(config, "boss@admin.example").permissions).toEqual(
      expect.arrayContaining(["create:projects", "delete:projects", "read:users", "update:users"]),
    );
  });
});

describe("resolveUserClaims", () => {
  const config = parseClaimsConfig(
    {
      ...base,
      rules: [{ emailEndsWith: "@admin.example", permissions: ["read:profile", "read:users"] }],
      users: {
        "Dark@Example.com": { feature_flags: { is_dark_mode: { t: "b", v: true } } },
        "b@example.com": { org_code: "org_b", permissions: [], roles: ["admin", "member"] },
      },
    },
    "test",
  );

  it("starts from the defaults, org_code always among org_codes", () => {
    expect(resolveUserClaims(config, "x@example.com")).toEqual({
      orgCode: "org_a",
      orgName: "A",
      orgCodes: ["org_a"],
      organizations: [{ id: "org_a", name: "A" }],
      permissions: ["read:profile"],
      roles: [],
      featureFlags: { theme: { t: "s", v: "pink" }, limit: { t: "i", v: 5 } },
    });
  });

  it("applies matching rules, replacing the fields they name", () => {
    expect(resolveUserClaims(config, "root@admin.example").permissions).toEqual(["read:profile", "read:users"]);
  });

  it("applies a user's own entry (emails case-insensitive), merging flags", () => {
    expect(resolveUserClaims(config, "dark@example.com").featureFlags).toEqual({
      theme: { t: "s", v: "pink" },
      limit: { t: "i", v: 5 },
      is_dark_mode: { t: "b", v: true },
    });
    const b = resolveUserClaims(config, "B@example.com");
    expect(b).toMatchObject({ orgCode: "org_b", orgName: "B", orgCodes: ["org_b", "org_a"], permissions: [] });
  });

  it("names a layer's roles by key and gives them as config.json's roles list them, without permissions", () => {
    expect(resolveUserClaims(config, "b@example.com").roles).toEqual([
      { id: "r1", key: "member", name: "Member" },
      { id: "r2", key: "admin", name: "Admin" },
    ]);
  });
});

describe("applications and webhooks in the config file", () => {
  it("accepts regular and m2m applications and filtered webhook endpoints, both optional", () => {
    const config = parseClaimsConfig(
      {
        ...base,
        applications: [
          {
            client_id: "app2",
            client_secret: "s".repeat(40),
            callback_urls: ["http://localhost:5173/callback"],
            logout_urls: ["http://localhost:5173"],
          },
          { client_id: "m2m", client_secret: "m".repeat(40), type: "m2m", scopes: ["read:users"] },
        ],
        webhooks: [{ url: "http://localhost:3000/webhooks/kinde" }, { url: "http://x/y", events: ["user.deleted"] }],
      },
      "test",
    );
    expect(config.applications.map((application) => application.type)).toEqual(["regular", "m2m"]);
    expect(config.webhooks[1]?.events).toEqual(["user.deleted"]);
    expect(parseClaimsConfig(base, "test").applications).toEqual([]);
  });
});

describe("parseClaimsConfig errors", () => {
  const app = { client_id: "a", client_secret: "s".repeat(40), callback_urls: ["http://x/cb"] };

  it.each<[Record<string, unknown>, RegExp]>([
    [{ defaults: { org_code: "org_zzz" } }, /defaults: unknown organization org_zzz/],
    [{ defaults: { ...base.defaults, feature_flags: { Theme: { t: "s", v: "x" } } } }, /lowercase/],
    [{ defaults: { ...base.defaults, feature_flags: { n: { t: "i", v: 1.5 } } } }, /feature_flags/],
    [{ surprise: true }, /Invalid config file config.json/],
    [{ organizations: [] }, /organizations/],
    [{ users: { "a@x.com": {}, "A@x.com": {} } }, /listed twice/],
    [{ applications: [{ client_id: "a", client_secret: "s".repeat(40) }] }, /needs callback URLs/],
    [{ applications: [{ ...app, type: "m2m" }] }, /m2m application has no callback/],
    [{ applications: [app, { ...app, client_secret: "t".repeat(40) }] }, /listed twice/],
    [{ applications: [{ ...app, client_secret: "short" }] }, /client_secret/],
    [{ applications: [{ ...app, callback_urls: ["/cb"] }] }, /http\(s\) URL/],
    [{ webhooks: [{ url: "http://x/", events: ["user.exploded"] }] }, /webhooks/],
    [{ roles: [MEMBER] }, /roles: needs a role "admin"/],
    [{ roles: [MEMBER, ADMIN, { ...ADMIN, id: "r3" }] }, /roles: role keys must be unique/],
    [{ roles: [MEMBER, ADMIN, { ...ADMIN, key: "owner" }] }, /roles: role ids must be unique/],
    [{ roles: [{ ...ADMIN, permissions: ["has space"] }] }, /roles.0.permissions.0: must be 1-100 printable/],
    [{ roles: [{ ...ADMIN, grants: [] }] }, /roles.0/],
    [{ users: { "a@x.com": { roles: ["owner"] } } }, /users.a@x.com: unknown role owner/],
    [{ roles: undefined }, /roles/],
  ])("names the problem: %o", (fields, reason) => {
    const parse = () => parseClaimsConfig({ ...base, ...fields }, "config.json");
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(reason);
  });
});

describe("ClaimsConfigSource", () => {
  it("picks up edits and keeps the last good version when an edit is broken", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kinde-local-config-"));
    const path = join(dir, "config.json");
    await writeFile(path, JSON.stringify(base));
    const lines: string[] = [];
    const source = await ClaimsConfigSource.load(path, (line) => lines.push(line));
    expect((await source.current()).defaults.permissions).toEqual(["read:profile"]);

    await writeFile(path, JSON.stringify({ ...base, defaults: { ...base.defaults, permissions: ["p:1", "p:2"] } }));
    await utimes(path, new Date(), new Date(Date.now() + 5_000));
    expect((await source.current()).defaults.permissions).toEqual(["p:1", "p:2"]);

    await writeFile(path, "{ broken");
    await utimes(path, new Date(), new Date(Date.now() + 10_000));
    expect((await source.current()).defaults.permissions).toEqual(["p:1", "p:2"]);
    expect(lines.some((line) => line.includes("keeping the previous configuration"))).toBe(true);
  });

  it("fails to load a missing file with a clear error", async () => {
    await expect(ClaimsConfigSource.load("/nonexistent/config.json", () => {})).rejects.toThrow(/KINDE_LOCAL_CONFIG/);
  });
});

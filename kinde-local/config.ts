import { readFile, stat } from "node:fs/promises";
import { z } from "zod";
import { configApplicationSchema } from "./applications.ts";
import { webhookEndpointSchema } from "./webhook-events.ts";

/** The claims Kinde's dashboard would set; the file's format is in README.md. */

const orgCode = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 letters, digits, _ or -");
const permission = z.string().regex(/^[\x21-\x7e]{1,100}$/, "must be 1-100 printable characters without spaces");
const roleKey = z.string().min(1).max(100);
const role = z.strictObject({
  id: z.string().min(1).max(100),
  key: roleKey,
  name: z.string().min(1).max(200),
  permissions: z.array(permission).max(100),
});
/** The role an organization's creator gets. */
export const CREATOR_ROLE = "admin";
const flag = z.discriminatedUnion("t", [
  z.strictObject({ t: z.literal("b"), v: z.boolean() }),
  z.strictObject({ t: z.literal("i"), v: z.number().int() }),
  z.strictObject({ t: z.literal("s"), v: z.string().max(500) }),
]);
// The SDK lowercases a flag code before looking it up, so an uppercase key could never be read.
const flags = z.record(z.string().regex(/^[a-z0-9_:.-]{1,64}$/), flag, {
  error: (issue) =>
    issue.code === "invalid_key" ? "flag keys must be lowercase letters, digits, _ : . or -" : undefined,
});

const claimFields = {
  org_code: orgCode.optional(),
  org_codes: z.array(orgCode).max(50).optional(),
  permissions: z.array(permission).max(100).optional(),
  roles: z.array(roleKey).max(50).optional(),
  feature_flags: flags.optional(),
};
const override = z.strictObject(claimFields);

const configSchema = z
  .strictObject({
    $comment: z.string().optional(),
    organizations: z.array(z.strictObject({ code: orgCode, name: z.string().min(1).max(200) })).min(1),
    roles: z.array(role).max(50),
    defaults: z.strictObject({ ...claimFields, org_code: orgCode }),
    rules: z.array(z.strictObject({ ...claimFields, emailEndsWith: z.string().min(1).max(254) })).default([]),
    users: z.record(z.string().min(3).max(254), override).default({}),
    applications: z.array(configApplicationSchema).max(50).default([]),
    webhooks: z.array(webhookEndpointSchema).max(20).default([]),
  })
  .superRefine((config, context) => {
    const fail = (path: (string | number)[], message: string) => context.addIssue({ code: "custom", path, message });
    const known = new Set(config.organizations.map((organization) => organization.code));
    if (known.size !== config.organizations.length) fail(["organizations"], "organization codes must be unique");
    const roleKeys = new Set(config.roles.map((entry) => entry.key));
    const roleIds = new Set(config.roles.map((entry) => entry.id));
    if (roleKeys.size !== config.roles.length) fail(["roles"], "role keys must be unique");
    if (roleIds.size !== config.roles.length) fail(["roles"], "role ids must be unique");
    if (!roleKeys.has(CREATOR_ROLE))
      fail(["roles"], `needs a role "${CREATOR_ROLE}" (an organization's creator gets it)`);
    const check = (entry: z.infer<typeof override>, path: (string | number)[]) => {
      for (const code of [entry.org_code, ...(entry.org_codes ?? [])]) {
        if (code !== undefined && !known.has(code)) fail(path, `unknown organization ${code}`);
      }
      for (const key of entry.roles ?? []) if (!roleKeys.has(key)) fail(path, `unknown role ${key}`);
    };
    const clientIds = new Set<string>();
    config.applications.forEach((application, index) => {
      if (clientIds.has(application.client_id)) fail(["applications", index, "client_id"], "listed twice");
      clientIds.add(application.client_id);
    });
    check(config.defaults, ["defaults"]);
    config.rules.forEach((rule, index) => check(rule, ["rules", index]));
    const emails = new Set<string>();
    for (const [email, entry] of Object.entries(config.users)) {
      const normalized = email.trim().toLowerCase();
      if (emails.has(normalized)) fail(["users", email], "listed twice (emails are case-insensitive)");
      emails.add(normalized);
      check(entry, ["users", email]);
    }
  });

export type ClaimsConfig = z.output<typeof configSchema>;
export type FeatureFlag = z.output<typeof flag>;
/** A role as tokens and the Management API show it. */
export type Role = Pick<ConfigRole, "id" | "key" | "name">;
/** A role of config.json's `roles`, with the permissions it grants in an organization. */
export type ConfigRole = z.output<typeof role>;

export interface UserClaims {
  /** null: a person in no organization (all their memberships were removed). */
  orgCode: string | null;
  orgName: string | null;
  orgCodes: string[];
  /** For the ID token's `organizations` claim; id is the org code, as on Kinde. */
  organizations: { id: string; name: string }[];
  permissions: string[];
  roles: Role[];
  featureFlags: Record<string, FeatureFlag>;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function parseClaimsConfig(json: unknown, source: string): ClaimsConfig {
  const result = configSchema.safeParse(json);
  if (result.success) return result.data;
  const details = result.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length ? issue.path.map(String).join(".") : "(top level)"}: ${issue.message}`)
    .join("; ");
  throw new ConfigError(`Invalid config file ${source}: ${details}`);
}

/** Defaults, matching rules in order, then the user's entry; feature_flags merge flag by flag. */
export function resolveUserClaims(config: ClaimsConfig, email: string): UserClaims {
  const normalizedEmail = email.trim().toLowerCase();
  const layers: z.infer<typeof override>[] = [
    ...config.rules.filter((rule) => normalizedEmail.endsWith(rule.emailEndsWith.trim().toLowerCase())),
    ...Object.entries(config.users)
      .filter(([key]) => key.trim().toLowerCase() === normalizedEmail)
      .map(([, entry]) => entry),
  ];
  const { defaults } = config;
  let orgCode = defaults.org_code;
  let orgCodes = defaults.org_codes ?? [defaults.org_code];
  let permissions = defaults.permissions ?? [];
  let roleKeys = defaults.roles ?? [];
  const featureFlags: Record<string, FeatureFlag> = { ...defaults.feature_flags };
  for (const layer of layers) {
    orgCode = layer.org_code ?? orgCode;
    orgCodes = layer.org_codes ?? orgCodes;
    permissions = layer.permissions ?? permissions;
    roleKeys = layer.roles ?? roleKeys;
    Object.assign(featureFlags, layer.feature_flags);
  }
  const nameOf = (code: string) =>
    config.organizations.find((organization) => organization.code === code)?.name ?? code;
  const allCodes = orgCodes.includes(orgCode) ? [...orgCodes] : [orgCode, ...orgCodes];
  return {
    orgCode,
    orgName: nameOf(orgCode),
    orgCodes: allCodes,
    organizations: allCodes.map((code) => ({ id: code, name: nameOf(code) })),
    permissions: [...new Set(permissions)],
    roles: rolesByKey(config, roleKeys).map(shownRole),
    featureFlags,
  };
}

export function shownRole({ id, key, name }: ConfigRole): Role {
  return { id, key, name };
}

/** config.json's roles with these keys, in its order (unknown keys are skipped). */
export function rolesByKey(config: ClaimsConfig, keys: readonly string[]): ConfigRole[] {
  return config.roles.filter((entry) => keys.includes(entry.key));
}

/** Re-read when its mtime or size changes; a broken edit keeps the last good version (fatal at startup). */
export class ClaimsConfigSource {
  private constructor(
    private readonly path: string,
    private config: ClaimsConfig,
    private stamp: string,
    private readonly log: (line: string) => void,
  ) {}

  static async load(path: string, log: (line: string) => void): Promise<ClaimsConfigSource> {
    const { config, stamp } = await readConfig(path);
    return new ClaimsConfigSource(path, config, stamp, log);
  }

  async current(): Promise<ClaimsConfig> {
    try {
      const info = await stat(this.path);
      if (stampOf(info) !== this.stamp) {
        const { config, stamp } = await readConfig(this.path);
        this.config = config;
        this.stamp = stamp;
        this.log(`reloaded ${this.path}`);
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log(`warning: keeping the previous configuration: ${message}`);
      // Do not retry (and warn) on every request until the file changes again.
      this.stamp = await stat(this.path).then(stampOf, () => "missing");
    }
    return this.config;
  }
}

async function readConfig(path: string): Promise<{ config: ClaimsConfig; stamp: string }> {
  const unreadable = () => {
    throw new ConfigError(`Cannot read the config file ${path} (set KINDE_LOCAL_CONFIG to its path)`);
  };
  const stamp = stampOf(await stat(path).catch(unreadable));
  const text = await readFile(path, "utf8").catch(unreadable);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`The config file ${path} is not valid JSON`);
  }
  return { config: parseClaimsConfig(json, path), stamp };
}

function stampOf(info: { mtimeMs: number; size: number }): string {
  return `${info.mtimeMs}:${info.size}`;
}

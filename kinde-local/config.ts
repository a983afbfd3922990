import { readFile, stat } from "node:fs/promises";
import { z } from "zod";
import { configApplicationSchema } from "./applications.ts";
import { webhookEndpointSchema } from "./webhook-events.ts";

/** The claims Kinde's dashboard would set; the file's format is in README.md. */

const orgCode = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 letters, digits, _ or -");
const permission = z.string().regex(/^[\x21-\x7e]{1,100}$/, "must be 1-100 printable characters without spaces");
const role = z.strictObject({
  id: z.string().min(1).max(100),
  key: z.string().min(1).max(100),
  name: z.string().min(1).max(200),
});
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
  roles: z.array(role).max(50).optional(),
  feature_flags: flags.optional(),
};
const override = z.strictObject(claimFields);

const configSchema = z
  .strictObject({
    $comment: z.string().optional(),
    organizations: z.array(z.strictObject({ code: orgCode, name: z.string().min(1).max(200) })).min(1),
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
    const check = (entry: z.infer<typeof override>, path: (string | number)[]) => {
      for (const code of [entry.org_code, ...(entry.org_codes ?? [])]) {
        if (code !== undefined && !known.has(code)) fail(path, `unknown organization ${code}`);
      }
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
export type Role = z.output<typeof role>;

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
  let roles = defaults.roles ?? [];
  const featureFlags: Record<string, FeatureFlag> = { ...defaults.feature_flags };
  for (const layer of layers) {
    orgCode = layer.org_code ?? orgCode;
    orgCodes = layer.org_codes ?? orgCodes;
    permissions = layer.permissions ?? permissions;
    roles = layer.roles ?? roles;
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
    roles: [...roles],
    featureFlags,
  };
}

/**
 * What a role grants, for roles given through the Management API or to an organization's creator:
 * the permissions of the first layer (defaults, then rules in order) that lists the role.
 */
export function rolePermissions(config: ClaimsConfig, roleKey: string): string[] {
  const layer = [config.defaults, ...config.rules].find((entry) => entry.roles?.some((role) => role.key === roleKey));
  return [...(layer?.permissions ?? [])];
}

/** Every role config.json mentions, by key. */
export function knownRoles(config: ClaimsConfig): Role[] {
  const roles = new Map<string, Role>();
  for (const layer of [config.defaults, ...config.rules, ...Object.values(config.users)]) {
    for (const role of layer.roles ?? []) if (!roles.has(role.key)) roles.set(role.key, role);
  }
  return [...roles.values()];
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

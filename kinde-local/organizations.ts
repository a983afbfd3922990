import { randomBytes } from "node:crypto";
import { NAME_MAX_LENGTH, nameProblem } from "../common/names.ts";
import {
  CREATOR_ROLE,
  resolveUserClaims,
  rolesByKey,
  shownRole,
  type ClaimsConfig,
  type ConfigRole,
  type Role,
  type UserClaims,
} from "./config.ts";
import type { Store, StoredMembership, StoredUser } from "./store.ts";

/** config.json's organizations have no creation date; they list before any made here. */
const CONFIG_CREATED_AT = "1970-01-01T00:00:00.000Z";

export interface Organization {
  code: string;
  name: string;
  createdAt: string;
}

export interface Membership {
  orgCode: string;
  orgName: string;
  roles: Role[];
  permissions: string[];
}

export function newOrgCode(): string {
  return `org_${randomBytes(6).toString("hex").slice(0, 11)}`;
}

/** config.json's organizations (as renamed or deleted here) and those made here, oldest first. */
export function listOrganizations(config: ClaimsConfig, store: Store): Organization[] {
  const organizations = new Map<string, Organization>();
  for (const { code, name } of config.organizations)
    organizations.set(code, { code, name, createdAt: CONFIG_CREATED_AT });
  for (const stored of store.listOrganizations()) {
    if (stored.deleted) organizations.delete(stored.code);
    else organizations.set(stored.code, { code: stored.code, name: stored.name, createdAt: stored.createdAt });
  }
  return [...organizations.values()].sort(
    (a, b) => a.createdAt.localeCompare(b.createdAt) || a.code.localeCompare(b.code),
  );
}

export function findOrganization(config: ClaimsConfig, store: Store, code: string): Organization | undefined {
  const stored = store.getOrganization(code);
  if (stored) return stored.deleted ? undefined : { code, name: stored.name, createdAt: stored.createdAt };
  const configured = config.organizations.find((organization) => organization.code === code);
  return configured && { ...configured, createdAt: CONFIG_CREATED_AT };
}

/** A membership recorded here wins; otherwise config.json's rules decide, as before organizations were stored. */
export function membershipsOf(config: ClaimsConfig, store: Store, user: StoredUser): Membership[] {
  const fromConfig = resolveUserClaims(config, user.email);
  const recorded = new Map(
    store
      .listMemberships()
      .filter((membership) => membership.userId === user.id)
      .map((membership) => [membership.orgCode, membership]),
  );
  const codes = [...new Set([...fromConfig.orgCodes, ...recorded.keys()])];
  return codes.flatMap((code) => {
    const organization = findOrganization(config, store, code);
    const membership = recorded.get(code);
    if (!organization || membership?.removed) return [];
    const { roles, permissions } = membership ?? fromConfig;
    return [{ orgCode: code, orgName: organization.name, roles: [...roles], permissions: [...permissions] }];
  });
}

/**
 * Claims for one organization of the person. requested: the org_code they signed in with
 * (undefined when they are no longer a member); null: config.json's org_code, else their first.
 */
export function claimsFor(
  config: ClaimsConfig,
  store: Store,
  user: StoredUser,
  requested: string | null,
): UserClaims | undefined {
  const base = resolveUserClaims(config, user.email);
  const memberships = membershipsOf(config, store, user);
  const current =
    requested === null
      ? (memberships.find((membership) => membership.orgCode === base.orgCode) ?? memberships[0])
      : memberships.find((membership) => membership.orgCode === requested);
  if (requested !== null && !current) return undefined;
  return {
    orgCode: current?.orgCode ?? null,
    orgName: current?.orgName ?? null,
    orgCodes: memberships.map((membership) => membership.orgCode),
    organizations: memberships.map((membership) => ({ id: membership.orgCode, name: membership.orgName })),
    permissions: current?.permissions ?? [],
    roles: current?.roles ?? [],
    featureFlags: base.featureFlags,
  };
}

export type MemberAccess = Pick<StoredMembership, "roles" | "permissions">;

/** A member given these roles of config.json: the roles, and what they grant plus `permissions`. */
export function roleAccess(roles: ConfigRole[], permissions: string[] = []): MemberAccess {
  return {
    roles: roles.map(shownRole),
    permissions: [...new Set([...permissions, ...roles.flatMap((role) => role.permissions)])],
  };
}

/** Exactly config.json's creator role: app-wide permissions such as read:users never come from creating one. */
export function creatorAccess(config: ClaimsConfig): MemberAccess {
  return roleAccess(rolesByKey(config, [CREATOR_ROLE]));
}

/** An organization's name follows the rule for people's names (common/names.ts); `name` is normalised. */
export function orgNameError(name: string): string | undefined {
  if (name === "") return "Enter a name for the organization.";
  const problem = nameProblem(name);
  if (problem === "too-long") return `Use at most ${NAME_MAX_LENGTH} characters for the organization's name.`;
  if (problem) return "The organization's name has control or invisible formatting characters.";
  return undefined;
}

export async function createOrganization(store: Store, name: string, now: number): Promise<Organization> {
  const organization = { code: newOrgCode(), name, createdAt: new Date(now).toISOString() };
  await store.putOrganization({ ...organization, deleted: false });
  return organization;
}

/** Adds (or restores) a member; config-derived members get a record so later changes stick. */
export async function addMember(store: Store, orgCode: string, userId: string, access: MemberAccess): Promise<void> {
  await store.putMembership({ orgCode, userId, ...access, removed: false });
}

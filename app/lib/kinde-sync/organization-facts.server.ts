// What Kinde's tokens and webhooks say about organizations, cleaned; the rules: docs/decisions/0024-organizations-from-kinde.md.
import type { JWTPayload } from "jose";
import type { KindeFactsSource } from "./user-facts.server";

export const KINDE_ORG_CODE = /^org_[A-Za-z0-9_]{1,64}$/;
export const MAX_ORGANIZATIONS = 200;
const MAX_ROLES = 100;

export interface KindeOrganizationFacts {
  code: string;
  /** undefined: the news does not name it (organization.deleted carries only the code). */
  name?: string | null;
  observedAt: Date;
  source: KindeFactsSource;
}

/** One organization of a person as some news gives it. */
export interface MembershipNews {
  code: string;
  /** undefined or null: the news does not name it; a stored name stays. */
  name?: string | null;
  /** undefined: the news does not give the roles there; stored ones stay. */
  roleKeys?: string[];
}

export interface KindeMembershipFacts {
  /** The ID token's organizations: `org_codes`, with the names of `organizations` when present. */
  organizations: { code: string; name: string | null }[];
  /** The access token's organization and the role keys it gives there, when it is one of them. */
  current: { code: string; roleKeys: string[] } | null;
}

export function cleanOrganizationName(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const trimmed = value.trim();
  return trimmed ? trimmed.slice(0, 255) : null;
}

const isOrgCode = (value: unknown): value is string => typeof value === "string" && KINDE_ORG_CODE.test(value);

function roleKeys(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const keys = value
    .map((role: unknown) => (role && typeof role === "object" ? (role as { key?: unknown }).key : undefined))
    .filter((key): key is string => typeof key === "string" && key.length > 0 && key.length <= 128);
  return [...new Set(keys)].sort().slice(0, MAX_ROLES);
}

export function membershipFactsFromTokens(access: JWTPayload, id: JWTPayload): KindeMembershipFacts {
  const names = new Map<string, string | null>();
  for (const code of Array.isArray(id.org_codes) ? id.org_codes : []) {
    if (isOrgCode(code)) names.set(code, null);
  }
  for (const organization of Array.isArray(id.organizations) ? id.organizations : []) {
    const { id: code, name } = (organization ?? {}) as { id?: unknown; name?: unknown };
    if (isOrgCode(code)) names.set(code, cleanOrganizationName(name) ?? names.get(code) ?? null);
  }
  const organizations = [...names].slice(0, MAX_ORGANIZATIONS).map(([code, name]) => ({ code, name }));
  const currentCode = access.org_code;
  const current =
    isOrgCode(currentCode) && names.has(currentCode) ? { code: currentCode, roleKeys: roleKeys(access.roles) } : null;
  if (current && names.get(current.code) === null) {
    const orgName = cleanOrganizationName(access.org_name);
    const listed = organizations.find((organization) => organization.code === current.code);
    if (listed && orgName) listed.name = orgName;
  }
  return { organizations, current };
}

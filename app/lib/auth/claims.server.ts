// The profile and claims (permissions, organizations, flags) that verified Kinde tokens carry.
import type { JWTPayload } from "jose";
import type { KindeProfile } from "~/models/user.server";
import { membershipFactsFromTokens } from "../kinde-sync/organization-facts.server";
import type { KindeClaims } from "./claims";

const FLAG_TYPES = { b: "boolean", i: "integer", s: "string" } as const;

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
const stringOrNull = (value: unknown): string | null => (typeof value === "string" ? value : null);

export function claimsFromTokens(access: JWTPayload, id: JWTPayload | null): KindeClaims {
  const flags = (access.feature_flags ?? {}) as Record<string, { t?: string; v?: unknown }>;
  return {
    permissions: strings(access.permissions),
    orgCode: stringOrNull(access.org_code),
    orgName: stringOrNull(access.org_name),
    organizations: id ? membershipFactsFromTokens(access, id).organizations : [],
    featureFlags: Object.entries(flags).flatMap(([code, flag]) => {
      const type = FLAG_TYPES[flag?.t as keyof typeof FLAG_TYPES];
      const value = flag?.v;
      const valid = typeof value === "string" || typeof value === "number" || typeof value === "boolean";
      return type && valid ? [{ code, type, value }] : [];
    }),
  };
}

export function profileFromIdToken(id: JWTPayload): KindeProfile {
  return {
    id: String(id.sub),
    email: stringOrNull(id.email),
    given_name: stringOrNull(id.given_name),
    family_name: stringOrNull(id.family_name),
    picture: stringOrNull(id.picture),
  };
}

/**
 * What the Kinde session says about the person beyond their profile: permissions,
 * organizations and feature flags (Kinde's getPermissions / getOrganization /
 * getUserOrganizations / getFlag, read in one pass).
 */
import { decodeJwt } from "jose";
import type { KindeSession } from "./kinde.server";

export type FlagValue = string | number | boolean;
export interface KindeClaims {
  permissions: string[];
  orgCode: string | null;
  orgName: string | null;
  orgCodes: string[];
  featureFlags: { code: string; type: "boolean" | "integer" | "string"; value: FlagValue }[];
}

const FLAG_TYPES = { b: "boolean", i: "integer", s: "string" } as const;

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];

const byRequest = new WeakMap<KindeSession, Promise<KindeClaims>>();

async function read(session: KindeSession): Promise<KindeClaims> {
  // getToken() verifies the access token (signature and expiry, refreshing it if needed), so
  // its claims can then be decoded once instead of re-verified per helper.
  const accessToken = await session.getToken();
  const access = accessToken ? decodeJwt(accessToken) : {};
  const orgCodes = strings(await session.getClaimValue("org_codes", "id_token"));
  const flags = (access.feature_flags ?? {}) as Record<string, { t?: string; v?: unknown }>;
  return {
    permissions: strings(access.permissions),
    orgCode: typeof access.org_code === "string" ? access.org_code : null,
    orgName: typeof access.org_name === "string" ? access.org_name : null,
    orgCodes,
    featureFlags: Object.entries(flags).flatMap(([code, flag]) => {
      const type = FLAG_TYPES[flag?.t as keyof typeof FLAG_TYPES];
      const value = flag?.v;
      const valid = typeof value === "string" || typeof value === "number" || typeof value === "boolean";
      return type && valid ? [{ code, type, value }] : [];
    }),
  };
}

export function getKindeClaims(session: KindeSession): Promise<KindeClaims> {
  let claims = byRequest.get(session);
  if (!claims) {
    claims = read(session);
    byRequest.set(session, claims);
  }
  return claims;
}

// The claims pages show, apart from the server code that reads them (components may not import *.server).
export type FlagValue = string | number | boolean;

export interface KindeClaims {
  permissions: string[];
  orgCode: string | null;
  orgName: string | null;
  /** The ID token's organizations, with the names its `organizations` claim gives (null where it gives none). */
  organizations: { code: string; name: string | null }[];
  featureFlags: { code: string; type: "boolean" | "integer" | "string"; value: FlagValue }[];
}

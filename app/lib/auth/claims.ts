/** What the Kinde session says about the person beyond their profile, as the pages show it. */
export type FlagValue = string | number | boolean;

export interface KindeClaims {
  permissions: string[];
  orgCode: string | null;
  orgName: string | null;
  orgCodes: string[];
  featureFlags: { code: string; type: "boolean" | "integer" | "string"; value: FlagValue }[];
}

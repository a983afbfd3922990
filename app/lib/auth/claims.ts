// The claims pages show, apart from the server code that reads them (components may not import *.server).
export type FlagValue = string | number | boolean;

export interface KindeClaims {
  permissions: string[];
  orgCode: string | null;
  orgName: string | null;
  orgCodes: string[];
  featureFlags: { code: string; type: "boolean" | "integer" | "string"; value: FlagValue }[];
}

// The one rule for cross-site requests, for the app server and kinde-local: docs/decisions/0010-own-server.md.
export interface CrossSiteFacts {
  method: string;
  secFetchSite?: string | null;
  origin?: string | null;
  host?: string | null;
}

export type CrossSiteVerdict =
  | { crossSite: false; why: "safe method" | "same origin" | "not a browser" }
  | { crossSite: true; why: "sec-fetch-site" | "origin null" | "origin mismatch" | "origin malformed" };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function crossSiteVerdict(facts: CrossSiteFacts): CrossSiteVerdict {
  if (SAFE_METHODS.has(facts.method.toUpperCase())) return { crossSite: false, why: "safe method" };
  const site = facts.secFetchSite?.trim().toLowerCase() || undefined;
  if (site !== undefined && site !== "same-origin" && site !== "none")
    return { crossSite: true, why: "sec-fetch-site" };
  const origin = facts.origin?.trim();
  if (!origin) return { crossSite: false, why: site ? "same origin" : "not a browser" };
  if (origin === "null") {
    return site === "same-origin" ? { crossSite: false, why: "same origin" } : { crossSite: true, why: "origin null" };
  }
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return { crossSite: true, why: "origin malformed" };
  }
  return originHost !== "" && originHost === facts.host?.trim().toLowerCase()
    ? { crossSite: false, why: "same origin" }
    : { crossSite: true, why: "origin mismatch" };
}

export function isCrossSiteRequest(facts: CrossSiteFacts): boolean {
  return crossSiteVerdict(facts).crossSite;
}

export function requestHost(host: string | null | undefined, forwardedHost?: string | null): string | undefined {
  const forwarded = forwardedHost?.split(",")[0]?.trim();
  return (forwarded || host?.trim() || undefined)?.toLowerCase();
}

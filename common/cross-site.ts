/**
 * The one rule for cross-site requests (CSRF), used by the app server's guard
 * (server/guards.ts) and by the local Kinde server's forms (kinde-local/http.ts). Pure: the
 * caller passes the request's method and headers. See docs/decisions/0010-own-server.md.
 *
 * A request that may change something (not GET, HEAD or OPTIONS) is cross-site when the browser
 * says so by either header:
 * - Sec-Fetch-Site other than "same-origin" or "none" (every current browser sends it; a page
 *   cannot set it);
 * - Origin naming another host, or "null" (a sandboxed frame, a data: page, a redirect from
 *   another site), unless Sec-Fetch-Site is "same-origin": a page served with
 *   `Referrer-Policy: no-referrer`, as the local Kinde server's are, sends Origin: null with its
 *   own form posts.
 * Without either header it is not a browser (curl, Kinde's webhooks, the SDK's token calls):
 * it cannot carry a visitor's cookies, so it passes.
 */
export interface CrossSiteFacts {
  method: string;
  secFetchSite?: string | null;
  origin?: string | null;
  /** The host (name:port) the request was sent to: the Host header, or X-Forwarded-Host. */
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

/** The host a request was addressed to: the first X-Forwarded-Host (behind a proxy), else Host. */
export function requestHost(host: string | null | undefined, forwardedHost?: string | null): string | undefined {
  const forwarded = forwardedHost?.split(",")[0]?.trim();
  return (forwarded || host?.trim() || undefined)?.toLowerCase();
}

// The cross-site rule (common/cross-site.ts) as a table of POSTs for the function and both servers;
// `{self}` is the origin of the server the request is sent to.
export interface CrossSiteCase {
  what: string;
  headers: Record<string, string>;
  crossSite: boolean;
}

export const CROSS_SITE_CASES: CrossSiteCase[] = [
  { what: "no Origin, no Sec-Fetch-Site (Kinde's webhooks, curl)", headers: {}, crossSite: false },
  { what: "a form on this site", headers: { "Sec-Fetch-Site": "same-origin", Origin: "{self}" }, crossSite: false },
  {
    what: "a form on this site served with no-referrer (Origin: null)",
    headers: { "Sec-Fetch-Site": "same-origin", Origin: "null" },
    crossSite: false,
  },
  { what: "an address typed by the person", headers: { "Sec-Fetch-Site": "none" }, crossSite: false },
  { what: "an older browser on this site (Origin only)", headers: { Origin: "{self}" }, crossSite: false },
  {
    what: "a form on another site",
    headers: { "Sec-Fetch-Site": "cross-site", Origin: "https://evil.example" },
    crossSite: true,
  },
  {
    what: "a form on another port of localhost (same site, another origin)",
    headers: { "Sec-Fetch-Site": "same-site", Origin: "http://localhost:1" },
    crossSite: true,
  },
  { what: "Sec-Fetch-Site: cross-site without Origin", headers: { "Sec-Fetch-Site": "cross-site" }, crossSite: true },
  {
    what: "an older browser on another site (Origin only)",
    headers: { Origin: "https://evil.example" },
    crossSite: true,
  },
  { what: "Origin: null without Sec-Fetch-Site (a sandboxed frame)", headers: { Origin: "null" }, crossSite: true },
  {
    what: "Origin: null from another site",
    headers: { "Sec-Fetch-Site": "cross-site", Origin: "null" },
    crossSite: true,
  },
  { what: "an Origin that is not a URL", headers: { Origin: "not a url" }, crossSite: true },
  {
    what: "Sec-Fetch-Site: same-origin contradicted by Origin",
    headers: { "Sec-Fetch-Site": "same-origin", Origin: "https://evil.example" },
    crossSite: true,
  },
];

export function headersFor(testCase: CrossSiteCase, self: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(testCase.headers).map(([name, value]) => [name, value.replace("{self}", self)]),
  );
}

// See docs/decisions/0007-redirect-rule.md.
export const DEFAULT_REDIRECT = "/dashboard";

export function safeRedirect(target: unknown, fallback: string = DEFAULT_REDIRECT): string {
  if (typeof target !== "string" || target.length === 0 || target.length > 2048) return fallback;
  // Browsers read "//host" and "/\host" as another host; control characters and backslashes can become one.
  if (!target.startsWith("/") || target.startsWith("//")) return fallback;
  if (/[\\\p{Cc}]/u.test(target)) return fallback;
  // Decoded once more, the same rules must hold ("/%2F%2Fevil.example", "/%5Cevil").
  let decoded: string;
  try {
    decoded = decodeURIComponent(target);
  } catch {
    return fallback;
  }
  if (decoded.startsWith("//") || /[\\\p{Cc}]/u.test(decoded)) return fallback;
  const base = "http://same-site.invalid";
  const url = new URL(target, base);
  if (url.origin !== base) return fallback;
  return `${url.pathname}${url.search}${url.hash}`;
}

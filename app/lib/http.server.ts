/** Response helpers shared by routes. */

/**
 * Headers for a page only the signed-in person may see: the SDK's Set-Cookie headers kept,
 * and no shared cache (or a shared computer's back button) keeping a copy.
 */
export function privatePage(headers: Headers): Headers {
  const result = new Headers(headers);
  result.set("Cache-Control", "private, no-store");
  return result;
}

/**
 * This server's one cookie, read and written with `cookie` (the parser the app and the Kinde SDK
 * use). Cookies on localhost are shared by every port, so the Cookie header also carries the
 * app's cookies and whatever a developer's other projects set: only this server's own cookie is
 * interpreted, and a value that is not valid percent-encoding is left as sent.
 */
import { parse, serialize } from "cookie";

/**
 * Must differ from every cookie the app or the Kinde SDK sets (access_token, id_token,
 * refresh_token, ac-state-key, post_login_redirect_url, rkp_flash).
 */
export const SESSION_COOKIE = "kinde_local_session";

/** The request's cookies by name, the first of a repeated name winning; parsed once per request. */
export function parseCookies(header: string | undefined): Map<string, string> {
  return new Map(Object.entries(parse(header ?? "")));
}

/** No Secure attribute: the server speaks plain http on localhost. */
export function sessionCookie(id: string, maxAgeSeconds: number): string {
  return serialize(SESSION_COOKIE, id, { path: "/", httpOnly: true, sameSite: "lax", maxAge: maxAgeSeconds });
}

export function clearedSessionCookie(): string {
  return serialize(SESSION_COOKIE, "", { path: "/", httpOnly: true, sameSite: "lax", maxAge: 0 });
}

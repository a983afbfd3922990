/** Cookies on localhost are shared by every port: only this server's own cookie is interpreted. */
import { parse, serialize } from "cookie";

/** Must differ from every cookie the app or the Kinde SDK sets. */
export const SESSION_COOKIE = "kinde_local_session";

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

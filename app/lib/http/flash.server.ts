// One-time messages for the next page ("Profile saved"), carried across a redirect so they work without JavaScript.
import { createCookieSessionStorage } from "@remix-run/node";
import { requestCookies } from "./cookies.server";
import { env } from "../config/env.server";

export type Flash = { kind: "success" | "info"; message: string };

const FLASH_COOKIE = "rkp_flash";

const storage = createCookieSessionStorage<Record<string, never>, { flash: Flash }>({
  cookie: {
    name: FLASH_COOKIE,
    httpOnly: true,
    sameSite: "lax",
    path: "/",
    secure: env.NODE_ENV === "production",
    secrets: [env.SESSION_SECRET],
    maxAge: 60,
  },
});

export async function setFlash(flash: Flash): Promise<string> {
  const session = await storage.getSession();
  session.flash("flash", flash);
  return storage.commitSession(session);
}

// Requests without the cookie (almost all) skip the signature check.
export async function takeFlash(request: Request): Promise<{ flash: Flash | null; setCookie: string | null }> {
  if (requestCookies(request)[FLASH_COOKIE] === undefined) return { flash: null, setCookie: null };
  const session = await storage.getSession(request.headers.get("Cookie"));
  const flash = session.get("flash") ?? null;
  return { flash, setCookie: flash ? await storage.destroySession(session) : null };
}

// Read and written with `cookie`, the parser Remix and the Kinde SDK use, so a Cookie header reads the same everywhere.
import { parse, serialize } from "cookie";
import { perRequest } from "./per-request.server";

/** The cookies a request carries, by name (the first of a repeated name, as browsers order them). */
export const requestCookies = perRequest(
  (request) => request,
  (request: Request): Readonly<Record<string, string>> => parse(request.headers.get("Cookie") ?? ""),
);

/** A Set-Cookie header that removes `name`, with the attributes the Kinde SDK gives its cookies. */
export function expiredCookie(name: string): string {
  return serialize(name, "", {
    path: "/",
    maxAge: 0,
    httpOnly: true,
    sameSite: "lax",
    secure: process.env.NODE_ENV === "production",
  });
}

export function setCookiePair(header: string): { name: string; value: string } | null {
  const [pair] = Object.entries(parse(header.split(";", 1)[0] ?? ""));
  return pair ? { name: pair[0], value: pair[1] } : null;
}

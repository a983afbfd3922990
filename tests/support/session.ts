import { parse as parseCookie } from "cookie";
import { expect } from "vitest";
import type { Stack } from "./stack.ts";
import { TestBrowser, type Page } from "./browser";
import { setCookieNames } from "./http";

export function replayCookies(stack: Pick<Stack, "appUrl">, cookies: string): Promise<TestBrowser> {
  return new TestBrowser().setCookies(stack.appUrl, parseCookie(cookies));
}

/** `sent`: the Kinde cookies the browser held (a minted session has no refresh token). */
export function expectSignedOut(
  page: Page,
  returnTo: string,
  sent: string[] = ["access_token", "id_token", "refresh_token"],
): void {
  expect(page.status, page.url).toBe(302);
  expect(page.headers.get("Location")).toBe(`/kinde-auth/login?${new URLSearchParams({ returnTo })}`);
  expect(setCookieNames(page.headers, { expired: true })).toEqual(expect.arrayContaining(sent));
}

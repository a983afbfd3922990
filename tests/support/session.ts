/** Assertions about a person's app session over HTTP (vitest only). */
import { expect } from "vitest";
import type { Stack } from "../../stack";
import { TestBrowser, type Page } from "../../stack/browser";

/** A new browser holding exactly these cookies: the person's session as it was when copied. */
export async function replayCookies(stack: Pick<Stack, "appUrl">, cookies: string): Promise<TestBrowser> {
  const browser = new TestBrowser();
  for (const pair of cookies.split("; ")) {
    const [name, ...value] = pair.split("=");
    await browser.setCookie(stack.appUrl, name!, value.join("="));
  }
  return browser;
}

/** The Kinde cookies were expired and the person sent to sign in, coming back to `path`. */
export function expectSignedOut(page: Page, path: string): void {
  expect(page.status, page.url).toBe(302);
  expect(page.headers.get("Location")).toBe(`/kinde-auth/login?${new URLSearchParams({ returnTo: path })}`);
  const expired = page.headers
    .getSetCookie()
    .filter((cookie) => /Max-Age=0/.test(cookie))
    .map((cookie) => cookie.split("=")[0]);
  expect(expired).toEqual(expect.arrayContaining(["access_token", "id_token", "refresh_token"]));
}

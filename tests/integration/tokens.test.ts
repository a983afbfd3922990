/** Token refresh, a failed refresh, and tokens Kinde did not sign. */
import { describe, expect, it } from "vitest";
import { TestBrowser, textOf } from "../support/browser";
import { newPerson, signUp } from "../support/sign-in.ts";
import { setCookieNames } from "../support/http";
import { expectSignedOut } from "../support/session";
import { useStack } from "../support/use-stack.ts";
import { decodeJwt, expired, signWithKindeKey, signWithOtherKey, unsigned } from "../support/tokens";

const stack = useStack();

async function signedIn() {
  const person = newPerson();
  const { browser } = await signUp(stack, person);
  const cookie = async (name: string) => (await browser.cookie(stack.appUrl, name))!;
  return {
    person,
    browser,
    accessToken: await cookie("access_token"),
    idToken: await cookie("id_token"),
    refreshToken: await cookie("refresh_token"),
  };
}

describe("refresh", () => {
  it("refreshes an expired access token without the user noticing, and the new cookies reach the browser", async () => {
    const { person, browser, accessToken, refreshToken } = await signedIn();
    await browser.setCookie(stack.appUrl, "access_token", await expired(stack.kindeDataDir, accessToken));

    const page = await browser.get(`${stack.appUrl}/dashboard`, { follow: false });
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toContain(person.lastName);
    expect(setCookieNames(page.headers)).toEqual(expect.arrayContaining(["access_token", "id_token", "refresh_token"]));

    const newAccess = await browser.cookie(stack.appUrl, "access_token");
    expect(newAccess).not.toBe(accessToken);
    expect(decodeJwt(newAccess!).exp! * 1000).toBeGreaterThan(Date.now());
    expect(await browser.cookie(stack.appUrl, "refresh_token")).not.toBe(refreshToken);
    // And the next request just works with the rotated cookies.
    expect((await browser.get(`${stack.appUrl}/dashboard`, { follow: false })).status).toBe(200);
  });

  it("signs the user out cleanly when the refresh fails", async () => {
    const { browser, accessToken } = await signedIn();
    await browser.setCookie(stack.appUrl, "access_token", await expired(stack.kindeDataDir, accessToken));
    await browser.setCookie(stack.appUrl, "refresh_token", "0123456789abcdef-not-a-real-token");

    expectSignedOut(await browser.get(`${stack.appUrl}/dashboard`, { follow: false }), "/dashboard");
    expect(await browser.cookie(stack.appUrl, "id_token")).toBeUndefined();
  });
});

describe("tokens Kinde did not sign", () => {
  type Forge = (claims: Record<string, unknown>, kid: string) => Promise<string> | string;
  const forgeries: [string, Forge][] = [
    ["signed with another key", (claims, kid) => signWithOtherKey(claims, kid)],
    ["alg: none", (claims) => unsigned(claims)],
    ["an unknown kid", (claims) => signWithKindeKey(stack.kindeDataDir, claims, "unknown:kid")],
    ["garbage", () => "not.a.jwt"],
  ];

  it.each(forgeries)("treats tokens %s as signed out", async (_, forge) => {
    const { accessToken, idToken } = await signedIn();
    const jar = await new TestBrowser().setCookies(stack.appUrl, {
      access_token: await forge({ ...decodeJwt(accessToken), permissions: ["read:users"] }, "kid"),
      id_token: await forge(decodeJwt(idToken), "kid"),
    });
    for (const path of ["/dashboard", "/members", "/auth/success"]) {
      const page = await jar.get(`${stack.appUrl}${path}`, { follow: false });
      expect(page.status, path).toBe(302);
      expect(page.headers.get("Location"), path).toMatch(/^\/kinde-auth\/login\?returnTo=/);
    }
  });

  it("never grants what a forged access token claims, nor refreshes it with a valid refresh token", async () => {
    const { browser, accessToken } = await signedIn();
    const claims = decodeJwt(accessToken);
    await browser.setCookie(
      stack.appUrl,
      "access_token",
      await signWithOtherKey({ ...claims, permissions: ["read:users"] }, "kid"),
    );
    // Only a genuine token that expired is refreshed: a forged one signs the person out.
    expectSignedOut(await browser.get(`${stack.appUrl}/members`, { follow: false }), "/members");
    expect(await browser.cookie(stack.appUrl, "refresh_token")).toBeUndefined();
  });
});

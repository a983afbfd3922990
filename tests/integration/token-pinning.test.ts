// Tokens Kinde signed for another application, issuer or API mean "signed out", before and after a refresh.
import { describe, expect, it } from "vitest";
import { useStack } from "../support/use-stack.ts";
import { TestBrowser, textOf, type Page } from "../support/browser";
import { usersIn } from "../support/database-access.ts";
import { newPerson, signUp } from "../support/sign-in.ts";
import {
  kindeAdmin,
  mintKindeTokens,
  tokenRequest,
  tokensFromCodeFlow,
  type OAuthClient,
} from "../support/kinde-session";
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET } from "../support/test-env";
import { decodeJwt, expired } from "../support/tokens";

const AUDIENCE = "https://api.example.com";
const OTHER_SITE = "http://localhost:4555";
const SECOND_APP: OAuthClient = {
  clientId: "fedcba9876543210fedcba9876543210",
  clientSecret: "S3condAppS3cr3tS3condAppS3cr3tS3condAppS3",
  redirectUri: `${OTHER_SITE}/api/auth/kinde_callback`,
};

const stack = useStack({
  env: { KINDE_AUDIENCE: AUDIENCE },
  // Kinde's webhooks would store the people these tests create at Kinde (user.created) and
  // those who sign in to the other application (user.authenticated): what is checked here is
  // that the tokens store and sign in nobody.
  webhooks: false,
  kindeApplications: [
    {
      name: "Another app of the same business",
      clientId: SECOND_APP.clientId,
      clientSecret: SECOND_APP.clientSecret,
      callbackUrls: [SECOND_APP.redirectUri],
      logoutUrls: [OTHER_SITE],
    },
  ],
});
const thisApp = (): OAuthClient => ({
  clientId: TEST_CLIENT_ID,
  clientSecret: TEST_CLIENT_SECRET,
  redirectUri: `${stack.appUrl}/kinde-auth/callback`,
});

/** A browser holding exactly these Kinde cookies. */
function browserWith(tokens: { accessToken: string; idToken: string; refreshToken?: string }): Promise<TestBrowser> {
  const { accessToken: access_token, idToken: id_token, refreshToken: refresh_token } = tokens;
  return new TestBrowser().setCookies(stack.appUrl, { access_token, id_token, refresh_token });
}

/** Sent to sign in, every Kinde cookie the browser sent expired, no new token handed out. */
async function expectSignedOut(browser: TestBrowser, path: string, reason: string, returnTo = path): Promise<Page> {
  const logBefore = stack.appLog().length;
  const page = await browser.get(`${stack.appUrl}${path}`, { follow: false });
  expect(page.status, path).toBe(302);
  expect(page.headers.get("Location")).toBe(`/kinde-auth/login?${new URLSearchParams({ returnTo })}`);
  const setCookies = page.headers.getSetCookie();
  expect(
    setCookies.every((cookie) => /Max-Age=0/.test(cookie)),
    setCookies.join("\n"),
  ).toBe(true);
  for (const name of ["access_token", "id_token", "refresh_token"])
    expect(await browser.cookie(stack.appUrl, name), name).toBeUndefined();
  await stack.waitForLog(`[auth] refused the Kinde token cookies: ${reason}`);
  expect(stack.appLog().slice(logBefore)).toContain(reason);
  return page;
}

it("a real sign-up asks for the audience, and this application's own tokens pass", async () => {
  const person = newPerson();
  const { browser, page } = await signUp(stack, person);
  expect(page.url).toBe(`${stack.appUrl}/dashboard`);
  expect(textOf(page.html)).toContain(person.lastName);
  const access = decodeJwt((await browser.cookie(stack.appUrl, "access_token"))!);
  expect(access).toMatchObject({ iss: stack.issuerUrl, azp: TEST_CLIENT_ID, aud: [AUDIENCE] });
});

describe("tokens the local server issued to another application", () => {
  it("are signed out on the fast path, and nobody is stored", async () => {
    const person = newPerson();
    const tokens = await tokensFromCodeFlow(stack, SECOND_APP, person);
    expect(decodeJwt(tokens.accessToken).azp).toBe(SECOND_APP.clientId);
    await expectSignedOut(await browserWith(tokens), "/dashboard", "access token for another application");
    const again = await browserWith({ ...tokens, refreshToken: undefined });
    await expectSignedOut(again, "/auth/success", "access token for another application", "/dashboard");
    expect((await usersIn(stack.database)).filter((row) => row.email === person.email)).toEqual([]);
  });

  it("are signed out when expired, without a refresh: the refresh token stays unused", async () => {
    const tokens = await tokensFromCodeFlow(stack, SECOND_APP, newPerson());
    const browser = await browserWith({
      ...tokens,
      accessToken: await expired(stack.kindeDataDir, tokens.accessToken),
    });
    await expectSignedOut(browser, "/dashboard", "access token for another application");

    // Had the app tried to refresh with it, the server would have rotated or refused it; it
    // still works once for the application it belongs to.
    const refreshed = await tokenRequest(stack, {
      grant_type: "refresh_token",
      client_id: SECOND_APP.clientId,
      client_secret: SECOND_APP.clientSecret,
      refresh_token: tokens.refreshToken,
    });
    expect(refreshed.access_token).toBeTruthy();
  });

  it("an ID token of another application beside this application's access token is signed out", async () => {
    const person = newPerson();
    const other = await tokensFromCodeFlow(stack, SECOND_APP, person);
    const id = String(decodeJwt(other.accessToken).sub);
    const own = await mintKindeTokens(stack, { ...person, id }, { audience: [AUDIENCE] });
    const browser = await browserWith({ ...own, idToken: other.idToken });
    await expectSignedOut(browser, "/dashboard", "ID token for another application");
  });
});

describe("tokens for another issuer or another API", () => {
  async function createdUser() {
    const person = newPerson();
    const id = await (
      await kindeAdmin(stack)
    ).createUser({ email: person.email, givenName: person.firstName, familyName: person.lastName });
    return { ...person, id };
  }

  it.each([
    {
      what: "another issuer's name in the tokens (same signing key)",
      options: () => ({ issuer: stack.issuerUrl.replace("localhost", "127.0.0.1"), audience: [AUDIENCE] }),
      reason: "access token from another issuer",
    },
    {
      what: "an access token without the configured audience",
      options: () => ({ audience: ["https://another-api.example.com"] }),
      reason: "access token for another API",
    },
  ])("$what is signed out", async ({ options, reason }) => {
    const tokens = await mintKindeTokens(stack, await createdUser(), options());
    await expectSignedOut(await browserWith(tokens), "/members", reason);
  });

  it("the same tokens with the audience pass (the checks above refuse only what they name)", async () => {
    const user = await createdUser();
    const browser = await browserWith(await mintKindeTokens(stack, user, { audience: [AUDIENCE] }));
    const page = await browser.get(`${stack.appUrl}/auth/success`);
    expect(page.url).toBe(`${stack.appUrl}/dashboard`);
    expect(textOf(page.html)).toContain(user.lastName);
  });
});

describe("what a refresh hands back is checked too", () => {
  it("a refresh granted with the audience passes, and the new cookies reach the browser", async () => {
    const person = newPerson();
    const real = await tokensFromCodeFlow(stack, thisApp(), person, { audience: AUDIENCE });
    const browser = await browserWith({ ...real, accessToken: await expired(stack.kindeDataDir, real.accessToken) });
    const page = await browser.get(`${stack.appUrl}/auth/success`);
    expect(page.url).toBe(`${stack.appUrl}/dashboard`);
    expect(textOf(page.html)).toContain(person.lastName);
    expect(await browser.cookie(stack.appUrl, "refresh_token")).not.toBe(real.refreshToken);
    expect(decodeJwt((await browser.cookie(stack.appUrl, "access_token"))!).exp! * 1000).toBeGreaterThan(Date.now());
  });

  it("tokens refreshed without the audience are refused, and none of them reaches the browser", async () => {
    // A session of this application whose refresh token was granted without the audience (as
    // one started before KINDE_AUDIENCE was configured): the refresh succeeds at Kinde and
    // hands back an access token for no API.
    const person = newPerson();
    const real = await tokensFromCodeFlow(stack, thisApp(), person);
    expect(decodeJwt(real.accessToken).aud).toEqual([]);
    const id = String(decodeJwt(real.accessToken).sub);
    const pinnedButExpired = await mintKindeTokens(
      stack,
      { ...person, id },
      { audience: [AUDIENCE], accessExpiresIn: -60 },
    );
    const browser = await browserWith({ ...pinnedButExpired, refreshToken: real.refreshToken });
    await expectSignedOut(browser, "/dashboard", "after a refresh: access token for another API");
  });

  it("this application's expired tokens with another application's refresh token: the refresh fails, signed out", async () => {
    const person = newPerson();
    const other = await tokensFromCodeFlow(stack, SECOND_APP, person);
    const id = String(decodeJwt(other.accessToken).sub);
    const own = await mintKindeTokens(stack, { ...person, id }, { audience: [AUDIENCE], accessExpiresIn: -60 });
    const browser = await browserWith({ ...own, refreshToken: other.refreshToken });
    await expectSignedOut(browser, "/dashboard", "the refresh failed");
  });
});

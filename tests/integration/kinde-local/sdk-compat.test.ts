/**
 * The unmodified Kinde SDKs against the local server: @kinde/jwt-validator on its tokens,
 * and @kinde-oss/kinde-remix-sdk driving the whole sign-up, session, refresh and logout
 * flow, with no app in between.
 */
import type * as KindeSdk from "@kinde-oss/kinde-remix-sdk";
import { validateToken } from "@kinde/jwt-validator";
import { generateKeyPair, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import {
  CLIENT_ID,
  CLIENT_SECRET,
  decodePayload,
  get,
  newCredentials,
  SITE_URL,
  TestBrowser,
  useServer,
} from "./harness.ts";

const ACCESS_TTL_SECONDS = 3;

const server = useServer({ ttl: { access: ACCESS_TTL_SECONDS } });
let sdk: typeof KindeSdk;

beforeAll(async () => {
  // The SDK reads its configuration from process.env when it is first imported.
  Object.assign(process.env, {
    KINDE_ISSUER_URL: server.url,
    KINDE_CLIENT_ID: CLIENT_ID,
    KINDE_CLIENT_SECRET: CLIENT_SECRET,
    KINDE_SITE_URL: SITE_URL,
    KINDE_POST_LOGIN_REDIRECT_URL: `${SITE_URL}/auth/success`,
    KINDE_POST_LOGOUT_REDIRECT_URL: SITE_URL,
  });
  sdk = await import("@kinde-oss/kinde-remix-sdk");
});

describe("@kinde/jwt-validator", () => {
  it("accepts the server's access and ID tokens", async () => {
    const { tokens } = await server.signUpWithTokens();
    expect(await validateToken({ token: tokens.access_token, domain: server.url })).toEqual({
      valid: true,
      message: "Token is valid",
    });
    expect((await validateToken({ token: tokens.id_token, domain: server.url })).valid).toBe(true);
  });

  it("rejects a token signed with another key", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    const { keys } = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    const forged = await new SignJWT({ sub: "kp_0" })
      .setProtectedHeader({ alg: "RS256", kid: keys[0]?.kid ?? "", typ: "JWT" })
      .sign(privateKey);
    expect((await validateToken({ token: forged, domain: server.url })).valid).toBe(false);
  });
});

describe("@kinde-oss/kinde-remix-sdk", () => {
  const app = new TestBrowser();
  const browser = new TestBrowser();
  const credentials = newCredentials({ email: `sdk-${Date.now()}@admin.example`, firstName: "Sdk", lastName: "User" });
  const appRequest = async (path: string) =>
    new Request(`${SITE_URL}${path}`, { headers: { Cookie: await app.cookieHeader(SITE_URL) } });

  it("registers, handles the callback and stores valid tokens", async () => {
    const register = await sdk.handleAuth(await appRequest("/kinde-auth/register?returnTo=/dashboard"), "register");
    expect(register?.status).toBe(302);
    await app.keepCookies(SITE_URL, register as Response);
    const authorize = register?.headers.get("Location") ?? "";
    expect(authorize.startsWith(`${server.url}/oauth2/auth?`)).toBe(true);
    expect(new URL(authorize).searchParams.get("start_page")).toBe("registration");

    const submitted = await server.submitSignUp(authorize, credentials, browser);
    const callbackUrl = new URL(submitted.headers.get("Location") ?? "");
    expect(callbackUrl.pathname).toBe("/kinde-auth/callback");

    const callback = await sdk.handleAuth(await appRequest(`${callbackUrl.pathname}${callbackUrl.search}`), "callback");
    expect(callback?.status).toBe(302);
    expect(callback?.headers.get("Location")).toBe("/dashboard");
    await app.keepCookies(SITE_URL, callback as Response);
    for (const name of ["access_token", "id_token", "refresh_token"])
      expect(await app.cookie(SITE_URL, name), name).toBeTruthy();
  });

  it("reads the user, permissions, organizations and flags from the tokens", async () => {
    const session = await sdk.getKindeSession(await appRequest("/"));
    expect(await session.isAuthenticated()).toBe(true);
    const user = await session.getUser();
    expect(user).toMatchObject({ given_name: "Sdk", family_name: "User", email: credentials.email, picture: null });
    expect(user?.id).toMatch(/^kp_[0-9a-f]{32}$/);
    expect(await session.getPermissions()).toEqual({
      permissions: expect.arrayContaining(["read:users"]) as string[],
      orgCode: "org_0123456789a",
    });
    expect(await session.getPermission("read:users")).toEqual({ orgCode: "org_0123456789a", isGranted: true });
    expect(await session.getOrganization()).toEqual({ orgCode: "org_0123456789a" });
    expect(await session.getUserOrganizations()).toEqual({ orgCodes: ["org_0123456789a", "org_abcdef01234"] });
    expect(await session.getStringFlag("theme", "none")).toBe("pink");
    expect(await session.getBooleanFlag("IS_DARK_MODE", true)).toBe(false);
    expect(await session.getIntegerFlag("competitions_limit", 0)).toBe(5);
    const profile = await session.getUserProfile();
    expect(profile).toMatchObject({ email: credentials.email, given_name: "Sdk", id: user?.id });
  });

  it("refreshes expired tokens itself and hands back new cookies", async () => {
    const before = await app.cookie(SITE_URL, "refresh_token");
    await new Promise((resolve) => setTimeout(resolve, (ACCESS_TTL_SECONDS + 0.5) * 1000));
    // The runtime returns `headers` (Set-Cookie for refreshed tokens); 1.1.4's typings omit it.
    const session = (await sdk.getKindeSession(await appRequest("/"))) as Awaited<
      ReturnType<typeof sdk.getKindeSession>
    > & {
      headers: Headers;
    };
    const setCookies = session.headers.getSetCookie();
    expect(setCookies.some((cookie) => cookie.startsWith("access_token="))).toBe(true);
    await app.keepCookies(SITE_URL, new Response(null, { headers: session.headers }));
    expect(await app.cookie(SITE_URL, "refresh_token")).not.toBe(before);
    const again = await sdk.getKindeSession(await appRequest("/"));
    expect(await again.isAuthenticated()).toBe(true);
    expect(decodePayload(decodeURIComponent((await app.cookie(SITE_URL, "access_token")) ?? "")).sub).toBe(
      (await again.getUser())?.id,
    );
  });

  it("logs out through the server and lands on the post-logout URL", async () => {
    const logout = await sdk.handleAuth(await appRequest("/kinde-auth/logout"), "logout");
    const location = logout?.headers.get("Location") ?? "";
    expect(location).toBe(`${server.url}/logout?redirect=${SITE_URL}`);
    const response = await get(location, browser);
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe(`${SITE_URL}/`);
    expect(await browser.cookie(server.url, "kinde_local_session")).toBeUndefined();
  });
});

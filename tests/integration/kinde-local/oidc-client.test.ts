/** openid-client, a certified OpenID Connect relying party, against the local server: any drift from the standard fails here. */
import * as oidc from "openid-client";
import { describe, expect, it } from "vitest";
import { CLIENT_ID, CLIENT_SECRET, get, newCredentials, REDIRECT_URI, useServer } from "./harness.ts";

const server = useServer();

function discover(clientSecret = CLIENT_SECRET) {
  return oidc.discovery(new URL(server.url), CLIENT_ID, clientSecret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
}

/** Signs up through the form at the URL openid-client built; returns the callback URL. */
async function signUpAt(authorizationUrl: URL): Promise<URL> {
  const answer = await server.submitSignUp(authorizationUrl.href, newCredentials());
  expect(answer.status).toBe(302);
  return new URL(answer.headers.get("Location") ?? "");
}

describe("openid-client as the relying party", () => {
  it("discovers, signs in with code + PKCE + nonce, validates the ID token, refreshes and reads userinfo", async () => {
    const config = await discover();
    expect(config.serverMetadata().issuer).toBe(server.url);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const callback = await signUpAt(
      oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope: "openid profile email offline",
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: "S256",
        state,
        nonce,
        start_page: "registration",
      }),
    );

    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    expect(claims?.nonce).toBe(nonce);
    expect(claims?.aud).toEqual([CLIENT_ID]);
    expect(tokens.refresh_token).toMatch(/^rt_/);

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? "");
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.claims()?.sub).toBe(claims?.sub);

    const userinfo = await oidc.fetchUserInfo(config, refreshed.access_token, claims?.sub ?? "");
    expect(userinfo).toMatchObject({ sub: claims?.sub, given_name: "Ada", family_name: "Lovelace" });
  });

  it("refuses a wrong client secret at the token endpoint", async () => {
    const config = await discover("not-the-secret");
    const state = oidc.randomState();
    const callback = await signUpAt(
      oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope: "openid",
        state,
        start_page: "registration",
      }),
    );
    const refused = oidc.authorizationCodeGrant(config, callback, { expectedState: state });
    await expect(refused).rejects.toMatchObject({ error: "invalid_client", status: 401 });
  });

  it("refuses a redirect_uri that is not registered, on its own page and not by redirecting there", async () => {
    const config = await discover();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: "https://attacker.example/callback",
      scope: "openid",
      state: oidc.randomState(),
    });
    const page = await get(url.href);
    expect(page.status).toBe(400);
    expect(page.headers.get("Location")).toBeNull();
    expect(await page.text()).toContain("Return address not allowed");
  });
});

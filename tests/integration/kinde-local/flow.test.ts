import { createRemoteJWKSet, jwtVerify } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import {
  callbackParams,
  CLIENT_ID,
  decodePayload,
  get,
  newCredentials,
  postForm,
  SITE_URL,
  startServerForTest,
  type TestBrowser,
  type TokenSet,
  useServer,
} from "./harness.ts";

const server = useServer();

describe("discovery", () => {
  it("publishes the JWKS at both Kinde paths, public parts only", async () => {
    for (const path of ["/.well-known/jwks.json", "/.well-known/jwks"]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      const body = (await response.json()) as { keys: Record<string, string>[] };
      expect(body.keys).toHaveLength(1);
      expect(Object.keys(body.keys[0] ?? {}).sort()).toEqual(["alg", "e", "kid", "kty", "n", "use"]);
      expect(body.keys[0]).toMatchObject({ kty: "RSA", use: "sig", alg: "RS256" });
    }
  });

  it("publishes an OpenID configuration pointing at Kinde's endpoints", async () => {
    const response = await fetch(`${server.url}/.well-known/openid-configuration`);
    expect(await response.json()).toMatchObject({
      issuer: server.url,
      authorization_endpoint: `${server.url}/oauth2/auth`,
      token_endpoint: `${server.url}/oauth2/token`,
      userinfo_endpoint: `${server.url}/oauth2/v2/user_profile`,
      jwks_uri: `${server.url}/.well-known/jwks.json`,
      end_session_endpoint: `${server.url}/logout`,
      revocation_endpoint: `${server.url}/oauth2/revoke`,
      response_types_supported: ["code"],
      id_token_signing_alg_values_supported: ["RS256"],
      subject_types_supported: expect.any(Array),
      scopes_supported: expect.any(Array),
      token_endpoint_auth_methods_supported: expect.any(Array),
      grant_types_supported: expect.any(Array),
    });
  });
});

describe("the authorization code flow", () => {
  const credentials = newCredentials({ firstName: "Ada", lastName: "Lovelace" });
  let tokens: TokenSet;
  let jar: TestBrowser;

  it("signs up through the form and returns a code with the same state", async () => {
    const result = await server.signUp(credentials);
    jar = result.jar;
    expect(result.code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(result.state).toBe("0123456789abcdef0123456789ab");
    expect(result.scope).toBe("openid profile email offline");
    const session = await jar.cookie(server.url, "kinde_local_session");
    expect(session).toBeDefined();
    tokens = await server.exchangeCode(result.code);
  });

  it("sets the provider session cookie HttpOnly, SameSite=Lax, Path=/", async () => {
    const form = await server.openForm(server.authorizeUrl({ start_page: "registration" }));
    const response = await form.submit("/auth/sign-up", {
      p_email: newCredentials().email,
      p_password: "long enough pw",
    });
    // No Secure: the local server is plain http.
    expect(response.headers.getSetCookie()).toEqual([
      expect.stringMatching(/^kinde_local_session=[A-Za-z0-9_-]{43}; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/),
    ]);
  });

  it("answers the token request with every token Kinde gives", () => {
    expect(tokens).toMatchObject({ token_type: "bearer", expires_in: 86_400, scope: "openid profile email offline" });
    expect(tokens.refresh_token).toMatch(/^rt_/);
  });

  it("issues tokens that verify against the published JWKS", async () => {
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
    const access = await jwtVerify(tokens.access_token, jwks, { issuer: server.url });
    const id = await jwtVerify(tokens.id_token, jwks, { issuer: server.url, audience: CLIENT_ID });
    expect(access.payload).toMatchObject({ aud: [], azp: CLIENT_ID, scp: ["openid", "profile", "email", "offline"] });
    expect(access.payload.sub).toMatch(/^kp_[0-9a-f]{32}$/);
    expect(access.payload.permissions).toEqual(["read:profile", "update:profile", "create:projects"]);
    expect(id.payload).toMatchObject({
      sub: access.payload.sub,
      email: credentials.email,
      given_name: "Ada",
      family_name: "Lovelace",
      name: "Ada Lovelace",
      org_codes: ["org_0123456789a"],
    });
  });

  it("serves the user profile for the access token", async () => {
    const response = await fetch(`${server.url}/oauth2/v2/user_profile`, {
      headers: { Authorization: `Bearer ${tokens.access_token}`, Accept: "application/json" },
    });
    expect(response.status).toBe(200);
    const profile = (await response.json()) as Record<string, unknown>;
    const sub = decodePayload(tokens.access_token).sub;
    expect(profile).toEqual({
      sub,
      id: sub,
      provided_id: null,
      name: "Ada Lovelace",
      given_name: "Ada",
      family_name: "Lovelace",
      updated_at: expect.any(Number) as number,
      email: credentials.email,
      picture: null,
    });
  });

  it("refuses the user profile without a valid user access token", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: "Bearer nonsense" },
      { Authorization: `Bearer ${tokens.id_token}` },
      { Authorization: "Basic eDp5" },
    ];
    for (const headers of attempts) {
      const response = await fetch(`${server.url}/oauth2/v2/user_profile`, { headers });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: string }).error).toBe("invalid_token");
    }
  });

  it("skips the form when the browser still has a provider session (single sign-on)", async () => {
    const response = await get(server.authorizeUrl({ state: "second-state" }), jar);
    const params = callbackParams(response);
    expect(params.get("state")).toBe("second-state");
    const second = await server.exchangeCode(params.get("code") ?? "");
    expect(decodePayload(second.id_token).sub).toBe(decodePayload(tokens.id_token).sub);
  });

  it("shows the form anyway with prompt=login, and sign-up with prompt=create", async () => {
    const login = await get(server.authorizeUrl({ prompt: "login" }), jar);
    expect(login.status).toBe(200);
    expect(await login.text()).toContain("<h1>Sign in</h1>");
    const create = await get(server.authorizeUrl({ prompt: "create" }), jar);
    expect(await create.text()).toContain("<h1>Create your account</h1>");
  });

  it("signs in again with the password, email case and spaces ignored", async () => {
    const { response } = await server.signIn({ ...credentials, email: `  ${credentials.email.toUpperCase()} ` });
    const second = await server.exchangeCode(callbackParams(response).get("code") ?? "");
    expect(decodePayload(second.id_token).email).toBe(credentials.email);
  });

  it("prefills the email from login_hint and ignores unknown parameters", async () => {
    const response = await get(
      server.authorizeUrl({
        login_hint: "hint@example.com",
        lang: "fr",
        returnTo: "/x",
        pricing_table_key: "pro",
      }),
    );
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('value="hint@example.com"');
  });

  it("shows a name change made at the provider on the next refresh", async () => {
    const page = await get(`${server.url}/account`, jar);
    expect(page.status).toBe(200);
    const html = await page.text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
    const saved = await postForm(`${server.url}/account`, { csrf, p_first_name: "Augusta", p_last_name: "King" }, jar);
    expect(saved.status).toBe(303);
    expect(saved.headers.get("Location")).toBe("/account?saved=1");
    const refreshed = await server.refresh(tokens.refresh_token);
    const payload = decodePayload(String(refreshed.body.id_token));
    expect(payload).toMatchObject({ given_name: "Augusta", family_name: "King", name: "Augusta King" });
    tokens = refreshed.body as unknown as TokenSet;
  });

  it("refuses an account form without the session's CSRF token", async () => {
    const response = await postForm(`${server.url}/account`, { csrf: "wrong", p_first_name: "Mallory" }, jar);
    expect(response.status).toBe(403);
  });
});

describe("sign-in and sign-up errors", () => {
  const credentials = newCredentials();

  beforeAll(async () => {
    await server.signUp(credentials);
  });

  it("uses one message for a wrong password and an unknown email, keeping the email", async () => {
    const wrongPassword = await server.signIn({ ...credentials, password: "not the password" });
    const unknownEmail = await server.signIn({ email: "nobody@example.com", password: "whatever123" });
    for (const [{ response }, email] of [
      [wrongPassword, credentials.email],
      [unknownEmail, "nobody@example.com"],
    ] as const) {
      expect(response.status).toBe(401);
      const html = await response.text();
      expect(html).toContain("Incorrect email or password.");
      expect(html).toContain(`value="${email}"`);
      expect(html).not.toContain("not the password");
    }
  });

  it("explains each bad sign-up field and keeps what was typed, never the password", async () => {
    const form = await server.openForm(server.authorizeUrl({ start_page: "registration" }));
    const attempt = async (fields: Record<string, string>) => {
      const response = await form.submit("/auth/sign-up", fields);
      expect(response.status).toBe(400);
      return response.text();
    };
    const invalid = await attempt({
      p_email: "not-an-email",
      p_password: "secret-typed-here",
      p_first_name: "<script>x</script>",
    });
    expect(invalid).toContain("Enter an email address like name@example.com.");
    expect(invalid).toContain('value="not-an-email"');
    expect(invalid).toContain("&lt;script&gt;x&lt;/script&gt;");
    expect(invalid).not.toContain("<script>x");
    expect(invalid).not.toContain("secret-typed-here");

    expect(await attempt({ p_email: "ok@example.com", p_password: "short" })).toContain("Use at least 8 characters.");
    expect(await attempt({ p_email: credentials.email.toUpperCase(), p_password: "long enough pw" })).toContain(
      "An account with this email already exists.",
    );
    expect(
      await attempt({ p_email: "ok@example.com", p_password: "long enough pw", p_first_name: "x".repeat(101) }),
    ).toContain("Use at most 100 characters.");
  });

  it("cancel sends the user back with error=access_denied and the state", async () => {
    const page = await get(server.authorizeUrl({ state: "cancel-state" }));
    const html = await page.text();
    const cancelHref = /href="(\/auth\/cancel\?request=[^"]+)"/.exec(html)?.[1];
    expect(cancelHref).toBeDefined();
    const params = callbackParams(await get(`${server.url}${cancelHref?.replaceAll("&amp;", "&")}`));
    expect(params.get("error")).toBe("access_denied");
    expect(params.get("error_description")).toBeTruthy();
    expect(params.get("state")).toBe("cancel-state");
    expect(params.get("code")).toBeNull();
  });

  it("treats a stale or unknown request id as expired, not as an error", async () => {
    for (const url of [`${server.url}/auth/sign-in?request=unknown`, `${server.url}/auth/cancel?request=unknown`]) {
      const response = await get(url);
      expect(response.status).toBe(400);
      expect(await response.text()).toContain("This sign-in link has expired");
    }
    const post = await postForm(`${server.url}/auth/sign-in`, {
      request_id: "unknown",
      p_email: "a@b.co",
      p_password: "x",
    });
    expect(post.status).toBe(400);
  });

  it("refuses a form posted from another site (login CSRF)", async () => {
    const form = await server.openForm(server.authorizeUrl());
    const response = await form.submit(
      "/auth/sign-in",
      { p_email: credentials.email, p_password: credentials.password },
      { "Sec-Fetch-Site": "cross-site" },
    );
    expect(response.status).toBe(403);
  });
});

describe("authorization request validation", () => {
  it("shows an error page, never a redirect, for an unknown client or return address", async () => {
    const requests: Record<string, string>[] = [
      { client_id: "someone-else" },
      { redirect_uri: "http://evil.example/kinde-auth/callback" },
      { redirect_uri: `${SITE_URL}/kinde-auth/callback/extra` },
      { redirect_uri: "" },
    ];
    for (const extra of requests) {
      const response = await get(server.authorizeUrl(extra));
      expect(response.status).toBe(400);
      expect(response.headers.get("Location")).toBeNull();
      expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    }
  });

  it("redirects other mistakes back to the app as OAuth errors", async () => {
    const cases: [Record<string, string>, string][] = [
      [{ response_type: "token" }, "unsupported_response_type"],
      [{ state: "" }, "invalid_request"],
      [{ scope: "openid \u0001" }, "invalid_scope"],
      [{ code_challenge_method: "plain", code_challenge: "x".repeat(43) }, "invalid_request"],
    ];
    for (const [extra, error] of cases) {
      const params = callbackParams(await get(server.authorizeUrl(extra)));
      expect(params.get("error")).toBe(error);
    }
  });

  it("refuses a state shorter than Kinde's 8 characters, telling the app why", async () => {
    const params = callbackParams(await get(server.authorizeUrl({ state: "seven77" })));
    expect(params.get("error")).toBe("invalid_request");
    expect(params.get("error_description")).toBe("The state parameter must be at least 8 characters");
    expect(params.get("state")).toBe("seven77");
    expect((await get(server.authorizeUrl({ state: "eight888" }))).status).toBe(200);
  });

  it("prompt=none without a session answers login_required", async () => {
    const params = callbackParams(await get(server.authorizeUrl({ prompt: "none", state: "state-one" })));
    expect(params.get("error")).toBe("login_required");
    expect(params.get("state")).toBe("state-one");
  });
});

describe("logout", () => {
  it("ends the provider session and returns to an address on the app's origin", async () => {
    const { jar } = await server.signUp(newCredentials());
    const response = await get(`${server.url}/logout?redirect=${SITE_URL}`, jar);
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe(`${SITE_URL}/`);
    expect(response.headers.getSetCookie()[0]).toMatch(/^kinde_local_session=; .*Max-Age=0/);
    // The session is gone server-side too: the next authorization shows the form.
    const next = await get(server.authorizeUrl(), jar);
    expect(next.status).toBe(200);
  });

  it("keeps an unencoded redirect with its own query intact (the SDK does not encode it)", async () => {
    // Logout URLs must be on the application's list, so this server allows these two.
    const own = await startServerForTest({ logoutUrls: [SITE_URL, `${SITE_URL}/bye?a=1&b=2`, `${SITE_URL}/x?y=1`] });
    const response = await get(`${own.url}/logout?redirect=${SITE_URL}/bye?a=1&b=2`);
    expect(response.headers.get("Location")).toBe(`${SITE_URL}/bye?a=1&b=2`);
    const encoded = await get(`${own.url}/logout?redirect=${encodeURIComponent(`${SITE_URL}/x?y=1`)}`);
    expect(encoded.headers.get("Location")).toBe(`${SITE_URL}/x?y=1`);
  });

  it("refuses to redirect anywhere else (no open redirect)", async () => {
    for (const target of [
      "http://evil.example/",
      "//evil.example/",
      "http://localhost:3999.evil.example/",
      "http://user:pass@localhost:3999/",
      "javascript:alert(1)",
      "/relative",
      `${SITE_URL.replace("3999", "4000")}/`,
    ]) {
      const response = await get(`${server.url}/logout?redirect=${encodeURIComponent(target)}`);
      expect(response.status, target).toBe(200);
      expect(response.headers.get("Location")).toBeNull();
      expect(await response.text()).toContain("You are signed out");
    }
  });
});

describe("response headers", () => {
  it("lock pages down with CSP and friends", async () => {
    const response = await get(server.authorizeUrl());
    expect(response.headers.get("content-security-policy")).toBe(
      `default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self' ${SITE_URL}; frame-ancestors 'none'; base-uri 'none'`,
    );
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const html = await response.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toContain("<title>");
    expect(html).toContain("Local Kinde server — development only");
    expect(html).toMatch(/<label for="p_email">/);
    expect(html).toMatch(/<input id="p_password" name="p_password" type="password"/);
  });

  it("logs one line per request, without query strings", async () => {
    await get(`${server.url}/oauth2/auth?code=supersecretcode&client_id=x`);
    const line = server.logs.find((entry) => entry.startsWith("GET /oauth2/auth 400"));
    expect(line).toMatch(/^GET \/oauth2\/auth 400 \d+ms$/);
    expect(server.logs.join("\n")).not.toContain("supersecretcode");
  });
});

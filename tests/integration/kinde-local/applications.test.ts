/**
 * Applications as in Kinde's settings: several client ids, each with its own allowed
 * callback and logout URLs (exact match), regular or machine-to-machine.
 */
import { readFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import {
  CLIENT_ID,
  CLIENT_SECRET,
  CONFIG_PATH,
  configWith,
  type Credentials,
  decodePayload,
  get,
  newCredentials,
  REDIRECT_URI,
  SITE_URL,
  startServer,
  startServerForTest,
  TestBrowser,
  type TestServer,
  useServer,
} from "./harness.ts";

const OTHER_SITE = "http://localhost:4555";
const SECOND = {
  name: "Second app",
  clientId: "fedcba9876543210fedcba9876543210",
  clientSecret: "S3condAppS3cr3tS3condAppS3cr3tS3condAppS3",
  callbackUrls: [`${OTHER_SITE}/api/auth/kinde_callback`, `${OTHER_SITE}/other-callback`],
  logoutUrls: [`${OTHER_SITE}/signed-out`],
};
const DEFAULT = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
const M2M = {
  clientId: "m2m00000000000000000000000000001",
  clientSecret: "M2mS3cr3tM2mS3cr3tM2mS3cr3tM2mS3cr3tM2mS3",
  type: "m2m" as const,
  scopes: ["read:users" as const],
};

const server = useServer({ applications: [SECOND, M2M] });

function authorizeFor(clientId: string, redirectUri: string, extra: Record<string, string> = {}) {
  return server.authorizeUrl({ client_id: clientId, redirect_uri: redirectUri, ...extra });
}

/** Signs in through the form of an authorization URL; returns the callback URL it redirected to. */
async function signInThrough(url: string, credentials: Credentials, jar = new TestBrowser()) {
  const { html, submit } = await server.openForm(url, jar);
  const response = await submit("/auth/sign-in", { p_email: credentials.email, p_password: credentials.password });
  expect(response.status).toBe(302);
  return { html, callback: new URL(response.headers.get("Location") ?? ""), jar };
}

/** A token request authenticated as `client`. */
function requestAs(client: typeof DEFAULT, fields: Record<string, string>, to: TestServer = server) {
  return to.tokenRequest({ client_id: client.clientId, client_secret: client.clientSecret, ...fields });
}

function exchangeAs(client: typeof DEFAULT, code: string, redirectUri: string) {
  return requestAs(client, { grant_type: "authorization_code", redirect_uri: redirectUri, code });
}

describe("allowed callback URLs", () => {
  it("refuses a callback that is not on the requesting application's list, with a page, never a redirect", async () => {
    for (const [clientId, redirectUri] of [
      [CLIENT_ID, SECOND.callbackUrls[0] ?? ""],
      [SECOND.clientId, REDIRECT_URI],
      [SECOND.clientId, `${OTHER_SITE}/api/auth/kinde_callback/extra`],
      [SECOND.clientId, `${OTHER_SITE}/api/auth/kinde_callback?x=1`],
    ] as const) {
      const response = await get(authorizeFor(clientId, redirectUri));
      expect(response.status, `${clientId} ${redirectUri}`).toBe(400);
      expect(response.headers.get("Location")).toBeNull();
      expect(await response.text()).toContain("Return address not allowed");
    }
  });

  it("accepts every URL on the list; the default application's includes /auth/success", async () => {
    for (const [clientId, redirectUri] of [
      [CLIENT_ID, REDIRECT_URI],
      [CLIENT_ID, `${SITE_URL}/auth/success`],
      // Compared as URLs: the case of the host does not matter.
      [CLIENT_ID, REDIRECT_URI.replace("localhost", "LOCALHOST")],
      [SECOND.clientId, SECOND.callbackUrls[1] ?? ""],
    ] as const) {
      const response = await get(authorizeFor(clientId, redirectUri));
      expect(response.status, redirectUri).toBe(200);
      expect(await response.text()).toContain("<h1>Sign in</h1>");
    }
  });

  it("sends OAuth errors to the callback the request named", async () => {
    const response = await get(authorizeFor(SECOND.clientId, SECOND.callbackUrls[1] ?? "", { response_type: "x" }));
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("Location") ?? "");
    expect(`${location.origin}${location.pathname}`).toBe(SECOND.callbackUrls[1]);
    expect(location.searchParams.get("error")).toBe("unsupported_response_type");
  });
});

describe("a second application", () => {
  const credentials = newCredentials();
  const callbackUrl = SECOND.callbackUrls[0] ?? "";

  beforeAll(async () => {
    await server.signUp(credentials);
  });

  it("completes the authorization-code flow and gets tokens minted for itself", async () => {
    const { html, callback } = await signInThrough(
      authorizeFor(SECOND.clientId, callbackUrl, { state: "second-app-state" }),
      credentials,
    );
    expect(html).toContain(OTHER_SITE);
    expect(`${callback.origin}${callback.pathname}`).toBe(callbackUrl);
    expect(callback.searchParams.get("state")).toBe("second-app-state");
    const { status, body } = await exchangeAs(SECOND, callback.searchParams.get("code") ?? "", callbackUrl);
    expect(status).toBe(200);
    const access = decodePayload(String(body.access_token));
    const id = decodePayload(String(body.id_token));
    expect(access).toMatchObject({ azp: SECOND.clientId, aud: [] });
    expect(id).toMatchObject({ azp: SECOND.clientId, aud: [SECOND.clientId], email: credentials.email });

    // Its refresh token is its own: the default application cannot use it, it can.
    const refreshAs = (client: typeof DEFAULT) =>
      requestAs(client, { grant_type: "refresh_token", refresh_token: String(body.refresh_token) });
    expect((await refreshAs(DEFAULT)).body.error).toBe("invalid_grant");
    const refreshed = await refreshAs(SECOND);
    expect(refreshed.status).toBe(200);
    expect(decodePayload(String(refreshed.body.id_token)).aud).toEqual([SECOND.clientId]);
  });

  it("refuses its code to the default application (and the default application's code to it)", async () => {
    const second = await signInThrough(authorizeFor(SECOND.clientId, callbackUrl), credentials);
    const stolen = await exchangeAs(DEFAULT, second.callback.searchParams.get("code") ?? "", callbackUrl);
    expect(stolen.body.error).toBe("invalid_grant");

    const first = await signInThrough(server.authorizeUrl(), credentials);
    const reverse = await exchangeAs(SECOND, first.callback.searchParams.get("code") ?? "", REDIRECT_URI);
    expect(reverse.body.error).toBe("invalid_grant");
  });

  it("gets single sign-on from a session started through the default application", async () => {
    const { jar } = await server.signUp(newCredentials());
    const response = await get(authorizeFor(SECOND.clientId, callbackUrl), jar);
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("Location") ?? "");
    expect(`${location.origin}${location.pathname}`).toBe(callbackUrl);
    const { body } = await exchangeAs(SECOND, location.searchParams.get("code") ?? "", callbackUrl);
    expect(decodePayload(String(body.id_token)).aud).toEqual([SECOND.clientId]);
  });
});

describe("allowed logout URLs", () => {
  const logout = (query: string) => get(`${server.url}/logout?${query}`);

  it("redirects only to a URL on an application's list", async () => {
    const allowed = await logout(`redirect=${SITE_URL}`);
    expect(allowed.status).toBe(302);
    expect(allowed.headers.get("Location")).toBe(`${SITE_URL}/`);
    const second = await logout(`redirect=${encodeURIComponent(`${OTHER_SITE}/signed-out`)}`);
    expect(second.headers.get("Location")).toBe(`${OTHER_SITE}/signed-out`);
    // Same origin as an allowed URL is not enough: the list is matched exactly.
    for (const target of [`${SITE_URL}/dashboard`, `${OTHER_SITE}/`, `${OTHER_SITE}/signed-out?next=/x`]) {
      const refused = await logout(`redirect=${encodeURIComponent(target)}`);
      expect(refused.status, target).toBe(200);
      expect(refused.headers.get("Location")).toBeNull();
      expect(await refused.text()).toContain("You are signed out");
    }
  });

  it("with client_id, allows only that application's list", async () => {
    const own = await logout(`client_id=${SECOND.clientId}&redirect=${encodeURIComponent(`${OTHER_SITE}/signed-out`)}`);
    expect(own.headers.get("Location")).toBe(`${OTHER_SITE}/signed-out`);
    const foreign = await logout(`client_id=${SECOND.clientId}&redirect=${encodeURIComponent(SITE_URL)}`);
    expect(foreign.status).toBe(200);
    expect(foreign.headers.get("Location")).toBeNull();
  });
});

describe("machine-to-machine and regular applications' grants", () => {
  const clientCredentials = { grant_type: "client_credentials" };

  it("an m2m application gets Management API tokens with its scopes, and nothing else", async () => {
    const token = await requestAs(M2M, clientCredentials);
    expect(token.status).toBe(200);
    expect(decodePayload(String(token.body.access_token))).toMatchObject({ azp: M2M.clientId, scp: ["read:users"] });
    const wider = await requestAs(M2M, { ...clientCredentials, scope: "read:users delete:users" });
    expect(wider.body.error).toBe("invalid_scope");
    const code = await exchangeAs(M2M, "x", REDIRECT_URI);
    expect(code.body.error).toBe("unauthorized_client");
    const page = await get(authorizeFor(M2M.clientId, REDIRECT_URI));
    expect(page.status).toBe(400);
    expect(page.headers.get("Location")).toBeNull();
  });

  it("a regular application other than the default one may not use client_credentials", async () => {
    expect((await requestAs(SECOND, clientCredentials)).body.error).toBe("unauthorized_client");
  });

  it("the committed config.json's m2m application gets what users:sync and org:add-member need", async () => {
    const config = JSON.parse(await readFile(CONFIG_PATH, "utf8")) as {
      applications: { client_id: string; client_secret: string }[];
    };
    const sync = {
      clientId: config.applications[0]?.client_id ?? "",
      clientSecret: config.applications[0]?.client_secret ?? "",
    };
    const { status, body } = await requestAs(sync, clientCredentials);
    expect(status).toBe(200);
    expect(decodePayload(String(body.access_token)).scp).toEqual([
      "read:users",
      "read:organizations",
      "read:organization_users",
      "create:organization_users",
    ]);
  });

  it("a wrong secret for a known application is invalid_client", async () => {
    const { status, body } = await requestAs({ ...M2M, clientSecret: SECOND.clientSecret }, clientCredentials);
    expect(status).toBe(401);
    expect(body.error).toBe("invalid_client");
  });
});

describe("applications from the config file", () => {
  const FILE_APP = {
    name: "From the file",
    client_id: "f11e0000000000000000000000000001",
    client_secret: "F1leAppS3cr3tF1leAppS3cr3tF1leAppS3cr3t00",
    callback_urls: ["http://localhost:4666/callback"],
    logout_urls: ["http://localhost:4666/"],
  };
  const FILE_M2M = {
    clientId: "f11e0000000000000000000000000002",
    clientSecret: "F1leM2mS3cr3tF1leM2mS3cr3tF1leM2mS3cr3t00",
  };

  it("are accepted like those given as options", async () => {
    const configPath = await configWith(server.dataDir, {
      applications: [FILE_APP, { type: "m2m", client_id: FILE_M2M.clientId, client_secret: FILE_M2M.clientSecret }],
    });
    const own = await startServerForTest({ configPath });
    const page = await get(
      own.authorizeUrl({ client_id: FILE_APP.client_id, redirect_uri: FILE_APP.callback_urls[0] ?? "" }),
    );
    expect(page.status).toBe(200);
    expect((await requestAs(FILE_M2M, { grant_type: "client_credentials" }, own)).status).toBe(200);
    const logout = await get(`${own.url}/logout?redirect=${encodeURIComponent("http://localhost:4666/")}`);
    expect(logout.headers.get("Location")).toBe("http://localhost:4666/");
  });

  it("stop the server at startup when a client id is taken", async () => {
    const configPath = await configWith(server.dataDir, {
      applications: [{ client_id: CLIENT_ID, client_secret: "x".repeat(40), callback_urls: [REDIRECT_URI] }],
    });
    await expect(startServer({ configPath })).rejects.toThrow(/Two applications have the client id/);
  });
});

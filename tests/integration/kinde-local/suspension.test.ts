/**
 * Suspending a user through the Management API, as an admin does on Kinde: sign-in is
 * refused with a clear message, their sessions end, refresh and user_profile refuse them;
 * un-suspending restores normal sign-in.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { SUSPENDED_MESSAGE } from "../../../kinde-local/routes/authorize.ts";
import {
  callbackParams,
  codeGrant,
  decodePayload,
  get,
  newCredentials,
  type TestBrowser,
  type TokenSet,
  useServer,
} from "./harness.ts";
import { useManagementApi } from "./management-api.ts";

const server = useServer();
const admin = useManagementApi(server);

describe("a suspended user", () => {
  const credentials = newCredentials();
  let id: string;
  let jar: TestBrowser;
  let tokens: TokenSet;
  let pendingCode: string;

  beforeAll(async () => {
    ({ jar, tokens, id } = await server.signUpWithTokens(credentials));
    // A code issued before the suspension and not yet exchanged.
    pendingCode = callbackParams(await get(server.authorizeUrl(), jar)).get("code") ?? "";
    const suspended = await admin.patchUser(id, { is_suspended: true });
    expect(suspended.status).toBe(200);
    expect(suspended.body).toMatchObject({ id, is_suspended: true });
  });

  it("is shown as suspended by the Management API", async () => {
    const { body } = await admin.api("GET", `/api/v1/user?id=${id}`);
    expect(body).toMatchObject({ id, is_suspended: true });
  });

  it("is refused on the sign-in page with a clear message once the password is right", async () => {
    const { response } = await server.signIn(credentials);
    expect(response.status).toBe(403);
    expect(response.headers.get("Location")).toBeNull();
    const html = await response.text();
    expect(html).toContain(SUSPENDED_MESSAGE.replaceAll("'", "&#39;"));
    expect(html).toContain('role="alert"');
  });

  it("learns nothing about the suspension from a wrong password", async () => {
    const { response } = await server.signIn({ ...credentials, password: "not the password" });
    expect(response.status).toBe(401);
    const html = await response.text();
    expect(html).toContain("Incorrect email or password.");
    expect(html).not.toContain("suspended");
  });

  it("has lost the provider session: no single sign-on, prompt=none answers login_required", async () => {
    const form = await get(server.authorizeUrl(), jar);
    expect(form.status).toBe(200);
    expect(await form.text()).toContain("<h1>Sign in</h1>");
    const silent = callbackParams(await get(server.authorizeUrl({ prompt: "none" }), jar));
    expect(silent.get("error")).toBe("login_required");
    const account = await get(`${server.url}/account`, jar);
    expect(account.status).toBe(401);
  });

  it("cannot refresh, exchange an earlier code, or read the user profile", async () => {
    const refreshed = await server.refresh(tokens.refresh_token);
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.error).toBe("invalid_grant");
    const exchanged = await server.tokenRequest(codeGrant(pendingCode));
    expect(exchanged.status).toBe(400);
    expect(exchanged.body).toMatchObject({ error: "invalid_grant", error_description: "The user is suspended" });
    const profile = await server.userProfile(tokens.access_token);
    expect(profile.status).toBe(401);
    expect(await profile.json()).toMatchObject({ error: "invalid_token" });
  });

  it("signs in normally again once un-suspended; tokens from before stay revoked", async () => {
    const restored = await admin.patchUser(id, { is_suspended: false });
    expect(restored.body).toMatchObject({ is_suspended: false });
    const { response, jar: fresh } = await server.signIn(credentials);
    const again = await server.exchangeCode(callbackParams(response).get("code") ?? "");
    expect(decodePayload(again.id_token).sub).toBe(id);
    expect((await server.refresh(again.refresh_token)).status).toBe(200);
    expect((await server.userProfile(again.access_token)).status).toBe(200);
    // Single sign-on works from the new session.
    expect(callbackParams(await get(server.authorizeUrl(), fresh)).get("code")).toBeTruthy();
    // Suspension ended the old refresh token for good (as a sign-out would).
    expect((await server.refresh(tokens.refresh_token)).body.error).toBe("invalid_grant");
  });
});

describe("suspension and the refresh overlap", () => {
  it("refuses a suspended user even a refresh answer that was just given to a parallel request", async () => {
    const { tokens, id } = await server.signUpWithTokens();
    // The first use starts the 30 s overlap in which the same old token gets the same answer.
    expect((await server.refresh(tokens.refresh_token)).status).toBe(200);
    await admin.patchUser(id, { is_suspended: true });
    const replay = await server.refresh(tokens.refresh_token);
    expect(replay.body.error).toBe("invalid_grant");
  });
});

import { describe, expect, it, onTestFinished } from "vitest";
import {
  callbackParams,
  decodePayload,
  get,
  newCredentials,
  startServerForTest,
  TestBrowser,
  type Credentials,
  type TokenSet,
  useServer,
} from "./harness.ts";
import { api, managementToken, useManagementApi } from "./management-api.ts";
import { verifyWebhook, WebhookReceiver } from "./webhook-receiver.ts";

const server = useServer();

const DEMO = { id: "org_0123456789a", name: "Demo Org" };
const ACME = { id: "org_abcdef01234", name: "Acme Testing" };
/** What config.json's member and admin roles grant inside an organization. */
const MEMBER_PERMISSIONS = ["read:profile", "update:profile", "create:projects"];
const ADMIN_PERMISSIONS = [...MEMBER_PERMISSIONS, "delete:projects"];
/** config.json's rule for @admin.example people adds the app-wide grants. */
const ADMIN_RULE_PERMISSIONS = [...ADMIN_PERMISSIONS, "read:users", "update:users"];

function claims(tokens: TokenSet) {
  return { access: decodePayload(tokens.access_token), id: decodePayload(tokens.id_token) };
}

const register = (extra: Record<string, string>) =>
  server.authorizeUrl({ start_page: "registration", prompt: "create", ...extra });

async function signUpCreating(orgName: string, credentials: Credentials = newCredentials(), jar = new TestBrowser()) {
  const response = await server.submitSignUp(register({ is_create_org: "true", org_name: orgName }), credentials, jar);
  const tokens = await server.exchangeCode(callbackParams(response).get("code") ?? "");
  return { tokens, jar, credentials };
}

async function signInTo(credentials: Credentials, orgCode: string, jar = new TestBrowser()) {
  return (await server.signIn(credentials, jar, { org_code: orgCode })).response;
}

describe("organizations from config.json", () => {
  it("put a new person in the default organization, with its name, permissions and roles", async () => {
    const { tokens } = await server.signUpWithTokens();
    const { access, id } = claims(tokens);
    expect(access).toMatchObject({
      org_code: DEMO.id,
      org_name: DEMO.name,
      permissions: MEMBER_PERMISSIONS,
      roles: [{ key: "member" }],
    });
    expect(id).toMatchObject({ org_codes: [DEMO.id], organizations: [DEMO] });
  });

  it("keep the admin rule: an @admin.example person reads users in both organizations", async () => {
    const { tokens } = await server.signUpWithTokens(newCredentials({ email: `boss${Date.now()}@admin.example` }));
    const { access, id } = claims(tokens);
    expect(access.permissions).toEqual(ADMIN_RULE_PERMISSIONS);
    expect(access.roles).toEqual([
      { id: "role_0000000000000001", key: "member", name: "Member" },
      { id: "role_0000000000000002", key: "admin", name: "Admin" },
    ]);
    expect(id).toMatchObject({ org_codes: [DEMO.id, ACME.id], organizations: [DEMO, ACME] });
  });
});

describe("creating an organization at sign-up (is_create_org, org_name)", () => {
  it("creates it with the person as its admin and signs them in to it, with no app-wide permission", async () => {
    const { tokens } = await signUpCreating("  Lovelace Labs ");
    const { access, id } = claims(tokens);
    const code = String(access.org_code);
    expect(code).toMatch(/^org_[0-9a-f]{11}$/);
    expect(access).toMatchObject({
      org_name: "Lovelace Labs",
      permissions: ADMIN_PERMISSIONS,
      roles: [{ id: "role_0000000000000002", key: "admin", name: "Admin" }],
    });
    expect(access.permissions).not.toContain("read:users");
    expect(id.org_codes).toEqual([DEMO.id, code]);
    expect(id.organizations).toEqual([DEMO, { id: code, name: "Lovelace Labs" }]);
    for (const token of [tokens.access_token, tokens.id_token]) expect(token.length).toBeLessThan(4000);
  });

  it("says on the sign-up and sign-in pages which organization will be created", async () => {
    const form = await server.openForm(register({ is_create_org: "true", org_name: "Shown <Co>" }));
    expect(form.html).toContain("create the organization <strong>Shown &lt;Co&gt;</strong>");
    const signIn = await get(`${server.url}/auth/sign-in?request=${form.requestId}`, form.jar);
    expect(await signIn.text()).toContain("create the organization <strong>Shown &lt;Co&gt;</strong>");
  });

  it("lets a signed-in person create another one without a new account", async () => {
    const first = await signUpCreating("First Co");
    const response = await get(register({ is_create_org: "true", org_name: "Second Co" }), first.jar);
    const tokens = await server.exchangeCode(callbackParams(response).get("code") ?? "");
    const { access, id } = claims(tokens);
    expect(access.org_name).toBe("Second Co");
    expect(access.sub).toBe(claims(first.tokens).access.sub);
    expect((id.organizations as { name: string }[]).map((organization) => organization.name)).toEqual([
      DEMO.name,
      "First Co",
      "Second Co",
    ]);
  });

  it.each([
    ["an empty name", "   ", "Enter a name for the organization."],
    ["a name over 100 characters", "x".repeat(101), "Use at most 100 characters for the organization&#39;s name."],
    ["control characters", "Bad\u0007Name", "control or invisible formatting characters"],
  ])("refuses %s with a page saying why", async (_case, orgName, message) => {
    const response = await get(register({ is_create_org: "true", org_name: orgName }));
    expect(response.status).toBe(400);
    expect(await response.text()).toContain(message);
  });

  it("refuses a missing org_name the same way", async () => {
    const response = await get(register({ is_create_org: "true" }));
    expect(response.status).toBe(400);
  });
});

describe("signing in to an organization (org_code)", () => {
  it("signs a member in to the organization asked for, and keeps it across a refresh", async () => {
    const credentials = newCredentials({ email: `two${Date.now()}@admin.example` });
    await server.signUpWithTokens(credentials);
    const tokens = await server.exchangeCode(callbackParams(await signInTo(credentials, ACME.id)).get("code") ?? "");
    expect(claims(tokens).access).toMatchObject({ org_code: ACME.id, org_name: ACME.name });
    const refreshed = await server.refresh(tokens.refresh_token);
    expect(refreshed.status).toBe(200);
    expect(decodePayload(String(refreshed.body.access_token)).org_code).toBe(ACME.id);
  });

  it.each([
    ["an organization they are not in", ACME.id],
    ["a made-up code", "org_ffffffffff0"],
    ["a tampered value", "org_0123456789a' OR 1=1"],
  ])("refuses %s with a page, giving the app no code", async (_case, orgCode) => {
    const { credentials } = await server.signUpWithTokens();
    const response = await signInTo(credentials, orgCode);
    expect(response.status).toBe(403);
    expect(response.headers.get("Location")).toBeNull();
    expect(await response.text()).toContain("You are not a member of the organization");
  });

  it("refuses a non-member with a live session too (single sign-on)", async () => {
    const { jar } = await server.signUpWithTokens();
    const response = await get(server.authorizeUrl({ org_code: ACME.id }), jar);
    expect(response.status).toBe(403);
  });

  it("switches with a live session: a member is sent straight back with the other organization", async () => {
    const { tokens, jar } = await signUpCreating("Switch Co");
    const created = String(claims(tokens).access.org_code);
    const toDemo = await server.exchangeCode(
      callbackParams(await get(server.authorizeUrl({ org_code: DEMO.id }), jar)).get("code") ?? "",
    );
    expect(claims(toDemo).access).toMatchObject({ org_code: DEMO.id, roles: [{ key: "member" }] });
    const back = await server.exchangeCode(
      callbackParams(await get(server.authorizeUrl({ org_code: created }), jar)).get("code") ?? "",
    );
    expect(claims(back).access).toMatchObject({ org_code: created, roles: [{ key: "admin" }] });
  });
});

describe("the Management API's organization endpoints", () => {
  const management = useManagementApi(server);
  type OrgList = { organizations: { code: string; name: string }[]; next_token: string | null };

  async function newOrganization(name: string): Promise<string> {
    const created = await management.api<{ organization: { code: string } }>("POST", "/api/v1/organization", { name });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ code: "OK", message: "Success" });
    return created.body.organization.code;
  }

  it("creates, gets, renames and deletes an organization", async () => {
    const code = await newOrganization("Api Made");
    expect(code).toMatch(/^org_[0-9a-f]{11}$/);
    const got = await management.api("GET", `/api/v1/organization?code=${code}`);
    expect(got.body).toMatchObject({ code, name: "Api Made", is_default: false });
    expect((await management.api("PATCH", `/api/v1/organization/${code}`, { name: "Api Renamed" })).status).toBe(200);
    expect((await management.api("GET", `/api/v1/organization?code=${code}`)).body.name).toBe("Api Renamed");
    expect((await management.api("DELETE", `/api/v1/organization/${code}`)).body).toEqual({
      code: "OK",
      message: "Success",
    });
    expect((await management.api("GET", `/api/v1/organization?code=${code}`)).status).toBe(404);
    expect((await management.api("DELETE", `/api/v1/organization/${code}`)).status).toBe(404);
  });

  it("refuses a bad name, an unknown code and the default organization's deletion with clear errors", async () => {
    expect((await management.api("POST", "/api/v1/organization", { name: " " })).status).toBe(400);
    expect((await management.api("POST", "/api/v1/organization", { name: "y".repeat(101) })).status).toBe(400);
    expect((await management.api("PATCH", "/api/v1/organization/org_nope", { name: "x" })).status).toBe(404);
    expect((await management.api("GET", "/api/v1/organization/%E0%A4%A")).status).toBe(400);
    const deleteDefault = await management.api("DELETE", `/api/v1/organization/${DEMO.id}`);
    expect(deleteDefault.status).toBe(400);
  });

  it("lists organizations page by page, config.json's first", async () => {
    await newOrganization("Paged One");
    await newOrganization("Paged Two");
    const seen: string[] = [];
    let token: string | null = null;
    do {
      const page: { body: OrgList } = await management.api<OrgList>(
        "GET",
        `/api/v1/organizations?page_size=2${token ? `&next_token=${token}` : ""}`,
      );
      expect(page.body.organizations.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.organizations.map((organization) => organization.name));
      token = page.body.next_token;
    } while (token);
    expect(seen.slice(0, 2)).toEqual([DEMO.name, ACME.name]);
    expect(seen).toEqual(expect.arrayContaining(["Paged One", "Paged Two"]));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("adds a member who then signs in to it, gives them a role, and removes them", async () => {
    const code = await newOrganization("Team Co");
    const { id, credentials } = await server.signUpWithTokens();
    const added = await management.api("POST", `/api/v1/organizations/${code}/users`, { users: [{ id }] });
    expect(added.body).toEqual({ code: "OK", message: "Success", users_added: [id] });
    const listed = await management.api<{ organization_users: { id: string; roles: string[] }[] }>(
      "GET",
      `/api/v1/organizations/${code}/users`,
    );
    expect(listed.body.organization_users).toEqual([expect.objectContaining({ id, roles: ["member"] })]);

    const user = await management.api<{ organizations: string[] }>("GET", `/api/v1/user?id=${id}`);
    expect(user.body.organizations).toEqual([DEMO.id, code]);

    const tokens = await server.exchangeCode(callbackParams(await signInTo(credentials, code)).get("code") ?? "");
    expect(claims(tokens).access).toMatchObject({
      org_code: code,
      org_name: "Team Co",
      permissions: MEMBER_PERMISSIONS,
      roles: [{ key: "member" }],
    });
    expect(claims(tokens).access.permissions).not.toContain("delete:projects");

    const roles = `/api/v1/organizations/${code}/users/${id}/roles`;
    expect((await management.api("POST", roles, { role_id: "role_0000000000000002" })).status).toBe(200);
    expect(
      (await management.api<{ roles: { key: string }[] }>("GET", roles)).body.roles.map((role) => role.key),
    ).toEqual(["member", "admin"]);
    const listedAgain = await management.api<{ organization_users: { id: string; roles: string[] }[] }>(
      "GET",
      `/api/v1/organizations/${code}/users`,
    );
    expect(listedAgain.body.organization_users).toEqual([expect.objectContaining({ id, roles: ["member", "admin"] })]);
    const refreshed = await server.refresh(tokens.refresh_token);
    expect(decodePayload(String(refreshed.body.access_token))).toMatchObject({
      org_code: code,
      permissions: ADMIN_PERMISSIONS,
      roles: [{ key: "member" }, { key: "admin" }],
    });

    const removed = await management.api("DELETE", `/api/v1/organizations/${code}/users/${id}`);
    expect(removed.body).toEqual({ code: "OK", message: "Success" });
    expect((await server.refresh(String(refreshed.body.refresh_token))).body.error).toBe("invalid_grant");
    expect((await signInTo(credentials, code)).status).toBe(403);
    expect((await management.api("DELETE", `/api/v1/organizations/${code}/users/${id}`)).status).toBe(400);
  });

  it("adds a member with the roles given (what they grant plus the permissions given); refuses an unknown role", async () => {
    const code = await newOrganization("Roles Co");
    const { id, credentials } = await server.signUpWithTokens();
    const unknown = await management.api("POST", `/api/v1/organizations/${code}/users`, {
      users: [{ id, roles: ["owner"] }],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ errors: [{ code: "ROLE_INVALID" }] });
    const added = await management.api("POST", `/api/v1/organizations/${code}/users`, {
      users: [{ id, roles: ["admin"], permissions: ["export:projects"] }],
    });
    expect(added.status).toBe(200);
    const tokens = await server.exchangeCode(callbackParams(await signInTo(credentials, code)).get("code") ?? "");
    expect(claims(tokens).access).toMatchObject({
      permissions: ["export:projects", ...ADMIN_PERMISSIONS],
      roles: [{ key: "admin" }],
    });
  });

  it("can take a person out of a config.json organization", async () => {
    const { id, credentials, tokens } = await server.signUpWithTokens();
    expect(claims(tokens).id.org_codes).toEqual([DEMO.id]);
    await management.api("DELETE", `/api/v1/organizations/${DEMO.id}/users/${id}`);
    const after = await server.exchangeCode(
      callbackParams((await server.signIn(credentials)).response).get("code") ?? "",
    );
    expect(claims(after).id).toMatchObject({ org_codes: [], organizations: [] });
    expect(claims(after).access.org_code).toBeUndefined();
    expect(claims(after).access.permissions).toEqual([]);
  });

  it("needs the organization scopes", async () => {
    const readOnly = await managementToken(server, { scope: "read:users" });
    expect((await api(server, readOnly, "POST", "/api/v1/organization", { name: "No" })).status).toBe(403);
    expect((await api(server, "", "GET", "/api/v1/organizations")).status).toBe(401);
  });
});

describe("organization webhooks and the account page", () => {
  it("sends organization.created, .updated and .deleted, signed like the user events", async () => {
    const receiver = await WebhookReceiver.start();
    onTestFinished(() => receiver.stop());
    const own = await startServerForTest({ webhooks: { endpoints: [receiver.url()] } });
    const token = await managementToken(own);
    const about = async (type: string) => {
      const delivery = await receiver.waitFor((request) => request.payload.type === type);
      return (await verifyWebhook(own.url, delivery.body)).payload as Record<string, unknown>;
    };

    const response = await own.submitSignUp(
      own.authorizeUrl({ start_page: "registration", is_create_org: "true", org_name: "Hooked" }),
      newCredentials(),
    );
    callbackParams(response);
    const created = await about("organization.created");
    const code = (created.data as { organization: { code: string } }).organization.code;
    expect(created).toMatchObject({
      source: "user",
      data: { organization: { code: expect.stringMatching(/^org_[0-9a-f]{11}$/) as string, name: "Hooked" } },
    });
    await api(own, token, "PATCH", `/api/v1/organization/${code}`, { name: "Hooked Again" });
    expect(await about("organization.updated")).toMatchObject({
      source: "api",
      data: { organization: { code, name: "Hooked Again" } },
    });
    await api(own, token, "DELETE", `/api/v1/organization/${code}`);
    expect((await about("organization.deleted")).data).toEqual({ organization: { code } });
  });

  it("lists the person's organizations by name on the account page", async () => {
    const { jar } = await signUpCreating("Named <Org>");
    const page = await get(`${server.url}/account`, jar);
    const html = await page.text();
    expect(html).toContain("<h2>Your organizations</h2>");
    expect(html).toContain("<li>Demo Org</li><li>Named &lt;Org&gt;</li>");
  });
});

// Organizations end to end over HTTP with JavaScript off, through the local Kinde server, on SQLite and PostgreSQL:
// one created at sign-up, its projects shared with its members and hidden from everyone else, switching,
// permissions, removal and deletion at Kinde.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { DatabaseProvider } from "../../app/lib/database/url";
import { TestBrowser, linkHref, textOf, type Page } from "../support/browser";
import { kindeAdmin } from "../support/kinde-session";
import { kindeFormFields } from "../support/people";
import { newPerson, signInAs, signUpNewPerson } from "../support/sign-in";
import { deliverWebhook, newEventId } from "../support/kinde-webhooks";
import { expired, signWithOtherKey } from "../support/tokens";
import { useStack } from "../support/use-stack";
import { runScript, runUsersSync } from "../support/npm-script";

const unique = (name: string) => `${name} ${randomUUID().slice(0, 6)}`;

describe.each<DatabaseProvider>(["sqlite", "postgresql"])("on %s", (provider) => {
  const stack = useStack({ database: provider });
  const url = (path: string) => `${stack.appUrl}${path}`;
  const admin = () => kindeAdmin(stack);

  const one = async <T>(sql: string, ...params: unknown[]) => (await stack.database.query<T>(sql, ...params))[0];
  const organizationCode = async (name: string) =>
    (await one<{ kindeCode: string }>('SELECT "kindeCode" FROM "Organization" WHERE "name" = ?', name))?.kindeCode;
  const project = (id: number) =>
    one<{ name: string; organizationId: number }>('SELECT "name", "organizationId" FROM "Project" WHERE "id" = ?', id);
  const rolesIn = async (kindeId: string, kindeCode: string) =>
    (
      await one<{ roles: string | null }>(
        `SELECT m."roles" FROM "Membership" m JOIN "User" u ON u."id" = m."userId"
         JOIN "Organization" o ON o."id" = m."organizationId" WHERE u."kindeId" = ? AND o."kindeCode" = ?`,
        kindeId,
        kindeCode,
      )
    )?.roles;

  /** "Create an organization" on the landing page, then Kinde's sign-up form (or nothing more, signed in). */
  async function createOrganization(orgName: string, browser = new TestBrowser()) {
    const landing = await browser.get(url("/"));
    let page = await browser.submitForm(landing, { orgName });
    const person = newPerson();
    if (page.url !== url("/dashboard")) page = await browser.submitForm(page, kindeFormFields(person, "sign-up"));
    expect(page.url).toBe(url("/dashboard"));
    await stack.webhooksSettled();
    const orgCode = await organizationCode(orgName);
    expect(orgCode).toMatch(/^org_/);
    return { browser, person, orgCode: orgCode!, page };
  }

  async function signUpAs(orgName: string) {
    const created = await createOrganization(orgName);
    const user = await one<{ kindeId: string }>('SELECT "kindeId" FROM "User" WHERE "email" = ?', created.person.email);
    return { ...created, kindeId: user!.kindeId };
  }

  async function addProject(browser: TestBrowser, name: string): Promise<{ page: Page; id: number }> {
    const page = await browser.submitForm(await browser.get(url("/projects")), { name, intent: "create" });
    const row = await one<{ id: number }>('SELECT "id" FROM "Project" WHERE "name" = ?', name);
    return { page, id: Number(row?.id) };
  }

  const post = (browser: TestBrowser, path: string, fields: Record<string, string>) =>
    browser.request(
      url(path),
      {
        method: "POST",
        body: new URLSearchParams(fields),
        headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: stack.appUrl },
      },
      { follow: false },
    );

  const switchTo = (browser: TestBrowser, orgCode: string) =>
    browser.get(url(`/kinde-auth/login?${new URLSearchParams({ org_code: orgCode, returnTo: "/projects" })}`));

  it("creates an organization at sign-up; its projects are its members' and nobody else's", async () => {
    const alphaName = unique("Alpha");
    const alice = await signUpAs(alphaName);
    expect(textOf(alice.page.html)).toContain(alphaName);
    expect(await rolesIn(alice.kindeId, alice.orgCode)).toBe('["admin"]');

    const roadmap = unique("Roadmap");
    const { page: added, id } = await addProject(alice.browser, roadmap);
    expect(added.url).toBe(url("/projects"));
    expect(textOf(added.html)).toContain(`Project “${roadmap}” added.`);
    expect(await project(id)).toMatchObject({ name: roadmap });

    // A second person, added to the organization at Kinde, signs in to it and sees the project.
    const bob = await signUpNewPerson(stack);
    const script = await runScript(stack, "org:add-member", [alphaName, bob.person.email]);
    expect(script.stdout).toContain(`${bob.person.email} is in ${alphaName} (${alice.orgCode}).`);
    expect(script.code).toBe(0);
    const shared = await switchTo(bob.browser, alice.orgCode);
    expect(shared.url).toBe(url("/projects"));
    expect(textOf(shared.html)).toContain(roadmap);
    expect(await rolesIn(bob.kindeId, alice.orgCode)).toBe('["member"]');
    // A member may rename; deleting needs delete:projects, which only the organization's admins have.
    const denied = await post(bob.browser, `/projects/${id}`, { intent: "delete" });
    expect(denied.status).toBe(403);
    expect(textOf(denied.html)).toContain("delete:projects");
    expect(await project(id)).toMatchObject({ name: roadmap });
    const renamed = await post(bob.browser, `/projects/${id}`, { intent: "rename", name: `${roadmap} v2` });
    expect(renamed.status).toBe(302);
    expect(await project(id)).toMatchObject({ name: `${roadmap} v2` });

    // Someone in another organization gets a 404 for that id, by any URL or form, and changes nothing.
    const carol = await signUpAs(unique("Gamma"));
    for (const attempt of [
      () => carol.browser.get(url(`/projects/${id}`), { follow: false }),
      () => post(carol.browser, `/projects/${id}`, { intent: "rename", name: "Taken over" }),
      () => post(carol.browser, `/projects/${id}`, { intent: "delete" }),
    ]) {
      const page = await attempt();
      expect(page.status).toBe(404);
      expect(textOf(page.html)).not.toContain(roadmap);
    }
    expect(await project(id)).toMatchObject({ name: `${roadmap} v2` });
    expect(textOf((await carol.browser.get(url("/projects"))).html)).not.toContain(roadmap);

    // A tampered org_code at sign-in or at sign-up gains nothing: Kinde refuses, and the app stores no membership.
    const refused = await carol.browser.get(url(`/kinde-auth/login?org_code=${alice.orgCode}`));
    expect(refused.status).toBe(403);
    expect(textOf(refused.html)).toContain("Not a member");
    expect(textOf((await carol.browser.get(url("/projects"))).html)).not.toContain(roadmap);
    const mallory = new TestBrowser();
    const signUpForm = await mallory.get(url(`/kinde-auth/register?org_code=${alice.orgCode}`));
    const tampered = await mallory.submitForm(signUpForm, kindeFormFields(newPerson(), "sign-up"));
    expect(tampered.status).toBe(403);
    expect(textOf((await mallory.get(url("/projects"))).html)).not.toContain(roadmap);
    const members = await stack.database.query(
      `SELECT m."id" FROM "Membership" m JOIN "Organization" o ON o."id" = m."organizationId" WHERE o."kindeCode" = ?`,
      alice.orgCode,
    );
    expect(members).toHaveLength(2);
  });

  it("says in one line why org:add-member cannot add someone", async () => {
    const alice = await signUpAs(unique("Alpha"));
    const { person: bob } = await signUpNewPerson(stack);
    const again = await runScript(stack, "org:add-member", [alice.orgCode, alice.person.email]);
    expect(again.stdout).toContain(`${alice.person.email} was already in ${alice.orgCode}; nothing changed.`);
    for (const [args, message, code] of [
      [[alice.orgCode, "nobody@example.com"], "Kinde has no user with the email nobody@example.com", 1],
      [["No Such Organization", alice.person.email], "Kinde has no organization called No Such Organization", 1],
      [[alice.orgCode, "not-an-email"], "not-an-email is not an email address", 2],
      [[alice.orgCode], "Usage: npm run org:add-member", 2],
      [[alice.orgCode, bob.email, "owner"], "Kinde answered 400 for adding a member", 1],
    ] as const) {
      const result = await runScript(stack, "org:add-member", [...args]);
      expect(result.code, `${args.join(" ")}: ${result.stdout} ${result.stderr}`).toBe(code);
      expect(result.stderr).toContain(message);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("acts only in the token's organization, and switches between two organizations and back", async () => {
    const [alphaName, betaName] = [unique("Alpha"), unique("Beta")];
    const alice = await signUpAs(alphaName);
    const { id: alphaProject } = await addProject(alice.browser, unique("Alpha plan"));

    // Signed in, "Create an organization" goes through Kinde's single sign-on and lands in the new one.
    const beta = await createOrganization(betaName, alice.browser);
    expect(await rolesIn(alice.kindeId, beta.orgCode)).toBe('["admin"]');
    const { id: betaProject } = await addProject(alice.browser, unique("Beta plan"));
    const inBeta = await alice.browser.get(url("/projects"));
    expect(textOf(inBeta.html)).toContain(`${betaName} (current)`);
    expect(textOf(inBeta.html)).not.toContain("Alpha plan");

    // Being a member of Alpha does not let a token for Beta act on Alpha's project.
    for (const attempt of [
      () => alice.browser.get(url(`/projects/${alphaProject}`), { follow: false }),
      () => post(alice.browser, `/projects/${alphaProject}`, { intent: "delete" }),
    ]) {
      expect((await attempt()).status).toBe(404);
    }
    expect(await project(alphaProject)).toBeDefined();

    const backInAlpha = await alice.browser.get(linkHref(inBeta, alphaName));
    expect(backInAlpha.url).toBe(url("/projects"));
    expect(textOf(backInAlpha.html)).toContain(`${alphaName} (current)`);
    expect(textOf(backInAlpha.html)).toContain("Alpha plan");
    expect((await alice.browser.get(url(`/projects/${betaProject}`), { follow: false })).status).toBe(404);
  });

  it("ends a removed member's access at once when the app hears of it (users:sync)", async () => {
    const alice = await signUpAs(unique("Alpha"));
    const bob = await signUpNewPerson(stack);
    await (await admin()).addMembers(alice.orgCode, [{ id: bob.kindeId }]);
    expect((await switchTo(bob.browser, alice.orgCode)).url).toBe(url("/projects"));

    await (await admin()).removeMember(alice.orgCode, bob.kindeId);
    expect((await runUsersSync(stack)).code).toBe(0);
    // His access token still names Alpha and has not expired: the app's membership row decides.
    const page = await bob.browser.get(url("/projects"), { follow: false });
    expect(page.status).toBe(403);
    expect(textOf(page.html)).toContain("You are no longer in");
  });

  it("ends a removed member's access at their next token refresh", async () => {
    const alice = await signUpAs(unique("Alpha"));
    const bob = await signUpNewPerson(stack);
    await (await admin()).addMembers(alice.orgCode, [{ id: bob.kindeId }]);
    expect((await switchTo(bob.browser, alice.orgCode)).url).toBe(url("/projects"));

    await (await admin()).removeMember(alice.orgCode, bob.kindeId);
    const accessToken = (await bob.browser.cookie(stack.appUrl, "access_token"))!;
    await bob.browser.setCookie(stack.appUrl, "access_token", await expired(stack.kindeDataDir, accessToken));
    const page = await bob.browser.get(url("/projects"), { follow: false });
    expect(page.status).toBe(302);
    expect(page.headers.get("Location")).toMatch(/^\/kinde-auth\/login\?/);
  });

  it("drops a membership taken away at Kinde at the next token refresh of a session in another organization", async () => {
    const alice = await signUpAs(unique("Alpha"));
    const bob = await signUpNewPerson(stack);
    await (await admin()).addMembers(alice.orgCode, [{ id: bob.kindeId }]);
    expect((await switchTo(bob.browser, alice.orgCode)).url).toBe(url("/projects"));
    const defaultOrgCode = "org_0123456789a";
    expect((await switchTo(bob.browser, defaultOrgCode)).url).toBe(url("/projects"));
    expect(await rolesIn(bob.kindeId, alice.orgCode)).toBe('["member"]');

    await (await admin()).removeMember(alice.orgCode, bob.kindeId);
    const accessToken = (await bob.browser.cookie(stack.appUrl, "access_token"))!;
    await bob.browser.setCookie(stack.appUrl, "access_token", await expired(stack.kindeDataDir, accessToken));
    const page = await bob.browser.get(url("/dashboard"), { follow: false });
    expect(page.status).toBe(200);
    expect(await rolesIn(bob.kindeId, alice.orgCode)).toBeUndefined();
    expect(await rolesIn(bob.kindeId, defaultOrgCode)).toBeDefined();
  });

  it("removes an organization's memberships and projects when Kinde deletes it", async () => {
    const alice = await signUpAs(unique("Alpha"));
    const { id } = await addProject(alice.browser, unique("Doomed"));
    // A forged organization.deleted is refused and deletes nothing.
    const forged = {
      data: { organization: { code: alice.orgCode } },
      event_id: newEventId(),
      source: "api",
      timestamp: new Date().toISOString(),
      type: "organization.deleted",
    };
    expect((await deliverWebhook(stack, await signWithOtherKey(forged, "kid-of-someone-else"))).status).toBe(401);
    expect(await project(id)).toBeDefined();

    await (await admin()).deleteOrganization(alice.orgCode);
    await stack.webhooksSettled();

    expect(await project(id)).toBeUndefined();
    expect(await one('SELECT "id" FROM "Organization" WHERE "kindeCode" = ?', alice.orgCode)).toBeUndefined();
    expect(
      await one('SELECT "kindeCode" FROM "DeletedKindeOrganization" WHERE "kindeCode" = ?', alice.orgCode),
    ).toBeDefined();
    // Her token still names the organization until it expires: the app no longer holds the membership.
    const page = await alice.browser.get(url("/projects"), { follow: false });
    expect(page.status).toBe(403);
    expect(textOf(page.html)).toContain("You are no longer in");
  });

  it("answers bad input with a clear page and changes nothing", async () => {
    const noName = await new TestBrowser().submitForm(await new TestBrowser().get(url("/")), { orgName: "  " });
    expect(noName.status).toBe(400);
    expect(textOf(noName.html)).toContain("Organization name is required.");

    const alice = await signUpAs(unique("Alpha"));
    const { id } = await addProject(alice.browser, unique("Kept"));
    const before = await project(id);
    for (const [fields, message] of [
      [{ intent: "create", name: "" }, "Project name is required."],
      [{ intent: "create", name: "x".repeat(101) }, "Project name must be at most 100 characters."],
      [{ intent: "create", name: "a\u0000b" }, "Project name contains characters that are not allowed."],
    ] as const) {
      const page = await post(alice.browser, "/projects", fields);
      expect(page.status).toBe(400);
      expect(textOf(page.html)).toContain(message);
    }
    expect((await post(alice.browser, `/projects/${id}`, { intent: "rename", name: "" })).status).toBe(400);
    expect((await post(alice.browser, `/projects/${id}`, { intent: "archive" })).status).toBe(400);
    for (const path of ["/projects/abc", "/projects/0", "/projects/-1", "/projects/99999999999", "/projects/1.5"]) {
      expect((await alice.browser.get(url(path), { follow: false })).status).toBe(404);
    }
    expect(await project(id)).toEqual(before);
    const count = await one<{ count: unknown }>(
      'SELECT COUNT(*) AS "count" FROM "Project" p JOIN "Organization" o ON o."id" = p."organizationId" WHERE o."kindeCode" = ?',
      alice.orgCode,
    );
    expect(Number(count?.count)).toBe(1);

    const signedOut = await new TestBrowser().get(url("/projects"), { follow: false });
    expect(signedOut.headers.get("Location")).toMatch(/^\/kinde-auth\/login\?returnTo=%2Fprojects/);
    const { browser } = await signInAs(stack, {}, { claims: { orgCode: null, orgCodes: [] } });
    const outside = await browser.get(url("/projects"), { follow: false });
    expect(outside.status).toBe(403);
    expect(textOf(outside.html)).toContain("You are not in an organization");
  });
});

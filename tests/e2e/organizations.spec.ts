// Organizations in the browser, with JavaScript on and off: the whole story (created at sign-up, a project
// shared with a member added at Kinde, hidden from another organization, switching), and axe on its pages.
import type { Page } from "@playwright/test";
import { randomUUID } from "node:crypto";
import { expectNoSeriousA11yViolations } from "./support/axe";
import { queryDatabase, onlyUserWithEmail } from "./support/db";
import {
  appPath,
  expectKindePage,
  fillSignUp,
  newPerson,
  signIn,
  signOut,
  signUp,
  waitForApp,
  type Person,
} from "./support/auth-steps";
import { kindeEventsDelivered, localKindeAdmin } from "./support/kinde";
import { expect, test, type LocalStack } from "./support/test";

const unique = (name: string) => `${name} ${randomUUID().slice(0, 6)}`;

const switcher = (page: Page) => page.getByRole("banner").locator("details.org-switcher");

async function expectCurrentOrganization(page: Page, orgName: string): Promise<void> {
  await expect(switcher(page).locator("summary")).toHaveText(`Organization: ${orgName}`);
}

async function openSwitcher(page: Page) {
  await switcher(page).locator("summary").click();
  const list = page.getByRole("list", { name: "Your organizations" });
  await expect(list).toBeVisible();
  return list;
}

/** The header switcher: a sign-in to the other organization that Kinde's live session answers at once. */
async function switchTo(page: Page, orgName: string): Promise<void> {
  await (await openSwitcher(page)).getByRole("link", { name: orgName, exact: true }).click();
  await expect(page).toHaveURL(appPath("/projects"));
  await expectCurrentOrganization(page, orgName);
  await waitForApp(page);
}

/** The landing page's "Starting a team?" card, then the local Kinde sign-up page. */
async function createOrganizationAtSignUp(page: Page, stack: LocalStack, orgName: string): Promise<Person> {
  await page.goto("/");
  await waitForApp(page);
  const card = page.getByRole("region", { name: "Starting a team?" });
  await card.getByLabel("Organization name").fill(orgName);
  await card.getByRole("button", { name: "Create an organization" }).click();
  await expectKindePage(page, stack, "Create your account");
  const person = newPerson();
  await fillSignUp(page, person);
  await expect(page).toHaveURL(appPath("/dashboard"));
  await waitForApp(page);
  await kindeEventsDelivered({ email: person.email });
  await expectCurrentOrganization(page, orgName);
  return person;
}

async function openProjects(page: Page, orgName: string) {
  await page.getByRole("banner").getByRole("link", { name: "Projects" }).click();
  await expect(page).toHaveURL(appPath("/projects"));
  await expect(page.getByRole("heading", { level: 1, name: "Projects" })).toBeVisible();
  await expect(page.getByText(`Everyone in ${orgName} sees these projects`)).toBeVisible();
  await waitForApp(page);
  return page.getByRole("list", { name: `Projects of ${orgName}` });
}

/** Submits the admin's "Delete project" form, which a member's page leaves out, as a plain HTML form would. */
async function replayDeleteForm(page: Page) {
  await page.getByRole("main").evaluate((main) => {
    const form = main.ownerDocument.createElement("form");
    form.method = "post";
    form.innerHTML = '<button type="submit" name="intent" value="delete">Replayed delete</button>';
    main.append(form);
  });
  const response = page.waitForResponse((candidate) => candidate.request().method() === "POST");
  await page.getByRole("button", { name: "Replayed delete" }).click();
  return response;
}

for (const javaScriptEnabled of [true, false]) {
  test.describe(`JavaScript ${javaScriptEnabled ? "on" : "off"}`, () => {
    test.use({ javaScriptEnabled });

    test("created at sign-up, shared with a member, hidden from outsiders, switched away and back", async ({
      page: alice,
      newPersonPage,
      stack,
    }) => {
      // Three people sign up and several Kinde round trips follow: longer than the default 30 s on a busy machine.
      test.slow();
      const [alphaName, betaName, gammaName] = [unique("Alpha"), unique("Beta"), unique("Gamma")];
      const roadmap = unique("Roadmap");
      // axe runs inside the page, which it cannot do without JavaScript; the server's HTML is the same either way.
      const axe = (page: Page, what: string) =>
        javaScriptEnabled ? expectNoSeriousA11yViolations(page, what) : Promise.resolve();

      // 1. Alice creates Alpha at sign-up and lands on her dashboard inside it.
      const alicePerson = await createOrganizationAtSignUp(alice, stack, alphaName);
      const aliceName = `${alicePerson.firstName} ${alicePerson.lastName}`;
      await expect(alice.getByRole("heading", { level: 1, name: aliceName })).toBeVisible();

      // 2. She adds a project.
      const alphaProjects = await openProjects(alice, alphaName);
      await expect(alice.getByTestId("no-projects")).toHaveText("No projects yet.");
      await alice.getByLabel("New project").fill(roadmap);
      await alice.getByRole("button", { name: "Add project" }).click();
      await expect(alice.getByRole("status").filter({ hasText: `Project “${roadmap}” added.` })).toBeVisible();
      await expect(alphaProjects.getByRole("listitem")).toHaveCount(1);
      const projectLink = alphaProjects.getByRole("link", { name: roadmap, exact: true });
      const projectPath = (await projectLink.getAttribute("href")) ?? "";
      expect(projectPath).toMatch(/^\/projects\/\d+$/);
      await axe(alice, "the projects page with a project");

      // 3. Bob, signed up on his own, is added to Alpha at Kinde; after signing in again the switcher lists it.
      const bob = await newPersonPage();
      const bobPerson = newPerson();
      await signUp(bob, bobPerson);
      // The other people's contexts follow the test's setting too: Remix's inline scripts ran, or not.
      expect(await bob.evaluate(() => "__remixContext" in window)).toBe(javaScriptEnabled);
      const [alpha] = await queryDatabase<{ kindeCode: string }>(
        stack.databaseFile,
        "SELECT kindeCode FROM Organization WHERE name = ?",
        alphaName,
      );
      expect(alpha?.kindeCode).toMatch(/^org_/);
      const { kindeId: bobKindeId } = await onlyUserWithEmail(stack.databaseFile, bobPerson.email);
      await (await localKindeAdmin(stack.kindeUrl)).addMembers(alpha!.kindeCode, [{ id: bobKindeId }]);
      await signOut(bob);
      await signIn(bob, bobPerson);
      await switchTo(bob, alphaName);
      await bob
        .getByRole("list", { name: `Projects of ${alphaName}` })
        .getByRole("link", { name: roadmap })
        .click();
      await expect(bob).toHaveURL(appPath(projectPath));
      await expect(bob.getByRole("heading", { level: 1, name: roadmap })).toBeVisible();
      await expect(bob.getByText(`Deleting needs the delete:projects permission in ${alphaName}.`)).toBeVisible();
      await expect(bob.getByRole("button", { name: "Delete project" })).toHaveCount(0);
      await axe(bob, "a project's page");

      const denied = await replayDeleteForm(bob);
      expect(denied.status()).toBe(403);
      await expect(bob.getByRole("heading", { level: 1, name: `Not allowed in ${alphaName}` })).toBeVisible();
      await expect(bob.getByText("delete:projects", { exact: true })).toBeVisible();
      await axe(bob, "the 403 page for a missing permission");
      await bob.getByRole("link", { name: "Back to the projects" }).click();
      await expect(bob.getByRole("list", { name: `Projects of ${alphaName}` })).toContainText(roadmap);

      // 4. Carol, in an organization of her own, sees nothing of Alpha's, even by its project's URL.
      const carol = await newPersonPage();
      await createOrganizationAtSignUp(carol, stack, gammaName);
      await openProjects(carol, gammaName);
      await expect(carol.getByTestId("no-projects")).toHaveText("No projects yet.");
      await expect(carol.getByText(roadmap)).toHaveCount(0);
      const guessed = await carol.goto(projectPath);
      expect(guessed?.status()).toBe(404);
      await expect(carol.getByRole("heading", { level: 1, name: "Page not found" })).toBeVisible();
      await expect(carol.getByText(roadmap)).toHaveCount(0);

      // 5. Alice creates Beta while signed in (Kinde's live session: no form there), then switches back to Alpha.
      const organizations = await openSwitcher(alice);
      await expect(organizations.getByRole("link", { name: `${alphaName} (current)` })).toBeVisible();
      await axe(alice, "the header with the organization switcher open");
      await organizations.getByRole("link", { name: "Create an organization…" }).click();
      await expect(alice).toHaveURL(appPath("/organizations/new"));
      await expect(alice.getByRole("heading", { level: 1, name: "Create an organization" })).toBeVisible();
      await expect(organizations, "the menu closes once the page changes").toBeHidden();
      await waitForApp(alice);
      const form = alice.getByRole("main");
      await form.getByRole("button", { name: "Create an organization" }).click();
      await expect(form.getByText("Organization name is required.")).toBeVisible();
      await expect(form.getByLabel("Organization name")).toHaveAttribute("aria-invalid", "true");
      await axe(alice, "the create-organization page with an error");

      await form.getByLabel("Organization name").fill(betaName);
      await form.getByRole("button", { name: "Create an organization" }).click();
      await expect(alice).toHaveURL(appPath("/dashboard"));
      await expectCurrentOrganization(alice, betaName);
      await waitForApp(alice);
      await openProjects(alice, betaName);
      await expect(alice.getByTestId("no-projects")).toHaveText("No projects yet.");
      await expect(alice.getByText(roadmap)).toHaveCount(0);

      await switchTo(alice, alphaName);
      await expect(alice.getByRole("list", { name: `Projects of ${alphaName}` })).toContainText(roadmap);
      const switchedBack = await openSwitcher(alice);
      await expect(switchedBack.getByRole("link", { name: betaName, exact: true })).toBeVisible();
    });
  });
}

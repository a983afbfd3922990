/** Every way the Kinde callback can fail ends on a page with a way to try again. */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { linkHref, TestBrowser, textOf, type Page } from "../support/browser";
import { kindeFormFields } from "../support/people.ts";
import { newPerson, signOut, signUp } from "../support/sign-in.ts";
import { useStack, withStack } from "../support/use-stack.ts";

const stack = useStack();

/** The OAuth state of the sign-in a redirect to Kinde starts. */
const stateOf = (redirect: Page) => new URL(redirect.headers.get("Location")!).searchParams.get("state")!;

function expectFriendlyPage(page: Page, heading: string) {
  expect(page.status).toBeLessThan(500);
  expect(page.url.startsWith(`${stack.appUrl}/kinde-auth/callback`)).toBe(true);
  const text = textOf(page.html);
  expect(text).toContain(heading);
  expect(page.html).toContain('href="/kinde-auth/login"');
  expect(text).not.toMatch(/\bat \S+\.[jt]s:\d+|Error:/);
}

/** A person who has signed up and out signs in again, stopped at the callback URL Kinde sends them back to. */
async function callbackOfASecondSignIn(): Promise<{ browser: TestBrowser; callback: string }> {
  const person = newPerson();
  const { browser } = await signUp(stack, person);
  await signOut(stack, browser);
  const form = await browser.get(`${stack.appUrl}/kinde-auth/login`);
  const page = await browser.submitForm(form, kindeFormFields(person, "sign-in"), { follow: false });
  const location = page.headers.get("Location");
  if (!location?.includes("/kinde-auth/callback"))
    throw new Error(`expected a redirect to the callback, got ${page.status} ${location}`);
  return { browser, callback: location };
}

describe("callback failures", () => {
  it("shows 'Sign-in cancelled' when the person cancels at Kinde", async () => {
    const browser = new TestBrowser();
    const form = await browser.get(`${stack.appUrl}/kinde-auth/register`);
    const page = await browser.get(linkHref(form, "Cancel"));
    expectFriendlyPage(page, "Sign-in cancelled");
    expect(page.status).toBe(200);
  });

  it("refuses a callback without code or state", async () => {
    const page = await new TestBrowser().get(`${stack.appUrl}/kinde-auth/callback`);
    expectFriendlyPage(page, "That sign-in has expired");
    expect(page.status).toBe(400);
  });

  it("refuses a callback whose state does not match this browser's", async () => {
    const { browser, callback } = await callbackOfASecondSignIn();
    // Another browser (no state cookie), then this browser with a tampered state.
    expectFriendlyPage(await new TestBrowser().get(callback), "That sign-in has expired");
    const tampered = new URL(callback);
    tampered.searchParams.set("state", "0".repeat(28));
    expectFriendlyPage(await browser.get(tampered.toString()), "That sign-in has expired");
  });

  it("refuses a code that was already used, and logs it without the code", async () => {
    const { browser, callback } = await callbackOfASecondSignIn();
    const state = new URL(callback).searchParams.get("state")!;
    expect((await browser.get(callback)).url).toBe(`${stack.appUrl}/dashboard`);

    await browser.setCookie(stack.appUrl, "ac-state-key", state);
    const replay = await browser.get(callback);
    expectFriendlyPage(replay, "Sign-in could not be completed");
    expect(replay.status).toBe(400);
    const code = new URL(callback).searchParams.get("code")!;
    expect(stack.appLog()).toContain("[auth] sign-in did not complete (rejected)");
    expect(stack.appLog()).not.toContain(code);
  });

  it("completes a sign-in whose random state JSON would read as a number", async () => {
    const preload = fileURLToPath(new URL("../support/numeric-looking-state.mjs", import.meta.url));
    await withStack({ nodeFlags: ["--import", preload] }, async (forced) => {
      const browser = new TestBrowser();
      const start = await browser.get(`${forced.appUrl}/kinde-auth/register`, { follow: false });
      expect(stateOf(start)).not.toBe("4623085363520662670464e92816");
      expect(await browser.cookie(forced.appUrl, "ac-state-key")).toBe(stateOf(start));
      const { page } = await signUp(forced, newPerson(), browser);
      expect(page.url).toBe(`${forced.appUrl}/dashboard`);
    });
  });

  it("never starts a sign-in with a state that its cookie would read back as a number", async () => {
    // The SDK reuses the state cookie of a sign-in already started; "123e45" is how a random hex state can look.
    const browser = new TestBrowser();
    await browser.setCookie(stack.appUrl, "ac-state-key", "123e45");
    const login = await browser.get(`${stack.appUrl}/kinde-auth/login`, { follow: false });
    const state = stateOf(login);
    expect(state).toMatch(/^[0-9a-f]{28}$/);
    expect(await browser.cookie(stack.appUrl, "ac-state-key")).toBe(state);
  });

  it("refuses an unknown code", async () => {
    const browser = new TestBrowser();
    const login = await browser.get(`${stack.appUrl}/kinde-auth/login`, { follow: false });
    const state = stateOf(login);
    const page = await browser.get(`${stack.appUrl}/kinde-auth/callback?code=made-up-code&state=${state}`);
    expectFriendlyPage(page, "Sign-in could not be completed");
  });
});

it("says Kinde could not be reached, and logs what happened without tokens", async () => {
  await withStack({}, async (own) => {
    const { browser } = await signUp(own, newPerson());
    await signOut(own, browser);

    // Stop Kinde between the redirect to the app and the code exchange.
    const login = await browser.get(`${own.appUrl}/kinde-auth/login`, { follow: false });
    const state = stateOf(login);
    await own.stopKinde();
    const page = await browser.get(`${own.appUrl}/kinde-auth/callback?code=some-code&state=${state}`);
    expect(page.status).toBe(502);
    expect(textOf(page.html)).toContain("Kinde could not be reached");
    expect(page.html).toContain('href="/kinde-auth/login"');
    expect(own.appLog()).toContain("[auth] sign-in did not complete (unreachable)");
    expect(own.appLog()).not.toContain("some-code");

    // Public pages still work.
    expect((await browser.get(`${own.appUrl}/`)).status).toBe(200);
  });
});

it("sign-ins started at the same moment each get their own state, even on a server that has just started", async () => {
  await withStack({}, async (cold) => {
    const browsers = Array.from({ length: 8 }, () => new TestBrowser());
    const pages = await Promise.all(
      browsers.map((browser, i) =>
        browser.get(`${cold.appUrl}/kinde-auth/${i % 2 ? "login" : "register"}`, { follow: false }),
      ),
    );
    for (const [i, page] of pages.entries())
      expect(stateOf(page)).toBe(await browsers[i]!.cookie(cold.appUrl, "ac-state-key"));
    expect(new Set(pages.map(stateOf)).size).toBe(8);
  });
});

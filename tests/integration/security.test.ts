/** Response headers, the redirect rule, the SDK's health route, and sign-out as a POST. */
import { describe, expect, it } from "vitest";
import { TestBrowser, textOf } from "../support/browser";
import { newPerson, signIn, signInAs, signOut, signUp } from "../support/sign-in.ts";
import { useStack } from "../support/use-stack.ts";
import { CROSS_SITE_CASES, headersFor } from "../support/cross-site-cases";
import { deliverWebhook, kindeEvent, signKindeEvent } from "../support/kinde-webhooks";

const stack = useStack();

describe("security headers", () => {
  it("sends a nonce-based CSP and the other headers on every page, and the scripts carry the nonce", async () => {
    const { browser } = await signInAs(stack);
    for (const path of ["/", "/dashboard", "/no-such-page", "/kinde-auth/logout"]) {
      const page = await browser.get(`${stack.appUrl}${path}`);
      const csp = page.headers.get("Content-Security-Policy") ?? "";
      const nonce = /script-src 'self' 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
      expect(nonce, `${path}: ${csp}`).toBeTruthy();
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain(`form-action 'self' ${stack.issuerUrl}`);
      expect(page.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(page.headers.get("Referrer-Policy")).toBe("strict-origin-when-cross-origin");
      expect(page.headers.get("Strict-Transport-Security")).toMatch(/max-age=\d+/);
      const scripts = page.html.match(/<script\b[^>]*>/g) ?? [];
      expect(scripts.length).toBeGreaterThan(0);
      for (const tag of scripts) expect(tag, path).toContain(`nonce="${nonce}"`);
    }
  });

  it("uses a new nonce for every response", async () => {
    const browser = new TestBrowser();
    const nonces = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const csp = (await browser.get(`${stack.appUrl}/`)).headers.get("Content-Security-Policy") ?? "";
      nonces.add(/nonce-([^']+)/.exec(csp)?.[1] ?? "");
    }
    expect(nonces.size).toBe(3);
  });

  it("keeps personal pages out of shared caches", async () => {
    const { browser } = await signInAs(stack);
    const page = await browser.get(`${stack.appUrl}/dashboard`);
    expect(page.headers.get("Cache-Control")).toBe("private, no-store");
  });

  it("marks the Kinde token cookies HttpOnly, SameSite=Lax and Secure in production", async () => {
    const browser = new TestBrowser();
    const page = await browser.get(`${stack.appUrl}/kinde-auth/login`, { follow: false });
    const cookie = page.headers.getSetCookie().find((value) => value.startsWith("ac-state-key="));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Secure/);
  });
});

describe("redirect targets", () => {
  const hostile = [
    "//evil.example",
    "https://evil.example",
    "/\\evil.example",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "/\t/evil.example",
    "/%0d%0aLocation:https://evil.example",
    "javascript:alert(1)",
  ];

  /** Where a returning person lands after a sign-in started with `returnTo`. */
  async function signInReturningTo(returnTo: string) {
    const person = newPerson();
    await signUp(stack, person).then(({ browser }) => signOut(stack, browser));
    const start = `/kinde-auth/login?returnTo=${encodeURIComponent(returnTo)}`;
    return (await signIn(stack, person, new TestBrowser(), start)).page;
  }

  it.each(hostile)("ends a sign-in that asked for returnTo=%j on the dashboard", async (returnTo) => {
    const page = await signInReturningTo(returnTo);
    expect(page.url).toBe(`${stack.appUrl}/dashboard`);
    expect(page.chain.every((url) => url.startsWith(stack.appUrl) || url.startsWith(stack.issuerUrl))).toBe(true);
  });

  it("follows a same-site returnTo after sign-in", async () => {
    expect((await signInReturningTo("/account/delete")).url).toBe(`${stack.appUrl}/account/delete`);
  });

  it.each(hostile)("never lets /auth/success redirect off-site for returnTo=%j", async (returnTo) => {
    const { browser } = await signInAs(stack);
    const page = await browser.get(`${stack.appUrl}/auth/success?returnTo=${encodeURIComponent(returnTo)}`, {
      follow: false,
    });
    expect(page.status).toBe(302);
    expect(page.headers.get("Location")).toBe("/dashboard");
  });
});

describe("the SDK's own routes", () => {
  it("hides /kinde-auth/health in production", async () => {
    const page = await new TestBrowser().get(`${stack.appUrl}/kinde-auth/health`);
    expect(page.status).toBe(404);
    expect(page.html).not.toContain("clientID");
  });

  it("answers 404 for an unknown /kinde-auth/ route", async () => {
    expect((await new TestBrowser().get(`${stack.appUrl}/kinde-auth/anything`)).status).toBe(404);
  });
});

describe("sign-out", () => {
  it("does not sign out on a GET: it asks for confirmation", async () => {
    const { browser } = await signInAs(stack);
    const page = await browser.get(`${stack.appUrl}/kinde-auth/logout`);
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toContain("Sign out?");
    expect((await browser.get(`${stack.appUrl}/dashboard`, { follow: false })).status).toBe(200);
  });

  it("refuses a sign-out POST sent from another site", async () => {
    const { browser } = await signInAs(stack);
    const page = await browser.request(`${stack.appUrl}/kinde-auth/logout`, {
      method: "POST",
      headers: { Origin: "https://evil.example", "Content-Type": "application/x-www-form-urlencoded" },
      body: "",
    });
    expect(page.status).toBe(403);
    expect((await browser.get(`${stack.appUrl}/dashboard`, { follow: false })).status).toBe(200);
  });

  it("signs out with a same-site POST, at the app and at Kinde", async () => {
    const person = newPerson();
    const { browser } = await signUp(stack, person);
    const page = await signOut(stack, browser);
    expect(page.chain.some((url) => url.startsWith(`${stack.issuerUrl}/logout`))).toBe(true);
    expect(page.url).toBe(`${stack.appUrl}/`);
    // Kinde's session ended too: signing in again shows the sign-in form instead of SSO.
    const login = await browser.get(`${stack.appUrl}/kinde-auth/login`);
    expect(login.url.startsWith(stack.issuerUrl)).toBe(true);
    expect(login.html).toContain('name="p_password"');
  });
});

describe("cross-site requests: one rule (common/cross-site.ts) for the app and the local Kinde server", () => {
  const cases = CROSS_SITE_CASES.map((testCase) => [testCase.what, testCase] as const);

  it.each(cases)("the app: POST, %s", async (_, testCase) => {
    // The sign-out form's action: refused by the guard with a 403, or signed out (a redirect).
    const response = await fetch(`${stack.appUrl}/kinde-auth/logout`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", ...headersFor(testCase, stack.appUrl) },
      body: "",
      redirect: "manual",
    });
    const text = await response.text();
    if (testCase.crossSite) {
      expect(response.status).toBe(403);
      expect(textOf(text)).toContain("This form can only be sent from this site.");
    } else {
      expect(response.status).toBe(302);
      expect(response.headers.get("Location")).toContain(`${stack.issuerUrl}/logout`);
    }
  });

  it.each(cases)("the local Kinde server: POST, %s", async (_, testCase) => {
    // The sign-in form with a request id that does not exist: refused (403), or "expired" (400).
    const response = await fetch(`${stack.issuerUrl}/auth/sign-in`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", ...headersFor(testCase, stack.issuerUrl) },
      body: new URLSearchParams({ request_id: "unknown", p_email: "a@example.com", p_password: "x" }),
    });
    await response.arrayBuffer();
    expect(response.status).toBe(testCase.crossSite ? 403 : 400);
  });

  it.each<{ what: string; headers: Record<string, string>; status: number }>([
    { what: "lets Kinde's webhook through (server to server: no Origin, no Sec-Fetch-Site)", headers: {}, status: 200 },
    {
      what: "refuses a webhook-shaped post a browser sent from another site",
      headers: { "Sec-Fetch-Site": "cross-site", Origin: "null" },
      status: 403,
    },
  ])("$what", async ({ headers, status }) => {
    const event = kindeEvent("user.authenticated", { id: "kp_0123456789abcdef0123456789abcdef" });
    const delivered = await deliverWebhook(stack, await signKindeEvent(stack, event), {
      "Content-Type": "application/jwt",
      ...headers,
    });
    expect(delivered.status).toBe(status);
  });
});

// Signing up and in over HTTP with JavaScript off: for tests (once Kinde's webhooks reached the app) and the bench.
import { TestBrowser, formRequest, type Page } from "./browser.ts";
import { usersIn } from "./database-access.ts";
import { mintKindeSession, type MintOptions } from "./kinde-session.ts";
import { kindeFormFields, newPerson, type Credentials, type Person } from "./people.ts";
import type { Stack } from "./stack.ts";

export { newPerson, type Credentials, type Person };

type SignedIn = { browser: TestBrowser; page: Page };

export async function signUp(
  stack: Stack,
  person: Person,
  browser = new TestBrowser(),
  // false for a sign-up the app cannot complete (its database down): the events wait too.
  { waitForKindeEvents = true } = {},
): Promise<SignedIn> {
  const form = await browser.get(`${stack.appUrl}/kinde-auth/register`);
  const page = await browser.submitForm(form, kindeFormFields(person, "sign-up"));
  if (waitForKindeEvents) await stack.webhooksSettled();
  return { browser, page };
}

export async function signIn(
  stack: Stack,
  person: Credentials,
  browser = new TestBrowser(),
  start = "/kinde-auth/login",
): Promise<SignedIn> {
  const form = await browser.get(`${stack.appUrl}${start}`);
  const page = await browser.submitForm(form, kindeFormFields(person, "sign-in"));
  await stack.webhooksSettled();
  return { browser, page };
}

export async function signUpNewPerson(stack: Stack): Promise<SignedIn & { person: Person; kindeId: string }> {
  const person = newPerson();
  const { browser, page } = await signUp(stack, person);
  if (page.url !== `${stack.appUrl}/dashboard`) throw new Error(`sign-up ended on ${page.url} (${page.status})`);
  const row = (await usersIn(stack.database)).find((user) => user.email === person.email);
  if (!row) throw new Error("sign-up stored no row");
  return { browser, page, person, kindeId: row.kindeId };
}

/** Ends on the dashboard once Kinde's user.created has reached the app. */
export async function signInAs(
  stack: Stack,
  overrides: Partial<Person> = {},
  mintOptions: Pick<MintOptions, "claims" | "idTokenClaims"> = {},
): Promise<SignedIn & { person: Person; kindeId: string }> {
  const person = newPerson(overrides);
  const { kindeId, cookies } = await mintKindeSession(stack, person, mintOptions);
  const browser = new TestBrowser();
  for (const { name, value } of cookies) await browser.setCookie(stack.appUrl, name, value);
  const page = await browser.get(`${stack.appUrl}/auth/success`);
  if (page.url !== `${stack.appUrl}/dashboard`) throw new Error(`signInAs ended on ${page.url} (${page.status})`);
  await stack.webhooksSettled();
  return { browser, page, person, kindeId };
}

export function signOut(stack: Stack, browser: TestBrowser): Promise<Page> {
  return browser.request(`${stack.appUrl}/kinde-auth/logout`, {
    method: "POST",
    headers: { Origin: stack.appUrl, "Content-Type": "application/x-www-form-urlencoded" },
    body: "",
  });
}

export class FlowError extends Error {
  constructor(
    readonly step: string,
    readonly kind: string,
    detail: string,
  ) {
    super(`${step}: ${kind}${detail ? ` (${detail})` : ""}`);
  }
}

export interface FlowOptions {
  appUrl: string;
  timeout: number;
  /** Accept-Encoding to send; "" or unset asks for no compression ("identity"). */
  acceptEncoding?: string;
  onStep?: (step: string, ms: number) => void;
}

interface Hop {
  status: number;
  location: URL | undefined;
  body: string;
  url: URL;
}

interface Expect {
  status: number;
  location?: (location: URL) => boolean;
}

export class FlowBrowser {
  readonly browser = new TestBrowser();

  constructor(private readonly options: FlowOptions) {}

  /** The body is always read so the socket is reused. */
  async hop(step: string, url: URL, expect: Expect, init: RequestInit = {}): Promise<Hop> {
    const started = performance.now();
    const { response, body } = await this.timedFetch(step, url, init);
    this.options.onStep?.(step, performance.now() - started);
    const rawLocation = response.headers.get("Location");
    const location = rawLocation ? new URL(rawLocation, url) : undefined;
    if (response.status !== expect.status) {
      const redirected = location ? `, Location ${location.pathname}` : "";
      throw new FlowError(
        step,
        `status ${response.status}`,
        `expected ${expect.status} from ${url.pathname}${redirected}`,
      );
    }
    if (expect.location && (!location || !expect.location(location))) {
      throw new FlowError(step, "bad location", `${url.pathname} redirected to ${location?.href ?? "nothing"}`);
    }
    return { status: response.status, location, body, url };
  }

  private async timedFetch(step: string, url: URL, init: RequestInit) {
    const headers = new Headers(init.headers);
    headers.set("Accept", "text/html");
    headers.set("Accept-Encoding", this.options.acceptEncoding || "identity");
    try {
      const signal = AbortSignal.timeout(this.options.timeout * 1000);
      const response = await this.browser.fetch(url.href, { ...init, headers, signal });
      return { response, body: await response.text() };
    } catch (error) {
      const name = error instanceof Error ? error.name : "";
      if (name === "TimeoutError" || name === "AbortError")
        throw new FlowError(step, "timeout", `${this.options.timeout}s`);
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
      throw new FlowError(step, "network error", `${error instanceof Error ? error.message : String(error)}${cause}`);
    }
  }

  async submit(step: string, page: Hop, fields: Record<string, string>, expect: Expect): Promise<Hop> {
    let request: ReturnType<typeof formRequest>;
    try {
      request = formRequest({ url: page.url.href, html: page.body }, fields);
    } catch {
      throw new FlowError(step, "no form", `no form with ${Object.keys(fields).join(", ")} on ${page.url.pathname}`);
    }
    const headers = new Headers(request.init.headers);
    headers.set("Sec-Fetch-Site", "same-origin");
    return this.hop(step, new URL(request.url), expect, { ...request.init, headers });
  }
}

export const redirectTo = (path: string): Expect => ({
  status: 302,
  location: (location) => location.pathname === path,
});

/** app /kinde-auth/<start>?<query> -> Kinde /oauth2/auth (form) -> form POST (302 with a code) -> app
 * /kinde-auth/callback -> /auth/success -> /dashboard; returns the signed-in session's cookie header. */
export async function signInFlow(
  browser: FlowBrowser,
  options: FlowOptions,
  start: "login" | "register",
  person: Person | Credentials,
  query: Record<string, string> = {},
): Promise<string> {
  const app = new URL(options.appUrl);
  const startUrl = new URL(`/kinde-auth/${start}`, app);
  startUrl.search = new URLSearchParams(query).toString();
  const login = await browser.hop(`app-${start}`, startUrl, redirectTo("/oauth2/auth"));
  const form = await browser.hop("kinde-authorize", login.location!, { status: 200 });
  const fields = kindeFormFields(person, start === "register" ? "sign-up" : "sign-in");
  const posted = await browser.submit("kinde-form-post", form, fields, {
    status: 302,
    location: (location) =>
      location.origin === app.origin &&
      location.pathname === "/kinde-auth/callback" &&
      location.searchParams.has("code"),
  });
  const callback = await browser.hop("app-callback", posted.location!, redirectTo("/auth/success"));
  const success = await browser.hop("app-auth-success", callback.location!, redirectTo("/dashboard"));
  const dashboard = await browser.hop("app-dashboard", success.location!, { status: 200 });
  if (!dashboard.body.includes(person.email)) {
    throw new FlowError("app-dashboard", "wrong page", `the dashboard does not show ${person.email}`);
  }
  return browser.browser.cookieHeader(app.href);
}

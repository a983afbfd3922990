/**
 * Sign-up and sign-in over plain HTTP, the way a browser with JavaScript off does it, with
 * redirects followed by hand so every hop is checked and timed. Cookies and forms are the test
 * browser's (tests/support/browser.ts). Only Kinde's public field names (p_email, p_password,
 * p_first_name, p_last_name) and the form's own hidden inputs are used.
 */
import { formRequest, TestBrowser } from "../tests/support/browser.ts";

export interface Credentials {
  email: string;
  password: string;
}

export interface Person extends Credentials {
  firstName: string;
  lastName: string;
}

export class FlowError extends Error {
  constructor(
    /** Which hop failed, e.g. "kinde-form-post". */
    readonly step: string,
    /** A short, countable reason: "status 500", "timeout", "bad location"... */
    readonly kind: string,
    detail: string,
  ) {
    super(`${step}: ${kind}${detail ? ` (${detail})` : ""}`);
  }
}

export interface FlowOptions {
  appUrl: string;
  /** Seconds per HTTP request. */
  timeout: number;
  /** Accept-Encoding to send; "" or unset asks for no compression ("identity"). */
  acceptEncoding?: string;
  /** Called with each hop's name and milliseconds. */
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

/** One person's browser: its cookies, and hops that are checked and timed. */
export class FlowBrowser {
  readonly browser = new TestBrowser();

  constructor(private readonly options: FlowOptions) {}

  /** One request, no redirect followed; the body is always read so the socket is reused. */
  async hop(step: string, url: URL, expect: Expect, init: RequestInit = {}): Promise<Hop> {
    const headers = new Headers(init.headers);
    headers.set("Accept", "text/html");
    headers.set("Accept-Encoding", this.options.acceptEncoding || "identity");
    const started = performance.now();
    let response: Response;
    let body: string;
    try {
      response = await this.browser.fetch(url.href, {
        ...init,
        headers,
        signal: AbortSignal.timeout(this.options.timeout * 1000),
      });
      body = await response.text();
    } catch (error) {
      const name = error instanceof Error ? error.name : "";
      if (name === "TimeoutError" || name === "AbortError")
        throw new FlowError(step, "timeout", `${this.options.timeout}s`);
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
      throw new FlowError(step, "network error", `${error instanceof Error ? error.message : String(error)}${cause}`);
    }
    this.options.onStep?.(step, performance.now() - started);
    const rawLocation = response.headers.get("Location");
    const location = rawLocation ? new URL(rawLocation, url) : undefined;
    if (response.status !== expect.status) {
      throw new FlowError(
        step,
        `status ${response.status}`,
        `expected ${expect.status} from ${url.pathname}${location ? `, Location ${location.pathname}` : ""}`,
      );
    }
    if (expect.location && (!location || !expect.location(location))) {
      throw new FlowError(step, "bad location", `${url.pathname} redirected to ${location?.href ?? "nothing"}`);
    }
    return { status: response.status, location, body, url };
  }

  /** Posts the form of `page` that has the `fields`, with its hidden inputs kept. */
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

const samePath = (path: string) => (location: URL) => location.pathname === path;

/**
 * The whole flow from the app's sign-in (or sign-up) link to the rendered dashboard:
 * app /kinde-auth/<start> (302) -> Kinde /oauth2/auth (200, form) -> form POST (302 with a code)
 * -> app /kinde-auth/callback (302) -> /auth/success (302) -> /dashboard (200).
 * Returns the cookie header the app gets at the end (the signed-in session).
 */
export async function signInFlow(
  browser: FlowBrowser,
  options: FlowOptions,
  start: "login" | "register",
  person: Person | Credentials,
): Promise<string> {
  const app = new URL(options.appUrl);
  const login = await browser.hop(`app-${start}`, new URL(`/kinde-auth/${start}`, app), {
    status: 302,
    location: (location) => location.pathname === "/oauth2/auth",
  });
  const form = await browser.hop("kinde-authorize", login.location!, { status: 200 });
  const fields: Record<string, string> =
    start === "register" && "firstName" in person
      ? {
          p_first_name: person.firstName,
          p_last_name: person.lastName,
          p_email: person.email,
          p_password: person.password,
        }
      : { p_email: person.email, p_password: person.password };
  const posted = await browser.submit("kinde-form-post", form, fields, {
    status: 302,
    location: (location) =>
      location.origin === app.origin &&
      location.pathname === "/kinde-auth/callback" &&
      location.searchParams.has("code"),
  });
  const callback = await browser.hop("app-callback", posted.location!, {
    status: 302,
    location: samePath("/auth/success"),
  });
  const success = await browser.hop("app-auth-success", callback.location!, {
    status: 302,
    location: samePath("/dashboard"),
  });
  const dashboard = await browser.hop("app-dashboard", success.location!, { status: 200 });
  if (!dashboard.body.includes(person.email)) {
    throw new FlowError("app-dashboard", "wrong page", `the dashboard does not show ${person.email}`);
  }
  return browser.browser.cookieHeader(app.href);
}

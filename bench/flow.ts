/**
 * Sign-up and sign-in over plain HTTP, the way a browser with JavaScript off does it, with
 * redirects followed by hand so every hop is checked and timed. Used by bench/run.ts (to
 * create the users) and by bench/load.ts (the sign-in round-trip phase).
 *
 * Only Kinde's public field names (p_email, p_password, p_first_name, p_last_name) and the
 * form's own hidden inputs are used, so this works against real Kinde pages too.
 */

/** Cookies of one origin: name -> value. Attributes are ignored except for deletion. */
export class CookieMap {
  private readonly values = new Map<string, string>();

  store(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = "", ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const deleted = attributes.some((attribute) => {
        const [key = "", raw = ""] = attribute.split("=", 2).map((part) => part.trim());
        if (key.toLowerCase() === "max-age") return Number(raw) <= 0;
        if (key.toLowerCase() === "expires") return Date.parse(raw) <= Date.now();
        return false;
      });
      if (deleted) this.values.delete(name);
      else this.values.set(name, value);
    }
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  names(): string[] {
    return [...this.values.keys()];
  }

  header(): string {
    return [...this.values].map(([name, value]) => `${name}=${value}`).join("; ");
  }
}

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
  /**
   * Accept-Encoding to send; "" or unset asks for no compression ("identity"), as fetch would
   * otherwise ask for gzip on its own.
   */
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

/** One browser: a cookie map per origin (the app and Kinde never see each other's cookies). */
export class Browser {
  private readonly jars = new Map<string, CookieMap>();

  constructor(private readonly options: FlowOptions) {}

  jar(origin: string): CookieMap {
    let jar = this.jars.get(origin);
    if (!jar) {
      jar = new CookieMap();
      this.jars.set(origin, jar);
    }
    return jar;
  }

  /** One request, no redirect following; the body is always read so the socket is reused. */
  async hop(
    step: string,
    url: URL,
    expect: { status: number; location?: (location: URL) => boolean },
    init: { method?: string; body?: string; headers?: Record<string, string> } = {},
  ): Promise<Hop> {
    const jar = this.jar(url.origin);
    const headers: Record<string, string> = {
      Accept: "text/html",
      "Accept-Encoding": this.options.acceptEncoding || "identity",
      ...init.headers,
    };
    const cookie = jar.header();
    if (cookie) headers.Cookie = cookie;
    const started = performance.now();
    let response: Response;
    let body: string;
    try {
      response = await fetch(url, {
        method: init.method ?? "GET",
        body: init.body,
        headers,
        redirect: "manual",
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
    jar.store(response.headers.getSetCookie());
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
  async submit(
    step: string,
    page: Hop,
    fields: Record<string, string>,
    expect: Parameters<Browser["hop"]>[2],
  ): Promise<Hop> {
    const form = findForm(page.body, Object.keys(fields));
    if (!form)
      throw new FlowError(step, "no form", `no form with ${Object.keys(fields).join(", ")} on ${page.url.pathname}`);
    const values = new URLSearchParams(form.hidden);
    for (const [name, value] of Object.entries(fields)) values.set(name, value);
    const action = new URL(form.action ?? page.url.href, page.url);
    return this.hop(step, action, expect, {
      method: "POST",
      body: values.toString(),
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Origin: page.url.origin,
        "Sec-Fetch-Site": "same-origin",
      },
    });
  }
}

const samePath = (path: string) => (location: URL) => location.pathname === path;

/**
 * The whole flow from the app's sign-in (or sign-up) link to the rendered dashboard:
 * app /kinde-auth/<start> (302) -> Kinde /oauth2/auth (200, form) -> form POST (302 with a code)
 * -> app /kinde-auth/callback (302) -> /auth/success (302) -> /dashboard (200).
 * Returns the app's cookie header at the end (the signed-in session).
 */
export async function signInFlow(
  browser: Browser,
  options: FlowOptions,
  start: "login" | "register",
  person: Person | Credentials,
): Promise<string> {
  const app = new URL(options.appUrl);
  const login = await browser.hop(`app-${start}`, new URL(`/kinde-auth/${start}`, app), {
    status: 302,
    location: (location) => location.pathname === "/oauth2/auth",
  });
  const issuer = login.location!;
  const form = await browser.hop("kinde-authorize", issuer, { status: 200 });
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
  return browser.jar(app.origin).header();
}

export interface FoundForm {
  action: string | undefined;
  hidden: Array<[string, string]>;
}

/** The first <form> whose inputs include every one of `names`, with its hidden inputs. */
export function findForm(html: string, names: string[]): FoundForm | undefined {
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const formAttributes = attributesOf(match[1] ?? "");
    const inputs = [...(match[2] ?? "").matchAll(/<input\b([^>]*)>/gi)].map((input) => attributesOf(input[1] ?? ""));
    const inputNames = new Set(inputs.map((input) => input.name));
    if (!names.every((name) => inputNames.has(name))) continue;
    const hidden = inputs
      .filter((input) => input.type?.toLowerCase() === "hidden" && input.name !== undefined)
      .map((input): [string, string] => [input.name!, input.value ?? ""]);
    return { action: formAttributes.action, hidden };
  }
  return undefined;
}

function attributesOf(source: string): Record<string, string | undefined> {
  const attributes: Record<string, string | undefined> = {};
  for (const match of source.matchAll(/([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    const name = (match[1] ?? "").toLowerCase();
    attributes[name] = decodeEntities(match[2] ?? match[3] ?? match[4] ?? "");
  }
  return attributes;
}

function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos|#39);/gi, (entity, code: string) => {
    const lower = code.toLowerCase();
    if (lower === "amp") return "&";
    if (lower === "lt") return "<";
    if (lower === "gt") return ">";
    if (lower === "quot") return '"';
    if (lower === "apos") return "'";
    if (lower.startsWith("#x")) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith("#")) return String.fromCodePoint(Number(lower.slice(1)));
    return entity;
  });
}

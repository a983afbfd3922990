// The one cookie-keeping HTTP client (one jar for every port of localhost, as browsers do), without JavaScript.
import { parse, type HTMLElement } from "node-html-parser";
import { CookieJar } from "tough-cookie";

export interface Page {
  url: string;
  status: number;
  html: string;
  headers: Headers;
  chain: string[];
}

export class TestBrowser {
  readonly jar = new CookieJar();

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = await this.jar.getCookieString(url);
    if (cookie) headers.set("Cookie", cookie);
    const response = await fetch(url, { ...init, headers, redirect: "manual" });
    await this.keepCookies(url, response);
    return response;
  }

  async keepCookies(url: string, response: Response): Promise<void> {
    for (const setCookie of response.headers.getSetCookie()) {
      await this.jar.setCookie(setCookie, url, { ignoreError: true });
    }
  }

  async request(url: string, init: RequestInit = {}, options: { follow?: boolean } = {}): Promise<Page> {
    const chain: string[] = [];
    let current = url;
    let method = init.method ?? "GET";
    let body = init.body;
    for (let hops = 0; hops < 20; hops++) {
      chain.push(current);
      const response = await this.fetch(current, { method, body, headers: init.headers, signal: init.signal });
      const location = response.headers.get("Location");
      if (options.follow !== false && location && response.status >= 300 && response.status < 400) {
        await response.arrayBuffer();
        current = new URL(location, current).toString();
        // 301-303 turn a POST into a GET, as browsers do.
        if (response.status !== 307 && response.status !== 308) {
          method = "GET";
          body = undefined;
        }
        continue;
      }
      return { url: current, status: response.status, html: await response.text(), headers: response.headers, chain };
    }
    throw new Error(`Too many redirects from ${url}`);
  }

  get(url: string, options?: { follow?: boolean }): Promise<Page> {
    return this.request(url, {}, options);
  }

  submitForm(
    page: Pick<Page, "url" | "html">,
    fields: Record<string, string>,
    options: { origin?: string; follow?: boolean } = {},
  ): Promise<Page> {
    const { url, init } = formRequest(page, fields, options.origin);
    return this.request(url, init, { follow: options.follow });
  }

  async cookie(url: string, name: string): Promise<string | undefined> {
    const cookies = await this.jar.getCookies(url);
    return cookies.find((cookie) => cookie.key === name)?.value;
  }

  async setCookie(url: string, name: string, value: string): Promise<void> {
    await this.jar.setCookie(`${name}=${value}; Path=/`, url);
  }

  async setCookies(url: string, cookies: Record<string, string | undefined>): Promise<this> {
    for (const [name, value] of Object.entries(cookies))
      if (value !== undefined) await this.setCookie(url, name, value);
    return this;
  }

  cookieHeader(url: string): Promise<string> {
    return this.jar.getCookieString(url);
  }
}

export function linkHref(page: Page, text: string): string {
  const link = parse(page.html)
    .querySelectorAll("a")
    .find((a) => a.textContent.includes(text));
  const href = link?.getAttribute("href");
  if (!href) throw new Error(`No link "${text}" on ${page.url}`);
  return new URL(href, page.url).toString();
}

export function formRequest(
  page: Pick<Page, "url" | "html">,
  fields: Record<string, string>,
  origin = new URL(page.url).origin,
): { url: string; init: RequestInit } {
  const form = findForm(page.html, Object.keys(fields));
  const values = new URLSearchParams();
  for (const input of form.querySelectorAll("input")) {
    const name = input.getAttribute("name");
    if (!name || name in fields) continue;
    const type = input.getAttribute("type") ?? "text";
    if (type === "checkbox" || type === "radio" || type === "submit") continue;
    values.set(name, input.getAttribute("value") ?? "");
  }
  for (const [name, value] of Object.entries(fields)) values.set(name, value);
  const action = new URL(form.getAttribute("action") ?? page.url, page.url);
  const method = (form.getAttribute("method") ?? "get").toUpperCase();
  if (method === "GET") {
    action.search = values.toString();
    return { url: action.toString(), init: {} };
  }
  return {
    url: action.toString(),
    init: { method, body: values, headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: origin } },
  };
}

function findForm(html: string, fieldNames: string[]): HTMLElement {
  const root = parse(html);
  const form = root
    .querySelectorAll("form")
    .find((candidate) =>
      fieldNames.every((name) => candidate.querySelector(`[name="${name}"]`) !== null || name.startsWith("_")),
    );
  if (!form) throw new Error(`No form with fields ${fieldNames.join(", ")} in:\n${html.slice(0, 2000)}`);
  return form;
}

export function textOf(html: string): string {
  const root = parse(html);
  root.querySelectorAll("script, style").forEach((node) => node.remove());
  return root.textContent.replace(/\s+/g, " ").trim();
}

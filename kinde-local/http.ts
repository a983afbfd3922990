import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import { isCrossSiteRequest, requestHost } from "../common/cross-site.ts";

export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_URL_LENGTH = 8 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export const badRequest = (message: string) => new HttpError(400, "invalid_request", message);

/** Strict decoding: invalid percent-encoding is a 400 (URLSearchParams would keep the broken bytes). */
export class Params {
  private constructor(private readonly values: Map<string, string[]>) {}

  static parse(raw: string): Params {
    const values = new Map<string, string[]>();
    for (const pair of raw.split("&")) {
      if (pair === "") continue;
      const equals = pair.indexOf("=");
      const name = decodeFormComponent(equals === -1 ? pair : pair.slice(0, equals));
      const value = decodeFormComponent(equals === -1 ? "" : pair.slice(equals + 1));
      const existing = values.get(name);
      if (existing) existing.push(value);
      else values.set(name, [value]);
    }
    return new Params(values);
  }

  get(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }

  all(name: string): string[] {
    return this.values.get(name) ?? [];
  }

  /** OAuth forbids repeating a parameter: a 400 unless the name is `repeatable` (then an array). */
  pick<Name extends string>(names: readonly Name[]): Partial<Record<Name, string>>;
  pick(names: readonly string[], repeatable: readonly string[]): Record<string, string | string[]>;
  pick(names: readonly string[], repeatable: readonly string[] = []): Record<string, string | string[] | undefined> {
    const object: Record<string, string | string[]> = {};
    for (const name of names) {
      const list = this.values.get(name);
      if (!list) continue;
      if (repeatable.includes(name)) object[name] = list;
      else if (list.length > 1) throw badRequest(`The parameter ${name} is repeated`);
      else object[name] = list[0] ?? "";
    }
    return object;
  }
}

export function decodeFormComponent(component: string): string {
  try {
    return decodeURIComponent(component.replaceAll("+", " "));
  } catch {
    throw badRequest("Invalid percent-encoding");
  }
}

/** A 400 naming the first bad field, never echoing values. */
export function parseWith<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw badRequest(describeIssue(result.error.issues[0]));
}

export function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return "Invalid request";
  const where = issue.path.length > 0 ? issue.path.map(String).join(".") : "request";
  return `${truncate(where)}: ${issue.message}`;
}

function truncate(text: string, max = 60): string {
  const printable = text.replace(/[^\x20-\x7e]/g, "?");
  return printable.length > max ? `${printable.slice(0, max)}...` : printable;
}

export function splitTarget(target: string | undefined): { path: string; query: string } {
  if (!target || !target.startsWith("/")) throw badRequest("Invalid request target");
  if (target.length > MAX_URL_LENGTH) throw new HttpError(414, "invalid_request", "URL too long");
  const mark = target.indexOf("?");
  return mark === -1 ? { path: target, query: "" } : { path: target.slice(0, mark), query: target.slice(mark + 1) };
}

export async function readBody(request: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = request.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw tooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function tooLarge(): HttpError {
  // Closing the connection stops the client from streaming the rest of a huge body.
  return new HttpError(413, "invalid_request", "Request body too large", { Connection: "close" });
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw badRequest("The body is not valid UTF-8");
  }
}

export function mediaType(request: IncomingMessage): string {
  return (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

async function readText(request: IncomingMessage, type: string): Promise<string> {
  if (mediaType(request) !== type) throw new HttpError(415, "invalid_request", `Expected an ${type} body`);
  return decodeUtf8(await readBody(request));
}

export async function readForm(request: IncomingMessage): Promise<Params> {
  return Params.parse(await readText(request, "application/x-www-form-urlencoded"));
}

export async function readJson(request: IncomingMessage): Promise<unknown> {
  const text = await readText(request, "application/json");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest("The body is not valid JSON");
  }
}

function send(response: ServerResponse, status: number, type: string, text: string, headers: Record<string, string>) {
  response.writeHead(status, { ...headers, "Content-Type": type, "Content-Length": Buffer.byteLength(text) });
  response.end(text);
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers = {}): void {
  send(response, status, "application/json; charset=utf-8", JSON.stringify(body), headers);
}

export function sendHtml(response: ServerResponse, status: number, html: string, headers = {}): void {
  send(response, status, "text/html; charset=utf-8", html, headers);
}

export function sendEmpty(response: ServerResponse, status: number, headers: Record<string, string> = {}) {
  response.writeHead(status, { ...headers, "Content-Length": 0 });
  response.end();
}

export function redirect(response: ServerResponse, location: string, headers = {}, status = 302): void {
  response.writeHead(status, { ...headers, Location: location, "Content-Length": 0 });
  response.end();
}

/** A hostile page must not sign a visitor in to an account of its choosing (login CSRF). */
export function assertSameOriginPost(request: IncomingMessage): void {
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const facts = {
    method: request.method ?? "POST",
    secFetchSite: header("sec-fetch-site"),
    origin: header("origin"),
    host: requestHost(header("host"), header("x-forwarded-host")),
  };
  if (isCrossSiteRequest(facts)) {
    throw new HttpError(403, "access_denied", "This form can only be submitted from this server's own pages");
  }
}

export function bearerToken(request: IncomingMessage): string | undefined {
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(request.headers.authorization ?? "");
  const token = match?.[1];
  return token !== undefined && token.length <= 8192 ? token : undefined;
}

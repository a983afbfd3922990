import { z } from "zod";
import type { ClaimsConfigSource } from "./config.ts";
import { MANAGEMENT_SCOPES } from "./tokens.ts";
import { redirectUrl } from "./validation.ts";

export type ApplicationType = "regular" | "m2m";

export interface Application {
  name: string;
  clientId: string;
  clientSecret: string;
  type: ApplicationType;
  callbackUrls: string[];
  logoutUrls: string[];
  managementApi: boolean;
  scopes: string[];
}

export const CLIENT_ID_PATTERN = /^[A-Za-z0-9._~-]{1,200}$/;

const scopeList = z.array(z.enum(MANAGEMENT_SCOPES)).max(MANAGEMENT_SCOPES.length);

export const configApplicationSchema = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    client_id: z.string().regex(CLIENT_ID_PATTERN, "must be 1-200 letters, digits or ._~-"),
    client_secret: z.string().regex(/^[\x21-\x7e]{16,500}$/, "must be 16-500 printable characters without spaces"),
    type: z.enum(["regular", "m2m"]).default("regular"),
    callback_urls: z.array(redirectUrl).max(50).default([]),
    logout_urls: z.array(redirectUrl).max(50).default([]),
    management_api: z.boolean().optional(),
    scopes: scopeList.optional(),
  })
  .refine((entry) => entry.type === "m2m" || entry.callback_urls.length > 0, {
    path: ["callback_urls"],
    message: "a regular application needs callback URLs",
  })
  .refine((entry) => entry.type === "regular" || entry.callback_urls.length + entry.logout_urls.length === 0, {
    path: ["type"],
    message: "an m2m application has no callback or logout URLs",
  });

export type ConfigApplication = z.output<typeof configApplicationSchema>;

export function fromConfigEntry(entry: ConfigApplication): Application {
  return {
    name: entry.name ?? entry.client_id,
    clientId: entry.client_id,
    clientSecret: entry.client_secret,
    type: entry.type,
    callbackUrls: entry.callback_urls,
    logoutUrls: entry.logout_urls,
    managementApi: entry.type === "m2m" || (entry.management_api ?? false),
    scopes: entry.scopes ?? [...MANAGEMENT_SCOPES],
  };
}

/** What the Kinde SDKs build from KINDE_SITE_URL, plus the project's post-login page. */
export function defaultCallbackUrls(siteUrl: string): string[] {
  return [`${siteUrl}/kinde-auth/callback`, `${siteUrl}/auth/success`];
}

/** Scheme and host case, a default port and the slash after a bare origin do not matter (Kinde matches exactly). */
export function sameUrl(a: string, b: string): boolean {
  if (!URL.canParse(a) || !URL.canParse(b)) return false;
  return new URL(a).href === new URL(b).href;
}

export function allows(list: readonly string[], url: string): boolean {
  return list.some((entry) => sameUrl(entry, url));
}

/** A config file entry whose client id is taken is ignored with a warning (at startup, an error). */
export class ApplicationRegistry {
  private cache: { config: object; list: Application[] } | undefined;

  constructor(
    private readonly fixed: readonly Application[],
    private readonly config: ClaimsConfigSource,
    private readonly log: (line: string) => void,
  ) {}

  async all(): Promise<Application[]> {
    const config = await this.config.current();
    if (this.cache?.config === config) return this.cache.list;
    const list = [...this.fixed];
    for (const entry of config.applications) {
      if (list.some((known) => known.clientId === entry.client_id)) {
        this.log(`warning: config application ${entry.client_id} ignored: that client id is already in use`);
        continue;
      }
      list.push(fromConfigEntry(entry));
    }
    this.cache = { config, list };
    return list;
  }

  async find(clientId: string): Promise<Application | undefined> {
    return (await this.all()).find((application) => application.clientId === clientId);
  }

  async assertNoClashes(): Promise<void> {
    const config = await this.config.current();
    const seen = new Set<string>();
    for (const clientId of [...this.fixed.map((a) => a.clientId), ...config.applications.map((a) => a.client_id)]) {
      if (seen.has(clientId)) throw new Error(`Two applications have the client id ${clientId}`);
      seen.add(clientId);
    }
  }
}

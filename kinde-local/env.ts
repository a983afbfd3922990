import { resolve } from "node:path";
import { z } from "zod";
import type { KindeLocalServerOptions } from "./server.ts";
import { redirectUrl, webhookUrl } from "./validation.ts";

const originUrl = (name: string) =>
  z
    .string({ error: `${name} is missing` })
    .min(1, `${name} is missing`)
    .refine((value) => URL.canParse(value), `${name} must be a URL such as http://localhost:3001`)
    .refine((value) => !value.endsWith("/"), `${name} must not end with a slash (the Kinde SDK appends paths to it)`);

// zod runs every refinement even after one fails, so each guards against an unparsable URL.
const parsedUrl = (value: string) => (URL.canParse(value) ? new URL(value) : undefined);

const wholeNumber = (name: string, unit: string, maxDigits: number) =>
  z
    .string()
    .regex(new RegExp(`^[1-9]\\d{0,${maxDigits - 1}}$`), `${name} must be a whole number of ${unit}`)
    .transform(Number)
    .optional();

const list = <T extends z.ZodType<string>>(name: string, item: T, what: string) =>
  z
    .string()
    .transform((value) => value.split(",").flatMap((entry) => entry.trim() || []))
    .refine((entries) => entries.every((entry) => item.safeParse(entry).success), `${name} must be ${what}`)
    // An empty list (VAR="" in .env) counts as unset.
    .transform((entries) => (entries.length > 0 ? entries : undefined))
    .optional();

const envSchema = z.object({
  KINDE_ISSUER_URL: originUrl("KINDE_ISSUER_URL").refine((value) => {
    const url = parsedUrl(value);
    return url === undefined || (url.protocol === "http:" && url.pathname === "/" && url.search === "");
  }, "KINDE_ISSUER_URL must be a plain http:// origin such as http://localhost:3001 (the local server does not speak https)"),
  KINDE_CLIENT_ID: z
    .string({ error: "KINDE_CLIENT_ID is missing" })
    .min(1, "KINDE_CLIENT_ID is missing")
    .regex(/^[A-Za-z0-9._~-]{1,200}$/, "KINDE_CLIENT_ID must be letters and digits, e.g. 32 hex characters"),
  KINDE_CLIENT_SECRET: z
    .string({ error: "KINDE_CLIENT_SECRET is missing" })
    .min(1, "KINDE_CLIENT_SECRET is missing")
    // The Kinde SDK refuses to call the token endpoint with any other secret.
    .regex(/^[a-zA-Z0-9]{40,60}$/, "KINDE_CLIENT_SECRET must be 40-60 letters and digits (the Kinde SDK requires it)"),
  KINDE_SITE_URL: originUrl("KINDE_SITE_URL").refine(
    (value) => ["http:", "https:", undefined].includes(parsedUrl(value)?.protocol),
    "KINDE_SITE_URL must be an http(s) URL such as http://localhost:3000",
  ),
  KINDE_LOCAL_HOST: z.string().min(1, "KINDE_LOCAL_HOST must not be empty").optional(),
  KINDE_LOCAL_DATA_DIR: z.string().min(1, "KINDE_LOCAL_DATA_DIR must not be empty").optional(),
  KINDE_LOCAL_CONFIG: z.string().min(1, "KINDE_LOCAL_CONFIG must not be empty").optional(),
  KINDE_LOCAL_ACCESS_TOKEN_TTL: wholeNumber("KINDE_LOCAL_ACCESS_TOKEN_TTL", "seconds", 9),
  KINDE_LOCAL_ID_TOKEN_TTL: wholeNumber("KINDE_LOCAL_ID_TOKEN_TTL", "seconds", 9),
  KINDE_LOCAL_REFRESH_TOKEN_TTL: wholeNumber("KINDE_LOCAL_REFRESH_TOKEN_TTL", "seconds", 9),
  KINDE_LOCAL_CALLBACK_URLS: list("KINDE_LOCAL_CALLBACK_URLS", redirectUrl, "comma-separated absolute http(s) URLs"),
  KINDE_LOCAL_LOGOUT_URLS: list("KINDE_LOCAL_LOGOUT_URLS", redirectUrl, "comma-separated absolute http(s) URLs"),
  KINDE_LOCAL_WEBHOOK_URLS: list("KINDE_LOCAL_WEBHOOK_URLS", webhookUrl, "comma-separated absolute http(s) URLs"),
  KINDE_LOCAL_WEBHOOK_RETRY_DELAYS_MS: list(
    "KINDE_LOCAL_WEBHOOK_RETRY_DELAYS_MS",
    z.string().regex(/^[1-9]\d{0,9}$/),
    "comma-separated whole numbers of milliseconds",
  ),
  KINDE_LOCAL_WEBHOOK_GIVE_UP_MS: wholeNumber("KINDE_LOCAL_WEBHOOK_GIVE_UP_MS", "milliseconds", 10),
  KINDE_LOCAL_API_RATE_LIMIT: z
    .string()
    .regex(
      /^(off|[1-9]\d{0,6}\/[1-9]\d{0,4})$/,
      "KINDE_LOCAL_API_RATE_LIMIT must be requests/seconds, e.g. 6000/60, or off",
    )
    .optional(),
});

export type ServerSettings = Omit<KindeLocalServerOptions, "log" | "clock">;

export function settingsFromEnv(
  env: Record<string, string | undefined>,
  cwd: string,
): { ok: true; settings: ServerSettings } | { ok: false; message: string } {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, message: issue?.message ?? "Invalid environment" };
  }
  const values = parsed.data;
  const ttl: Partial<Record<"access" | "id" | "refresh", number>> = {};
  if (values.KINDE_LOCAL_ACCESS_TOKEN_TTL) ttl.access = values.KINDE_LOCAL_ACCESS_TOKEN_TTL;
  if (values.KINDE_LOCAL_ID_TOKEN_TTL) ttl.id = values.KINDE_LOCAL_ID_TOKEN_TTL;
  if (values.KINDE_LOCAL_REFRESH_TOKEN_TTL) ttl.refresh = values.KINDE_LOCAL_REFRESH_TOKEN_TTL;
  const webhooks = {
    endpoints: values.KINDE_LOCAL_WEBHOOK_URLS,
    retryDelaysMs: values.KINDE_LOCAL_WEBHOOK_RETRY_DELAYS_MS?.map(Number),
    giveUpAfterMs: values.KINDE_LOCAL_WEBHOOK_GIVE_UP_MS,
  };
  const settings: ServerSettings = {
    issuer: values.KINDE_ISSUER_URL,
    host: values.KINDE_LOCAL_HOST ?? "127.0.0.1",
    clientId: values.KINDE_CLIENT_ID,
    clientSecret: values.KINDE_CLIENT_SECRET,
    siteUrl: values.KINDE_SITE_URL,
    dataDir: resolve(cwd, values.KINDE_LOCAL_DATA_DIR ?? "kinde-local/data"),
    configPath: resolve(cwd, values.KINDE_LOCAL_CONFIG ?? "kinde-local/config.json"),
    ttl,
    callbackUrls: values.KINDE_LOCAL_CALLBACK_URLS,
    logoutUrls: values.KINDE_LOCAL_LOGOUT_URLS,
    webhooks: Object.values(webhooks).some((value) => value !== undefined) ? webhooks : undefined,
  };
  const rate = values.KINDE_LOCAL_API_RATE_LIMIT;
  if (rate === "off") settings.apiRateLimit = false;
  else if (rate !== undefined) {
    const [requests, windowSeconds] = rate.split("/").map(Number);
    settings.apiRateLimit = { requests: requests ?? 1, windowSeconds: windowSeconds ?? 1 };
  }
  return { ok: true, settings };
}

// What the configuration must look like; pure, so start scripts and tests can check one without loading it.
import { z } from "zod";
import { DATABASE_URL_RULE, providerOf } from "../database/url.ts";
import { DEFAULT_DATABASE_URL, loadDotEnv } from "./dotenv.server.ts";

const httpUrl = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
  // The SDK concatenates endpoints ("https://x.kinde.com/" + "/oauth2/..."): no trailing slash.
  .transform((url) => url.replace(/\/+$/, ""));

export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_URL: z
    .string()
    .refine((url) => providerOf(url) !== null, DATABASE_URL_RULE)
    .default(DEFAULT_DATABASE_URL),
  // Per instance; instances times this must stay below PostgreSQL's max_connections.
  DATABASE_POOL_SIZE: z.coerce
    .number({ error: "must be a whole number from 1 to 1000" })
    .int("must be a whole number from 1 to 1000")
    .min(1, "must be a whole number from 1 to 1000")
    .max(1000, "must be a whole number from 1 to 1000")
    .default(10),
  KINDE_CLIENT_ID: z.string().regex(/^[A-Za-z0-9]{1,64}$/, "must be the application's client id (letters and digits)"),
  // The SDK silently refuses to call the token endpoint with any other secret shape.
  KINDE_CLIENT_SECRET: z
    .string()
    .regex(/^[a-zA-Z0-9]{40,60}$/, "must be 40 to 60 letters and digits, as Kinde issues them"),
  KINDE_ISSUER_URL: httpUrl,
  KINDE_SITE_URL: httpUrl,
  KINDE_POST_LOGIN_REDIRECT_URL: httpUrl,
  KINDE_POST_LOGOUT_REDIRECT_URL: httpUrl,
  KINDE_AUDIENCE: z.string().optional(),
  SESSION_SECRET: z.string().min(32, "must be at least 32 characters (openssl rand -hex 32)"),
});

export type Env = z.infer<typeof envSchema>;

export class EnvError extends Error {
  override name = "EnvError";
}

function parseWith<T>(schema: z.ZodType<T>, source: Record<string, string | undefined>): T {
  // Empty strings come from `KEY=` lines in .env: treat them as unset.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ""));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "environment");
    return issue.code === "invalid_type" && cleaned[name] === undefined
      ? `${name} is missing`
      : `${name} ${issue.message}`;
  });
  throw new EnvError(
    `Invalid configuration: ${problems.join("; ")}. Set it in .env (see .env.example) or in the environment.`,
  );
}

export function parseEnv(source: Record<string, string | undefined>): Env {
  return parseWith(envSchema, source);
}

// Loads .env (the environment wins), checks it, and writes the normalised URLs back for the Kinde SDK.
export function loadEnv(): Env {
  loadDotEnv();
  const env = parseEnv(process.env);
  for (const key of [
    "KINDE_ISSUER_URL",
    "KINDE_SITE_URL",
    "KINDE_POST_LOGIN_REDIRECT_URL",
    "KINDE_POST_LOGOUT_REDIRECT_URL",
    "DATABASE_URL",
  ] as const) {
    process.env[key] = env[key];
  }
  return env;
}

// For users:sync. Without M2M credentials the app's own client is used (the local Kinde server accepts
// it; real Kinde needs an M2M application with read:users).
export const managementEnvSchema = envSchema
  .pick({ KINDE_ISSUER_URL: true, KINDE_CLIENT_ID: true, KINDE_CLIENT_SECRET: true })
  .extend({
    KINDE_M2M_CLIENT_ID: z
      .string()
      .regex(/^[A-Za-z0-9]{1,64}$/, "must be the M2M application's client id (letters and digits)")
      .optional(),
    KINDE_M2M_CLIENT_SECRET: z
      .string()
      .regex(/^[A-Za-z0-9]{20,100}$/, "must be the M2M application's client secret (letters and digits)")
      .optional(),
  })
  .superRefine((value, context) => {
    for (const [set, unset] of [
      ["KINDE_M2M_CLIENT_ID", "KINDE_M2M_CLIENT_SECRET"],
      ["KINDE_M2M_CLIENT_SECRET", "KINDE_M2M_CLIENT_ID"],
    ] as const) {
      if (value[set] !== undefined && value[unset] === undefined) {
        context.addIssue({ code: "custom", path: [unset], message: `must be set too when ${set} is set` });
      }
    }
  });

export interface ManagementEnv {
  issuerUrl: string;
  clientId: string;
  clientSecret: string;
  credentials: "KINDE_M2M_CLIENT_ID/KINDE_M2M_CLIENT_SECRET" | "KINDE_CLIENT_ID/KINDE_CLIENT_SECRET";
}

export function parseManagementEnv(source: Record<string, string | undefined>): ManagementEnv {
  const env = parseWith(managementEnvSchema, source);
  const m2m = env.KINDE_M2M_CLIENT_ID !== undefined && env.KINDE_M2M_CLIENT_SECRET !== undefined;
  return {
    issuerUrl: env.KINDE_ISSUER_URL,
    clientId: m2m ? env.KINDE_M2M_CLIENT_ID! : env.KINDE_CLIENT_ID,
    clientSecret: m2m ? env.KINDE_M2M_CLIENT_SECRET! : env.KINDE_CLIENT_SECRET,
    credentials: m2m ? "KINDE_M2M_CLIENT_ID/KINDE_M2M_CLIENT_SECRET" : "KINDE_CLIENT_ID/KINDE_CLIENT_SECRET",
  };
}

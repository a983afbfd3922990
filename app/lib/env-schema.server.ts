/**
 * What the app's configuration must look like. Pure: parsing has no side effect, so the
 * start scripts and tests can check a configuration without loading one.
 */
import { z } from "zod";
import { DEFAULT_DATABASE_URL } from "./dotenv.server.ts";

const httpUrl = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
  // The SDK builds endpoints by string concatenation: "https://x.kinde.com/" + "/oauth2/..."
  // would break, so a trailing slash is dropped here and written back to process.env.
  .transform((url) => url.replace(/\/+$/, ""));

export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_URL: z
    .string()
    .regex(/^file:.+/, "must be a SQLite file URL such as file:./data/dev.db")
    .default(DEFAULT_DATABASE_URL),
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

/** Parses `source`; on failure throws one message that names every bad variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  // Empty strings come from `KEY=` lines in .env: treat them as unset.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ""));
  const result = envSchema.safeParse(cleaned);
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

/**
 * The app's configuration, read from the environment once and validated.
 *
 * Importing this module loads `.env` first, so it must be imported before the Kinde SDK,
 * which reads its KINDE_* variables from `process.env` when it is first evaluated
 * (app/lib/kinde.server.ts imports the SDK lazily for that reason).
 */
import { loadDotEnv } from "./dotenv.server";
import { parseEnv, type Env } from "./env-schema.server";

export type { Env };

function loadEnv(): Env {
  loadDotEnv();
  const env = parseEnv(process.env);
  // Hand the normalised values back to the Kinde SDK, which reads process.env itself.
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

export const env: Env = loadEnv();

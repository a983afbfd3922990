// The configuration, loaded from .env and validated once: docs/decisions/0004-configuration-loading.md.
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

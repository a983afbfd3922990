/** The server's configuration: the app's (app/lib/config/env-schema.server.ts) plus PORT and KINDE_LOCAL_START. */
import { copyFileSync, existsSync } from "node:fs";
import { EnvError, loadEnv, parseEnv, type Env } from "../app/lib/config/env-schema.server.ts";

export { EnvError, type Env };

/** A fresh clone's first `npm run dev`: .env from the example, unless the environment configures it all. */
export function ensureEnvFile(): void {
  if (existsSync(".env") || !existsSync(".env.example")) return;
  try {
    parseEnv(process.env);
  } catch {
    copyFileSync(".env.example", ".env");
    console.log("Created .env from .env.example (local Kinde server, SQLite in ./data).");
  }
}

export function loadConfig(): Env {
  const env = loadEnv();
  const problems = unsafeInProduction(env, localKindeWanted(env.KINDE_ISSUER_URL));
  if (problems.length > 0) {
    throw new EnvError(
      `Refusing to start in production (KINDE_SITE_URL=${env.KINDE_SITE_URL}): ${problems.join("; ")}.`,
    );
  }
  return env;
}

const isLocalHost = (url: string) => ["localhost", "127.0.0.1", "[::1]"].includes(new URL(url).hostname);

/** .env.example's values: public, so never a production secret. */
export const EXAMPLE_SECRETS = {
  SESSION_SECRET: "c52cff989ed1fc857d8edded9c1151cf02079ab85fe9164dc6eda4f0d6b8b397",
  KINDE_CLIENT_SECRET: "c951363daf92d5e34621428847d497a0b5bbb0f3cc93039c",
};
const MIN_DISTINCT_SECRET_CHARACTERS = 8;
const NEW_SECRET = "generate one with `openssl rand -hex 32`";

/** Production rules, when the site is not on this machine: docs/decisions/0023-safe-by-default-in-production.md. */
export function unsafeInProduction(env: Env, withLocalKinde: boolean): string[] {
  if (env.NODE_ENV !== "production" || isLocalHost(env.KINDE_SITE_URL)) return [];
  const problems: string[] = [];
  if (env.SESSION_SECRET === EXAMPLE_SECRETS.SESSION_SECRET) {
    problems.push(`SESSION_SECRET is the public example from .env.example: ${NEW_SECRET}`);
  } else if (new Set(env.SESSION_SECRET).size < MIN_DISTINCT_SECRET_CHARACTERS) {
    problems.push(
      `SESSION_SECRET is too weak (fewer than ${MIN_DISTINCT_SECRET_CHARACTERS} different characters): ${NEW_SECRET}`,
    );
  }
  if (env.KINDE_CLIENT_SECRET === EXAMPLE_SECRETS.KINDE_CLIENT_SECRET) {
    problems.push(
      "KINDE_CLIENT_SECRET is the local Kinde server's example from .env.example: use your Kinde application's",
    );
  }
  if (withLocalKinde) {
    problems.push(
      "KINDE_LOCAL_START would start the local Kinde server (KINDE_ISSUER_URL is on this machine): set KINDE_ISSUER_URL to your Kinde domain",
    );
  }
  return problems;
}

/** KINDE_LOCAL_START `auto` (the default): start the local Kinde server when the issuer is on this machine; `false`: never. */
export function localKindeWanted(issuerUrl: string, setting = process.env.KINDE_LOCAL_START || "auto"): boolean {
  if (setting === "false") return false;
  if (setting !== "auto") {
    throw new EnvError(
      `Invalid configuration: KINDE_LOCAL_START must be auto or false. Set it in .env (see .env.example) or in the environment.`,
    );
  }
  return isLocalHost(issuerUrl);
}

/** PORT, else the port of KINDE_SITE_URL (where Kinde sends people back), else 3000. */
export function listenPort(env: Env): number {
  const port = Number(process.env.PORT || new URL(env.KINDE_SITE_URL).port || 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new EnvError(
      `Invalid configuration: PORT must be a port number (0-65535). Set it in .env or in the environment.`,
    );
  }
  return port;
}

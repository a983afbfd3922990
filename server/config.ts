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
  localKindeWanted(env.KINDE_ISSUER_URL);
  return env;
}

const isLocalHost = (url: string) => ["localhost", "127.0.0.1", "[::1]"].includes(new URL(url).hostname);

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

/**
 * The server's configuration at start: .env (created from the example on a first `npm run
 * dev`), the app's variables checked once, and what the server itself reads (PORT,
 * KINDE_LOCAL_START). Paths are relative to the working directory, the project root.
 */
import { copyFileSync, existsSync } from "node:fs";
import { loadDotEnv } from "../app/lib/config/dotenv.server.ts";
import { EnvError, parseEnv, type Env } from "../app/lib/config/env-schema.server.ts";

export { EnvError, type Env };

/**
 * A fresh clone has no .env: start from the example, which runs everything locally. Only when
 * the environment alone is not a configuration (tests and hosts set every variable).
 */
export function ensureEnvFile(): void {
  if (existsSync(".env") || !existsSync(".env.example")) return;
  try {
    parseEnv(process.env);
  } catch {
    copyFileSync(".env.example", ".env");
    console.log("Created .env from .env.example (local Kinde server, SQLite in ./data).");
  }
}

/** Loads .env (the environment wins) and validates it; throws one EnvError naming every bad variable. */
export function loadConfig(): Env {
  loadDotEnv();
  const env = parseEnv(process.env);
  localKindeWanted(env.KINDE_ISSUER_URL);
  return env;
}

/**
 * KINDE_LOCAL_START: `auto` (the default) starts the local Kinde server beside the app when
 * KINDE_ISSUER_URL is on this machine; `false` never does.
 */
export function localKindeWanted(issuerUrl: string, setting = process.env.KINDE_LOCAL_START || "auto"): boolean {
  if (setting === "false") return false;
  if (setting !== "auto") {
    throw new EnvError(
      `Invalid configuration: KINDE_LOCAL_START must be auto or false. Set it in .env (see .env.example) or in the environment.`,
    );
  }
  const { hostname } = new URL(issuerUrl);
  return hostname === "localhost" || hostname === "127.0.0.1" || hostname === "[::1]";
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

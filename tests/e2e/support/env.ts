// Shared by the config, the global setup and the tests (??=: workers evaluate the config again, keeping the ports).
import { join } from "node:path";

export const STORAGE_DIR = "tests/.state/e2e";
export const STORAGE_STATE = join(STORAGE_DIR, "user.json");
export const STORAGE_PERSON = join(STORAGE_DIR, "user.person.json");

export interface E2eTarget {
  baseUrl: string;
  /** The stack's SQLite file; undefined against an app this suite did not start. */
  databaseFile?: string;
  /** The local Kinde server's URL; undefined when the app uses another Kinde (real Kinde). */
  kindeUrl?: string;
  kindeDataDir?: string;
}

export function e2eTarget(): E2eTarget {
  const external = process.env.E2E_BASE_URL;
  if (external) return { baseUrl: external.replace(/\/+$/, "") };
  const appPort = process.env.E2E_APP_PORT;
  const kindePort = process.env.E2E_KINDE_PORT;
  if (!appPort || !kindePort)
    throw new Error("E2E_APP_PORT is not set: run the browser tests through playwright.config.ts");
  return {
    baseUrl: `http://localhost:${appPort}`,
    databaseFile: process.env.E2E_DATABASE_FILE,
    kindeUrl: `http://localhost:${kindePort}`,
    kindeDataDir: process.env.E2E_KINDE_DATA_DIR,
  };
}

export const NEEDS_LOCAL_STACK =
  "needs the suite's own stack (local Kinde server and the SQLite file): E2E_BASE_URL points at an app this suite did not start";

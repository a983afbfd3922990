/**
 * The app's configuration, read from the environment once and validated.
 *
 * Importing this module loads `.env` first, so it must be imported before the Kinde SDK,
 * which reads its KINDE_* variables from `process.env` when it is first evaluated
 * (app/lib/kinde.server.ts imports the SDK lazily for that reason).
 */
import { loadEnv, type Env } from "./env-schema.server";

export type { Env };

export const env: Env = loadEnv();

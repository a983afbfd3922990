// The configuration, loaded from .env and validated once: docs/decisions/0004-configuration-loading.md.
import { loadEnv, type Env } from "./env-schema.server";

export type { Env };

export const env: Env = loadEnv();

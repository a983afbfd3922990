/** Migrations at start: the real `prisma migrate deploy`, as a short-lived child. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { isPostgresUrl } from "../app/lib/database/url.ts";
import { migratePostgres } from "./migrate-postgres.ts";

/**
 * `prisma migrate deploy` for `databaseUrl`, from `cwd` (the project root); on PostgreSQL only
 * when migrations are pending, under a lock shared by every instance (server/migrate-postgres.ts).
 * Rejects with the CLI's output.
 */
export async function migrate(databaseUrl: string, cwd = process.cwd()): Promise<void> {
  if (isPostgresUrl(databaseUrl)) await migratePostgres(databaseUrl, cwd, () => deploy(databaseUrl, cwd));
  else await deploy(databaseUrl, cwd);
}

function deploy(databaseUrl: string, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(cwd, "node_modules/.bin/prisma"), ["migrate", "deploy"], {
      cwd,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`prisma migrate deploy failed (exit ${code}):\n${output.trim()}`)),
    );
  });
}

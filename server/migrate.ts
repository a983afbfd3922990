import { spawn } from "node:child_process";
import { join } from "node:path";
import { isPostgresUrl } from "../app/lib/database/url.ts";
import { migratePostgres } from "./migrate-postgres.ts";

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

// Once per vitest run: a migrated template database; for the integration project also the production
// build `npm start` serves, and the run's PostgreSQL server.
import { spawn } from "node:child_process";
import type { TestProject } from "vitest/node";
import { migrate } from "../../server/migrate";
import { createMigratedTemplate, TEMPLATE_ENV } from "./databases";
import { startRunPostgres } from "./postgres";

function build(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "build"], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve() : reject(new Error(`npm run build failed:\n${output}`))));
  });
}

export default async function setup(project: TestProject) {
  const integration = project.name === "integration";
  const building = integration && !process.env.SKIP_BUILD ? build() : Promise.resolve();
  const postgres = integration ? startRunPostgres((url) => migrate(url)) : undefined;
  process.env[TEMPLATE_ENV] = await createMigratedTemplate();
  const [stopPostgres] = await Promise.all([postgres, building]);
  return stopPostgres;
}

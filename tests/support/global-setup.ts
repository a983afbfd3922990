// Once per vitest run: a migrated template database; for the integration project also the production
// build `npm start` serves, and the run's PostgreSQL server.
import type { TestProject } from "vitest/node";
import { migrate } from "../../server/migrate";
import { createMigratedTemplate, TEMPLATE_ENV } from "./databases";
import { runCommand } from "./app-process";
import { startRunPostgres } from "./postgres";

export default async function setup(project: TestProject) {
  const integration = project.name === "integration";
  const building = integration && !process.env.SKIP_BUILD ? runCommand("npm", ["run", "build"]) : undefined;
  const postgres = integration ? startRunPostgres((url) => migrate(url)) : undefined;
  process.env[TEMPLATE_ENV] = await createMigratedTemplate();
  const [stopPostgres] = await Promise.all([postgres, building]);
  return stopPostgres;
}

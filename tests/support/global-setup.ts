/**
 * Once per vitest run: migrate a template database. The integration project also builds the
 * app, so the HTTP tests run the same production build that `npm start` serves.
 */
import { spawnSync } from "node:child_process";
import type { TestProject } from "vitest/node";
import { createMigratedTemplate, TEMPLATE_ENV } from "./database";

export default function setup(project: TestProject) {
  process.env[TEMPLATE_ENV] = createMigratedTemplate();
  if (project.name === "integration" && !process.env.SKIP_BUILD) {
    const build = spawnSync("npm", ["run", "build"], { encoding: "utf8" });
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
  }
}

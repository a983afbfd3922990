// npm run users:sync [-- --dry-run]: the users, then the organizations and memberships, made to match Kinde's lists
// (app/lib/kinde-sync/users-sync.server.ts, organizations-sync.server.ts).
import { loadDotEnv } from "../app/lib/config/dotenv.server.ts";
import { EnvError, parseManagementEnv } from "../app/lib/config/env-schema.server.ts";
import { readFlags } from "./lib/flags.ts";

function fail(message: string): never {
  console.error(`users:sync: ${message}`);
  process.exit(1);
}

const dryRun = readFlags("users:sync", "Usage: npm run users:sync [-- --dry-run]", ["--dry-run"]).has("--dry-run");

try {
  loadDotEnv();
  const config = parseManagementEnv(process.env);
  // Imported after the check: the database module validates the whole configuration on import.
  const { createKindeManagementClient } = await import("../app/lib/kinde-sync/management-api.server.ts");
  const { formatSummary, syncUsersFromKinde } = await import("../app/lib/kinde-sync/users-sync.server.ts");
  const { formatOrganizationsSummary, syncOrganizationsFromKinde } =
    await import("../app/lib/kinde-sync/organizations-sync.server.ts");
  const { prisma } = await import("../app/lib/database/client.server.ts");
  const log = (line: string) => console.log(`users:sync: ${line}`);
  log(`listing users at ${config.issuerUrl}${dryRun ? " (dry run: nothing will be written)" : ""}`);
  const client = createKindeManagementClient(config, { log });
  const summary = await syncUsersFromKinde({ client, dryRun, log });
  log(formatSummary(summary));
  log("listing organizations and their members");
  log(formatOrganizationsSummary(await syncOrganizationsFromKinde({ client, dryRun, log })));
  await prisma.$disconnect();
  process.exit(0);
} catch (error) {
  if (error instanceof EnvError) fail(error.message);
  if (error instanceof Error && error.name === "KindeManagementError") fail(error.message);
  if (error instanceof Response) fail(`the database is unavailable (${error.status})`);
  const message = error instanceof Error ? error.message : String(error);
  fail(`failed: ${message.split("\n").find((line) => line.trim() !== "") ?? "unknown error"}`);
}

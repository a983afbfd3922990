// npm run db:users [-- --json]: the stored users, through the app's own client (works offline, unlike prisma studio).
import { loadDotEnv } from "../app/lib/config/dotenv.server.ts";
import { EnvError } from "../app/lib/config/env-schema.server.ts";
import { readFlags } from "./lib/flags.ts";

const json = readFlags("db:users", "Usage: npm run db:users [-- --json]", ["--json"]).has("--json");

try {
  loadDotEnv();
  const { prisma } = await import("../app/lib/database/client.server.ts");
  const { listAllUsers } = await import("../app/models/user.server.ts");
  const { formatUsersTable, reportRows } = await import("./lib/users-report.ts");
  const rows = reportRows(await listAllUsers());
  console.log(json ? JSON.stringify(rows, null, 2) : formatUsersTable(rows));
  await prisma.$disconnect();
  process.exit(0);
} catch (error) {
  const message =
    error instanceof EnvError
      ? error.message
      : // db.server.ts turns an unusable database into a 503 Response.
        error instanceof Response
        ? `the database is unavailable (${error.status})`
        : (error instanceof Error ? error.message : String(error)).split("\n").find((line) => line.trim() !== "");
  console.error(`db:users: ${message ?? "failed"}`);
  process.exit(1);
}

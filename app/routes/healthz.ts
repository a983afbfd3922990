/**
 * GET /healthz: liveness (the process answers) and readiness (the database can be read and
 * written). 200 when both hold, 503 with the failing check named otherwise. No secrets, no
 * session, no cache.
 */
import { checkDatabase } from "~/lib/database/health.server";

export async function loader() {
  const database = await checkDatabase();
  const healthy = database === "ok";
  return Response.json(
    { status: healthy ? "ok" : "degraded", checks: { process: "ok", database } },
    { status: healthy ? 200 : 503, headers: { "Cache-Control": "no-store" } },
  );
}

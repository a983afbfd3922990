// GET /healthz: 200 when the database can be read and written, else 503 naming the failing check.
import { checkDatabase } from "~/lib/database/health.server";

export async function loader() {
  const database = await checkDatabase();
  const healthy = database === "ok";
  return Response.json(
    { status: healthy ? "ok" : "degraded", checks: { process: "ok", database } },
    { status: healthy ? 200 : 503, headers: { "Cache-Control": "no-store" } },
  );
}

// POST /webhooks/kinde (Settings > Webhooks in Kinde): app/lib/kinde-sync/webhook.server.ts.
import type { ActionFunctionArgs } from "@remix-run/node";
import { handleKindeWebhook } from "~/lib/kinde-sync/webhook.server";

export function action({ request }: ActionFunctionArgs) {
  if (request.method !== "POST") {
    return new Response("Method not allowed", { status: 405, headers: { Allow: "POST" } });
  }
  return handleKindeWebhook(request);
}

export function loader() {
  return new Response("Kinde delivers webhooks here with POST.", { status: 405, headers: { Allow: "POST" } });
}

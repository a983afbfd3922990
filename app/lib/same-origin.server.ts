import { env } from "./env.server";

/**
 * Refuses a state-changing request sent by another site (CSRF). Browsers always send Origin
 * with a form POST; a request without it comes from a non-browser client, which cannot ride
 * on a victim's cookies. Throws a 403 response, which the nearest error boundary renders.
 */
export function assertSameOrigin(request: Request): void {
  const origin = request.headers.get("Origin");
  if (!origin) return;
  const allowed = new Set([new URL(request.url).origin, new URL(env.KINDE_SITE_URL).origin]);
  if (!allowed.has(origin)) {
    throw new Response("This form can only be sent from this site.", { status: 403 });
  }
}

import { allows, type Application } from "../applications.ts";
import { currentSession, type AppContext, type Handler, type RequestContext } from "../context.ts";
import { clearedSessionCookie, SESSION_COOKIE } from "../cookies.ts";
import { redirect } from "../http.ts";
import { sendMessage } from "../pages.ts";

/** Redirects only to an allowed logout URL (client_id's, else any application's): never an open redirect. */
export function logoutRoute(app: AppContext): Handler {
  return async (context) => {
    const session = currentSession(app, context);
    if (session) await app.store.deleteSession(session.id);
    const headers: Record<string, string> = context.cookies.has(SESSION_COOKIE)
      ? { "Set-Cookie": clearedSessionCookie() }
      : {};
    const clientId = context.query.get("client_id");
    const applications = await app.applications.all();
    const named = clientId === undefined ? undefined : applications.filter((a) => a.clientId === clientId);
    const target = logoutTarget(named ?? applications, context);
    if (target) return redirect(context.response, target, headers);
    const message = "You are signed out of the local Kinde server.";
    const link = { href: app.siteUrl, text: "Go to the app" };
    sendMessage(context.response, 200, { title: "You are signed out", message, link, role: "status" }, headers);
  };
}

/** The Kinde SDK does not encode the redirect, so a URL with its own query arrives split at its `&`. */
function logoutTarget(applications: Application[], context: RequestContext): string | undefined {
  const allowed = (value: string) => allowedLogoutUrl(applications, value);
  const raw = context.rawQuery;
  const inner = raw.indexOf("&redirect=");
  const start = raw.startsWith("redirect=") ? "redirect=".length : inner === -1 ? -1 : inner + "&redirect=".length;
  if (start !== -1) {
    const rawValue = raw.slice(start);
    if (rawValue.includes("&")) {
      const target = allowed(rawValue);
      if (target) return target;
    }
  }
  const decoded = context.query.get("redirect") ?? context.query.get("post_logout_redirect_uri");
  return decoded === undefined ? undefined : allowed(decoded);
}

function allowedLogoutUrl(applications: Application[], value: string): string | undefined {
  if (!applications.some((application) => allows(application.logoutUrls, value))) return undefined;
  return new URL(value).href;
}

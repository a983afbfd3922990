import { currentSession, emitUserEvent, type AppContext, type Handler, type RequestContext } from "../context.ts";
import { assertSameOriginPost, readForm, redirect, sendHtml } from "../http.ts";
import { membershipsOf } from "../organizations.ts";
import { accountPage, sendMessage } from "../pages.ts";
import { secretsEqual } from "../passwords.ts";
import type { StoredUser } from "../store.ts";
import { nameError, normalizeName } from "../validation.ts";

/** A name changed here, at the "provider", reaches the app as a user.updated webhook and in the next tokens. */
export function accountRoutes(app: AppContext) {
  const signedInUser = (context: RequestContext) => {
    const signedIn = currentSession(app, context);
    const user = signedIn && app.store.getUser(signedIn.session.userId);
    if (signedIn && user) return { csrf: signedIn.session.csrf, user };
    const message = "Sign in from the app first; this page then shows the account you signed in with.";
    const link = { href: app.siteUrl, text: "Go to the app" };
    sendMessage(context.response, 401, { title: "You are not signed in", message, link });
  };

  const organizationNames = async (user: StoredUser) =>
    membershipsOf(await app.config.current(), app.store, user).map((membership) => membership.orgName);

  return {
    async show(context) {
      const account = signedInUser(context);
      if (!account) return;
      const { user, csrf } = account;
      const values = { firstName: user.givenName ?? "", lastName: user.familyName ?? "" };
      const saved = context.query.get("saved") === "1";
      const organizations = await organizationNames(user);
      const page = accountPage({ email: user.email, csrf, values, saved, siteUrl: app.siteUrl, organizations });
      sendHtml(context.response, 200, page);
    },

    async save(context) {
      assertSameOriginPost(context.request);
      const form = await readForm(context.request);
      const account = signedInUser(context);
      if (!account) return;
      const { user, csrf } = account;
      const fields = form.pick(["csrf", "p_first_name", "p_last_name"]);
      if (!secretsEqual(fields.csrf?.slice(0, 1000) ?? "", csrf)) {
        const link = { href: "/account", text: "Reload" };
        return sendMessage(context.response, 403, {
          title: "Form expired",
          message: "Reload the page and try again.",
          link,
        });
      }
      const values = {
        firstName: normalizeName(fields.p_first_name?.slice(0, 1000) ?? ""),
        lastName: normalizeName(fields.p_last_name?.slice(0, 1000) ?? ""),
      };
      const errors = { firstName: nameError(values.firstName), lastName: nameError(values.lastName) };
      if (errors.firstName || errors.lastName) {
        const organizations = await organizationNames(user);
        const page = accountPage({
          email: user.email,
          csrf,
          values,
          errors,
          saved: false,
          siteUrl: app.siteUrl,
          organizations,
        });
        return sendHtml(context.response, 400, page);
      }
      const givenName = values.firstName || null;
      const familyName = values.lastName || null;
      if (givenName !== user.givenName || familyName !== user.familyName) {
        const updated = await app.store.updateUser(user.id, { givenName, familyName });
        if (updated) await emitUserEvent(app, "user.updated", "user", updated);
      }
      // Post/redirect/get, so reloading the page does not post the form again.
      redirect(context.response, "/account?saved=1", {}, 303);
    },
  } satisfies Record<string, Handler>;
}

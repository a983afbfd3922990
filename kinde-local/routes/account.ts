import { createHash, timingSafeEqual } from "node:crypto";
import { currentSession, emitUserEvent, type AppContext, type Handler, type RequestContext } from "../context.ts";
import { assertSameOriginPost, readForm, redirect, sendHtml } from "../http.ts";
import { accountPage, messagePage } from "../pages.ts";
import { nameError, normalizeName } from "../validation.ts";

/** A name changed here, at the "provider", reaches the app as a user.updated webhook and in the next tokens. */
export function accountRoutes(app: AppContext) {
  const notSignedIn = (context: RequestContext) =>
    sendHtml(
      context.response,
      401,
      messagePage({
        title: "You are not signed in",
        message: "Sign in from the app first; this page then shows the account you signed in with.",
        link: { href: app.siteUrl, text: "Go to the app" },
      }),
    );

  return {
    async show(context) {
      const signedIn = currentSession(app, context);
      const user = signedIn && app.store.getUser(signedIn.session.userId);
      if (!signedIn || !user) return notSignedIn(context);
      sendHtml(
        context.response,
        200,
        accountPage({
          email: user.email,
          csrf: signedIn.session.csrf,
          values: { firstName: user.givenName ?? "", lastName: user.familyName ?? "" },
          saved: context.query.get("saved") === "1",
          siteUrl: app.siteUrl,
        }),
      );
    },

    async save(context) {
      assertSameOriginPost(context.request);
      const form = await readForm(context.request);
      const signedIn = currentSession(app, context);
      const user = signedIn && app.store.getUser(signedIn.session.userId);
      if (!signedIn || !user) return notSignedIn(context);
      const fields = form.pick(["csrf", "p_first_name", "p_last_name"]);
      const text = (name: string) => (typeof fields[name] === "string" ? fields[name].slice(0, 1000) : "");
      if (!sameSecret(text("csrf"), signedIn.session.csrf)) {
        return sendHtml(
          context.response,
          403,
          messagePage({
            title: "Form expired",
            message: "Reload the page and try again.",
            link: { href: "/account", text: "Reload" },
          }),
        );
      }
      const values = { firstName: normalizeName(text("p_first_name")), lastName: normalizeName(text("p_last_name")) };
      const errors: Partial<Record<"firstName" | "lastName", string>> = {};
      const firstNameError = nameError(values.firstName);
      const lastNameError = nameError(values.lastName);
      if (firstNameError) errors.firstName = firstNameError;
      if (lastNameError) errors.lastName = lastNameError;
      if (firstNameError || lastNameError) {
        return sendHtml(
          context.response,
          400,
          accountPage({
            email: user.email,
            csrf: signedIn.session.csrf,
            values,
            errors,
            saved: false,
            siteUrl: app.siteUrl,
          }),
        );
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

function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

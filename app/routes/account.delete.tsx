// Delete my account: the stored row goes and the person is signed out; the Kinde identity stays.
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data } from "@remix-run/node";
import { Form, Link, useActionData, useNavigation } from "@remix-run/react";
import { requireUser } from "~/lib/auth/session.server";
import { setFlash } from "~/lib/http/flash.server";
import { privatePage, privatePageHeaders, readForm } from "~/lib/http/responses.server";
import { signOut } from "~/lib/auth/kinde-routes.server";
import { deleteOwnAccount } from "~/models/user.server";

export const headers = privatePageHeaders;

export const meta: MetaFunction = () => [{ title: "Delete my account · Remix Kinde Stack" }];

export async function loader(args: LoaderFunctionArgs) {
  const { user, headers } = await requireUser(args);
  return data({ email: user.email }, { headers: privatePage(headers) });
}

export async function action(args: ActionFunctionArgs) {
  const { request } = args;
  const { kindeUser, headers } = await requireUser(args);
  const form = await readForm(request);
  if (form.get("confirm") !== "yes") {
    return data({ error: "Tick the box to confirm that you want to delete your account." }, { status: 400, headers });
  }
  await deleteOwnAccount(kindeUser.id);
  console.info("[account] a user deleted their stored profile");
  // Sign out of the app and of Kinde; the message waits for the page after Kinde's logout.
  const response = await signOut(request);
  response.headers.append(
    "Set-Cookie",
    await setFlash({ kind: "info", message: "Your account was deleted and you are signed out." }),
  );
  return response;
}

export default function DeleteAccount() {
  const actionData = useActionData<typeof action>();
  const navigation = useNavigation();
  const error = actionData && "error" in actionData ? actionData.error : null;
  return (
    <section className="card narrow danger-zone" aria-labelledby="delete-title">
      <h1 id="delete-title">Delete my account</h1>
      <p>This removes your profile from this app's database and signs you out. It cannot be undone.</p>
      <p className="muted">
        Your Kinde identity is not deleted: you can still sign in to other apps that use it. This app keeps nothing
        about you from now on, even when Kinde tells it about changes to your identity, until you sign in here again,
        which creates a new, empty profile.
      </p>
      {/* reloadDocument: the answer is a redirect to Kinde's logout, another site. */}
      <Form method="post" className="form" reloadDocument>
        <div className="field checkbox-field">
          <label>
            <input
              type="checkbox"
              name="confirm"
              value="yes"
              required
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? "confirm-error" : undefined}
            />{" "}
            I understand that my profile will be deleted.
          </label>
          {error ? (
            <p id="confirm-error" className="field-error">
              {error}
            </p>
          ) : null}
        </div>
        <div className="actions">
          <button type="submit" className="button button-danger" disabled={navigation.state !== "idle"}>
            Delete my account
          </button>
          <Link to="/dashboard" className="button button-quiet">
            Cancel
          </Link>
        </div>
      </Form>
    </section>
  );
}

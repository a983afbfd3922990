/**
 * Sign-out. It changes state, so it is a POST (from this site only: the server's guard refuses
 * cross-site posts): a link or an <img> on another site cannot sign anyone out. A GET shows a
 * button that sends the POST.
 */
import type { ActionFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form } from "@remix-run/react";
import { signOut } from "~/lib/auth/kinde-routes.server";

export const meta: MetaFunction = () => [{ title: "Sign out · Remix Kinde Stack" }];

export async function action({ request }: ActionFunctionArgs) {
  return signOut(request);
}

export default function SignOut() {
  return (
    <section className="card narrow" aria-labelledby="logout-title">
      <h1 id="logout-title">Sign out?</h1>
      <p>You will be signed out of this app and of Kinde in this browser.</p>
      <Form method="post" reloadDocument>
        <button type="submit" className="button">
          Sign out
        </button>
      </Form>
    </section>
  );
}

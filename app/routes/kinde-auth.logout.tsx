// Sign-out is a same-site POST, so no link or <img> elsewhere can sign anyone out; a GET shows the button.
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

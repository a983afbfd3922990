// "Create an organization": Kinde's sign-up with is_create_org (signed in or not); Kinde creates it, and the
// person arrives signed in to it. The SDK's register route passes the parameters on unchanged.
import type { ActionFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { CreateOrganizationForm } from "~/components/create-organization-form";
import { parseOrganizationName } from "~/lib/forms";
import { readForm } from "~/lib/http/responses.server";

export const meta: MetaFunction = () => [{ title: "Create an organization · Remix Kinde Stack" }];

export async function action({ request }: ActionFunctionArgs) {
  const parsed = parseOrganizationName(await readForm(request));
  if (!parsed.ok) return data({ errors: parsed.errors, values: parsed.values }, { status: 400 });
  const params = new URLSearchParams({ is_create_org: "true", org_name: parsed.data.orgName, returnTo: "/dashboard" });
  return redirect(`/kinde-auth/register?${params}`);
}

export default function NewOrganization() {
  return (
    <section className="card narrow" aria-labelledby="new-org-title">
      <h1 id="new-org-title">Create an organization</h1>
      <p>
        Kinde creates it and makes you its admin; you then sign in to it. Everyone you add to it at Kinde sees its
        projects.
      </p>
      <CreateOrganizationForm />
    </section>
  );
}

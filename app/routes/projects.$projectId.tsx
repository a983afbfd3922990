// One project of the current organization; any other id, another organization's included, is a 404.
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { TextField } from "~/components/text-field";
import { requireOrganization } from "~/lib/auth/organization.server";
import { parseProjectName } from "~/lib/forms";
import { setFlash } from "~/lib/http/flash.server";
import { privatePage, privatePageHeaders, readForm } from "~/lib/http/responses.server";
import { deleteProject, getProject, renameProject } from "~/models/project.server";

export { OrganizationErrorBoundary as ErrorBoundary } from "~/components/organization-problem";

export const headers = privatePageHeaders;

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `${data?.project.name ?? "Project"} · Remix Kinde Stack` },
];

const NOT_FOUND = () => new Response("Not found", { status: 404 });
// The largest id both databases' INTEGER columns hold; anything else cannot be a project.
const projectId = z.coerce.number().int().min(1).max(2_147_483_647);

function idFrom(params: LoaderFunctionArgs["params"]): number {
  const parsed = projectId.safeParse(params.projectId);
  if (!parsed.success) throw NOT_FOUND();
  return parsed.data;
}

export async function loader(args: LoaderFunctionArgs) {
  const id = idFrom(args.params);
  const { organization, can, headers } = await requireOrganization(args);
  const project = await getProject(organization.id, id);
  if (!project) throw NOT_FOUND();
  return data(
    { organization: organization.name, project: { id, name: project.name }, canDelete: can("delete:projects") },
    { headers: privatePage(headers) },
  );
}

export async function action(args: ActionFunctionArgs) {
  const id = idFrom(args.params);
  const form = await readForm(args.request);
  const intent = form.get("intent");
  if (intent === "rename") {
    const { organization, headers } = await requireOrganization(args);
    const parsed = parseProjectName(form);
    if (!parsed.ok) return data({ errors: parsed.errors, values: parsed.values }, { status: 400, headers });
    if (!(await renameProject(organization.id, id, parsed.data.name))) throw NOT_FOUND();
    headers.append("Set-Cookie", await setFlash({ kind: "success", message: "Project renamed." }));
    return redirect(`/projects/${id}`, { headers });
  }
  if (intent === "delete") {
    const { organization, headers } = await requireOrganization(args, "delete:projects");
    if (!(await deleteProject(organization.id, id))) throw NOT_FOUND();
    headers.append("Set-Cookie", await setFlash({ kind: "success", message: "Project deleted." }));
    return redirect("/projects", { headers });
  }
  throw new Response("Unknown form action", { status: 400 });
}

export default function Project() {
  const { organization, project, canDelete } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  return (
    <section className="card" aria-labelledby="project-title">
      <p className="eyebrow">{organization} · project</p>
      <h1 id="project-title">{project.name}</h1>
      <Form method="post" className="form inline-form" noValidate>
        <TextField
          name="name"
          label="Name"
          defaultValue={actionData?.values.name ?? project.name}
          error={actionData?.errors.name}
          required
        />
        <button type="submit" name="intent" value="rename" className="button">
          Rename
        </button>
      </Form>
      <div className="actions">
        {canDelete ? (
          <Form method="post">
            <button type="submit" name="intent" value="delete" className="button button-danger">
              Delete project
            </button>
          </Form>
        ) : (
          <p className="muted">
            Deleting needs the <code>delete:projects</code> permission in {organization}.
          </p>
        )}
        <Link to="/projects" className="button button-quiet">
          All projects
        </Link>
      </div>
    </section>
  );
}

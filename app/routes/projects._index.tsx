// The organization's projects: the org-scoped example to copy (docs/decisions/0025-org-scoped-data.md).
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { displayName } from "~/components/avatar";
import { TextField } from "~/components/text-field";
import { requireOrganization } from "~/lib/auth/organization.server";
import { parseProjectName } from "~/lib/forms";
import { setFlash } from "~/lib/http/flash.server";
import { privatePage, privatePageHeaders, readForm } from "~/lib/http/responses.server";
import { createProject, listProjects, PROJECTS_LISTED } from "~/models/project.server";

export { OrganizationErrorBoundary as ErrorBoundary } from "~/components/organization-problem";

export const headers = privatePageHeaders;

export const meta: MetaFunction = () => [{ title: "Projects · Remix Kinde Stack" }];

export async function loader(args: LoaderFunctionArgs) {
  const { organization, can, headers } = await requireOrganization(args);
  const projects = (await listProjects(organization.id)).map((project) => ({
    id: project.id,
    name: project.name,
    createdAt: project.createdAt.toISOString(),
    createdBy: project.createdBy ? displayName(project.createdBy) : null,
  }));
  return data(
    {
      organization: organization.name,
      projects,
      canCreate: can("create:projects"),
      capped: projects.length === PROJECTS_LISTED,
    },
    { headers: privatePage(headers) },
  );
}

export async function action(args: ActionFunctionArgs) {
  const form = await readForm(args.request);
  if (form.get("intent") !== "create") throw new Response("Unknown form action", { status: 400 });
  const { organization, user, headers } = await requireOrganization(args, "create:projects");
  const parsed = parseProjectName(form);
  if (!parsed.ok) return data({ errors: parsed.errors, values: parsed.values }, { status: 400, headers });
  await createProject(organization.id, user.id, parsed.data.name);
  headers.append("Set-Cookie", await setFlash({ kind: "success", message: `Project “${parsed.data.name}” added.` }));
  return redirect("/projects", { headers });
}

const dateFormat = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeZone: "UTC" });

export default function Projects() {
  const { organization, projects, canCreate, capped } = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const adding = useNavigation().formData?.get("intent") === "create";
  return (
    <section className="card" aria-labelledby="projects-title">
      <p className="eyebrow">{organization}</p>
      <h1 id="projects-title">Projects</h1>
      <p className="muted">Everyone in {organization} sees these projects; nobody outside it can.</p>
      {canCreate ? (
        <Form method="post" className="form inline-form" noValidate>
          <TextField
            name="name"
            label="New project"
            defaultValue={actionData?.values.name ?? ""}
            error={actionData?.errors.name}
            required
          />
          <button type="submit" name="intent" value="create" className="button" disabled={adding}>
            {adding ? "Adding…" : "Add project"}
          </button>
        </Form>
      ) : (
        <p className="notice notice-info">
          Adding projects needs the <code>create:projects</code> permission in {organization}.
        </p>
      )}
      {projects.length === 0 ? (
        <p data-testid="no-projects">No projects yet.</p>
      ) : (
        <ul className="item-list" aria-label={`Projects of ${organization}`}>
          {projects.map((project) => (
            <li key={project.id}>
              <Link to={`/projects/${project.id}`}>{project.name}</Link>
              <span className="muted">
                {project.createdBy ? `${project.createdBy}, ` : ""}
                <time dateTime={project.createdAt}>{dateFormat.format(new Date(project.createdAt))}</time>
              </span>
            </li>
          ))}
        </ul>
      )}
      {capped ? <p className="muted">The newest {projects.length} projects.</p> : null}
    </section>
  );
}

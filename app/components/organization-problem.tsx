import { isRouteErrorResponse, Link, useRouteError } from "@remix-run/react";

/** What an org-scoped route's 403 page explains; requireOrganization throws it. */
export type OrganizationProblem =
  | { problem: "no-organization" }
  | { problem: "not-a-member"; organization: string }
  | { problem: "permission"; organization: string; permission: string };

// The 403 page of every org-scoped route (requireOrganization); other errors go to the root's page.
export function OrganizationErrorBoundary() {
  const error = useRouteError();
  if (!isRouteErrorResponse(error) || error.status !== 403) throw error;
  const problem = error.data as OrganizationProblem;
  return (
    <section className="card narrow" aria-labelledby="forbidden-title">
      <title>Not allowed · Remix Kinde Stack</title>
      <p className="eyebrow">Error 403</p>
      <OrganizationProblemText problem={problem} />
      <div className="actions">
        {/* A missing permission leaves the organization's other pages open; the rest need another organization. */}
        {problem.problem === "permission" ? (
          <Link className="button" to="/projects">
            Back to the projects
          </Link>
        ) : (
          <Link className="button" to="/organizations/new">
            Create an organization
          </Link>
        )}
        <Link className="button button-quiet" to="/dashboard">
          Back to your dashboard
        </Link>
      </div>
    </section>
  );
}

function OrganizationProblemText({ problem }: { problem: OrganizationProblem }) {
  switch (problem.problem) {
    case "permission":
      return (
        <>
          <h1 id="forbidden-title">Not allowed in {problem.organization}</h1>
          <p>
            This needs the <code>{problem.permission}</code> permission in {problem.organization}, and your role there
            does not have it. Ask an admin of the organization for a role with it, then sign in again.
          </p>
        </>
      );
    case "not-a-member":
      return (
        <>
          <h1 id="forbidden-title">You are no longer in {problem.organization}</h1>
          <p>
            Kinde told this app that you left {problem.organization}, or that it was deleted. Choose another
            organization in the header, or create one.
          </p>
        </>
      );
    default:
      return (
        <>
          <h1 id="forbidden-title">You are not in an organization</h1>
          <p>This page shows an organization's data. Create one, or ask to be added to one and sign in again.</p>
        </>
      );
  }
}

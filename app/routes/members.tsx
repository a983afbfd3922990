// The stored users, for holders of the `read:users` permission; everyone else gets a 403 page.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data } from "@remix-run/node";
import { isRouteErrorResponse, Link, useLoaderData, useRouteError } from "@remix-run/react";
import { z } from "zod";
import { Avatar, displayName } from "~/components/avatar";
import { requireUser } from "~/lib/auth/session.server";
import { privatePage, privatePageHeaders } from "~/lib/http/responses.server";
import { listUsers } from "~/models/user.server";

const REQUIRED_PERMISSION = "read:users";

export const headers = privatePageHeaders;

export const meta: MetaFunction = () => [{ title: "Members · Remix Kinde Stack" }];

const pageParam = z.coerce.number().int().min(1).max(100_000).catch(1);

export async function loader(args: LoaderFunctionArgs) {
  const { request } = args;
  const { claims, headers } = await requireUser(args);
  if (!claims.permissions.includes(REQUIRED_PERMISSION)) {
    throw data({ permission: REQUIRED_PERMISSION }, { status: 403, headers });
  }
  const page = pageParam.parse(new URL(request.url).searchParams.get("page") ?? 1);
  const { users, total, pages } = await listUsers(page);
  const members = users.map((user) => ({
    id: user.id,
    firstName: user.firstName,
    lastName: user.lastName,
    email: user.email,
    picture: user.picture,
    createdAt: user.createdAt.toISOString(),
  }));
  return data({ members, page, pages, total }, { headers: privatePage(headers) });
}

const dateFormat = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeZone: "UTC" });

export default function Members() {
  const { members, page, pages, total } = useLoaderData<typeof loader>();
  return (
    <section className="card" aria-labelledby="members-title">
      <p className="eyebrow">Requires the {REQUIRED_PERMISSION} permission</p>
      <h1 id="members-title">Members</h1>
      <p className="muted">
        {total} {total === 1 ? "person" : "people"} known to this app: everyone who has signed in here, and everyone
        Kinde has told it about (webhooks, <code>users:sync</code>).
      </p>
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Members, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Added</th>
            </tr>
          </thead>
          <tbody>
            {members.map((member) => (
              <tr key={member.id}>
                <td>
                  <span className="member-name">
                    <Avatar person={member} />
                    {displayName(member)}
                  </span>
                </td>
                <td>{member.email ?? "—"}</td>
                <td>
                  <time dateTime={member.createdAt}>{dateFormat.format(new Date(member.createdAt))}</time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav className="pagination" aria-label="Pages">
        {page > 1 ? <Link to={`?page=${page - 1}`}>← Newer</Link> : <span />}
        <span>
          Page {Math.min(page, pages)} of {pages}
        </span>
        {page < pages ? <Link to={`?page=${page + 1}`}>Older →</Link> : <span />}
      </nav>
    </section>
  );
}

export function ErrorBoundary() {
  const error = useRouteError();
  if (!isRouteErrorResponse(error) || error.status !== 403) throw error;
  return (
    <section className="card narrow" aria-labelledby="forbidden-title">
      <p className="eyebrow">Error 403</p>
      <h1 id="forbidden-title">Members only for admins</h1>
      <p>
        This page lists everyone this app knows of, so it needs the <code>{REQUIRED_PERMISSION}</code> permission in
        Kinde. Your account does not have it.
      </p>
      <p className="muted">Ask an admin to give you a role with that permission, then sign in again.</p>
      <p>
        <Link className="button" to="/dashboard">
          Back to your dashboard
        </Link>
      </p>
    </section>
  );
}

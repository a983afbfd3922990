import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Avatar, displayName } from "~/components/avatar";
import { requireUser } from "~/lib/auth.server";

export const meta: MetaFunction = () => [{ title: "Dashboard · Remix Kinde Stack" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const { user, headers } = await requireUser(request);
  // Only what the page shows: the row straight from the database.
  const profile = {
    firstName: user.firstName,
    lastName: user.lastName,
    email: user.email,
    picture: user.picture,
    createdAt: user.createdAt.toISOString(),
    lastSignInAt: user.lastSignInAt.toISOString(),
  };
  return data({ profile }, { headers: withNoStore(headers) });
}

/** Personal pages must not be kept by shared caches or the back/forward cache of a shared computer. */
function withNoStore(headers: Headers): Headers {
  const result = new Headers(headers);
  result.set("Cache-Control", "private, no-store");
  return result;
}

const dateFormat = new Intl.DateTimeFormat("en", { dateStyle: "long", timeZone: "UTC" });
const dateTimeFormat = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

export default function Dashboard() {
  const { profile } = useLoaderData<typeof loader>();
  return (
    <div className="stack">
      <section className="card profile" aria-labelledby="profile-title">
        <Avatar person={profile} size="large" />
        <div>
          <p className="eyebrow">Your stored profile</p>
          <h1 id="profile-title">{displayName(profile)}</h1>
          <dl className="facts">
            <div>
              <dt>First name</dt>
              <dd data-testid="first-name">{profile.firstName ?? "Not set"}</dd>
            </div>
            <div>
              <dt>Last name</dt>
              <dd data-testid="last-name">{profile.lastName ?? "Not set"}</dd>
            </div>
            <div>
              <dt>Email</dt>
              <dd data-testid="email">{profile.email ?? "No email on file"}</dd>
            </div>
            <div>
              <dt>Member since</dt>
              <dd>
                <time dateTime={profile.createdAt}>{dateFormat.format(new Date(profile.createdAt))}</time>
              </dd>
            </div>
            <div>
              <dt>Last sign-in</dt>
              <dd>
                <time dateTime={profile.lastSignInAt}>{dateTimeFormat.format(new Date(profile.lastSignInAt))} UTC</time>
              </dd>
            </div>
          </dl>
        </div>
      </section>
    </div>
  );
}

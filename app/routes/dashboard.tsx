import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data, redirect } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { Avatar, displayName } from "~/components/avatar";
import { KindeClaimsCard } from "~/components/kinde-claims-card";
import { ProfileForm } from "~/components/profile-form";
import { requireUser } from "~/lib/auth/session.server";
import { setFlash } from "~/lib/http/flash.server";
import { privatePage, privatePageHeaders, readForm } from "~/lib/http/responses.server";
import { parseProfile } from "~/lib/forms";
import { resetUserNameToKinde, updateUserName } from "~/models/user.server";

export const headers = privatePageHeaders;

export const meta: MetaFunction = () => [{ title: "Dashboard · Remix Kinde Stack" }];

export async function loader(args: LoaderFunctionArgs) {
  const { user, claims, headers } = await requireUser(args);
  const profile = {
    firstName: user.firstName,
    lastName: user.lastName,
    email: user.email,
    picture: user.picture,
    createdAt: user.createdAt.toISOString(),
    lastSignInAt: user.lastSignInAt?.toISOString() ?? null,
    nameEditedHere: user.nameEditedAt !== null,
  };
  return data({ profile, claims }, { headers: privatePage(headers) });
}

export async function action(args: ActionFunctionArgs) {
  const { kindeUser, headers } = await requireUser(args);
  const form = await readForm(args.request);
  const intent = form.get("intent");

  if (intent === "update-profile") {
    const parsed = parseProfile(form);
    if (!parsed.ok) {
      return data({ errors: parsed.errors, values: parsed.values }, { status: 400, headers });
    }
    await updateUserName(kindeUser.id, parsed.data);
    headers.append("Set-Cookie", await setFlash({ kind: "success", message: "Profile saved." }));
    return redirect("/dashboard", { headers });
  }
  if (intent === "reset-name") {
    await resetUserNameToKinde(kindeUser.id, kindeUser);
    headers.append("Set-Cookie", await setFlash({ kind: "success", message: "Your name now follows Kinde again." }));
    return redirect("/dashboard", { headers });
  }
  throw new Response("Unknown form action", { status: 400 });
}

const dateFormat = new Intl.DateTimeFormat("en", { dateStyle: "long", timeZone: "UTC" });
const dateTimeFormat = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

export default function Dashboard() {
  const { profile, claims } = useLoaderData<typeof loader>();
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
              <dd data-testid="last-sign-in">
                {profile.lastSignInAt ? (
                  <time dateTime={profile.lastSignInAt}>
                    {dateTimeFormat.format(new Date(profile.lastSignInAt))} UTC
                  </time>
                ) : (
                  "Not yet"
                )}
              </dd>
            </div>
          </dl>
        </div>
      </section>

      <div className="grid-2">
        <ProfileForm profile={profile} />
        <KindeClaimsCard claims={claims} />
      </div>

      <section className="card danger-zone" aria-labelledby="delete-title">
        <h2 id="delete-title">Delete my account</h2>
        <p className="muted">
          Removes your profile from this app's database and signs you out. Your Kinde identity is not deleted.
        </p>
        <Link to="/account/delete" className="button button-quiet">
          Delete my account…
        </Link>
      </section>
    </div>
  );
}

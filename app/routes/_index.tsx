import type { MetaFunction } from "@remix-run/node";
import { CreateOrganizationForm } from "~/components/create-organization-form";
import { AuthLinks } from "~/components/site-header";

export const meta: MetaFunction = () => [
  { title: "Remix Kinde Stack" },
  { name: "description", content: "Sign up with Kinde; your profile lives in the app's own database." },
];

// Public and static: no loader, so no session check and no database read.
export default function Index() {
  return (
    <section className="hero" aria-labelledby="hero-title">
      <p className="eyebrow">Remix · Kinde · Prisma</p>
      <h1 id="hero-title">Sign up in seconds. Keep your profile in your own database.</h1>
      <p className="lead">
        Kinde handles sign-up and sign-in. When you arrive, the app stores your profile with Prisma, and your dashboard
        shows exactly what it stored.
      </p>
      <div className="actions">
        <AuthLinks order={["register", "login"]} large />
      </div>
      <section className="card create-organization" aria-labelledby="create-org-title">
        <h2 id="create-org-title">Starting a team?</h2>
        <p className="muted">Sign up and create your organization in one step; invite the others at Kinde.</p>
        <CreateOrganizationForm />
      </section>
      <ol className="flow" aria-label="How it works">
        <li>
          <strong>Sign up with Kinde</strong>
          <span>Email and password on Kinde's page, or the local Kinde server in development.</span>
        </li>
        <li>
          <strong>Stored by the app</strong>
          <span>
            <code>/auth/success</code> upserts your row through Prisma.
          </span>
        </li>
        <li>
          <strong>Your dashboard</strong>
          <span>Reads that row from the database and shows it.</span>
        </li>
      </ol>
    </section>
  );
}

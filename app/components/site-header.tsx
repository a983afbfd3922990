import { Form, Link } from "@remix-run/react";
import { Avatar, displayName, type Person } from "./avatar";
import { OrganizationSwitcher, type SwitcherOrganizations } from "./organization-switcher";

export function SiteHeader({
  viewer,
  organizations,
}: {
  viewer: Person | null;
  organizations: SwitcherOrganizations | null;
}) {
  return (
    <header className="site-header">
      <Link to="/" className="brand">
        <span className="brand-mark" aria-hidden="true">
          ◆
        </span>
        Remix Kinde Stack
      </Link>
      <nav aria-label="Account">
        {viewer ? (
          <div className="header-account">
            {organizations ? <OrganizationSwitcher organizations={organizations} /> : null}
            <Link to="/projects">Projects</Link>
            <Link to="/dashboard" className="header-user">
              <Avatar person={viewer} />
              <span className="header-name">{displayName(viewer)}</span>
            </Link>
            {/* A POST, so no link or image on another site can sign anyone out. */}
            <Form method="post" action="/kinde-auth/logout" reloadDocument>
              <button type="submit" className="button button-quiet">
                Sign out
              </button>
            </Form>
          </div>
        ) : (
          <div className="header-account">
            <AuthLinks order={["login", "register"]} />
          </div>
        )}
      </nav>
    </header>
  );
}

/** Links to the Kinde SDK's sign-in and sign-up routes; signing up is the prominent one. */
export function AuthLinks({ order, large = false }: { order: ("login" | "register")[]; large?: boolean }) {
  return order.map((route) => (
    <a
      key={route}
      href={`/kinde-auth/${route}`}
      className={`button${large ? " button-large" : ""}${route === "login" ? " button-quiet" : ""}`}
    >
      {route === "login" ? "Sign in" : "Sign up"}
    </a>
  ));
}

import { Form, Link } from "@remix-run/react";
import { Avatar, displayName, type Person } from "./avatar";

export function SiteHeader({ viewer }: { viewer: Person | null }) {
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
            <a href="/kinde-auth/login" className="button button-quiet">
              Sign in
            </a>
            <a href="/kinde-auth/register" className="button">
              Sign up
            </a>
          </div>
        )}
      </nav>
    </header>
  );
}

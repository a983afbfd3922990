import { Link, useLocation } from "@remix-run/react";

export interface SwitcherOrganizations {
  /** The access token's org_code: the organization this session is signed in to. */
  current: string | null;
  list: { code: string; name: string | null }[];
}

// Switching is signing in again with the other org_code: with Kinde's session alive, one redirect.
const switchUrl = (code: string) =>
  `/kinde-auth/login?${new URLSearchParams({ org_code: code, returnTo: "/projects" })}`;

/** A <details> menu: opens and closes without JavaScript. */
export function OrganizationSwitcher({ organizations }: { organizations: SwitcherOrganizations }) {
  const current = organizations.list.find(({ code }) => code === organizations.current);
  // A client-side navigation keeps the element, open over the next page: a new one per location starts closed.
  const { key } = useLocation();
  return (
    <details className="org-switcher" key={key}>
      <summary>
        <span className="visually-hidden">Organization: </span>
        {current ? (current.name ?? "Unnamed organization") : "No organization"}
      </summary>
      <ul aria-label="Your organizations">
        {organizations.list.map(({ code, name }) => (
          <li key={code}>
            {code === organizations.current ? (
              <Link to="/projects" aria-current="true">
                {name ?? "Unnamed organization"} <span className="muted">(current)</span>
              </Link>
            ) : (
              <a href={switchUrl(code)}>{name ?? "Unnamed organization"}</a>
            )}
          </li>
        ))}
        <li>
          <Link to="/organizations/new">Create an organization…</Link>
        </li>
      </ul>
    </details>
  );
}

import { Link } from "@remix-run/react";
import type { KindeClaims } from "~/lib/auth/claims";

/** What the Kinde session carries: not stored by the app, read from the tokens per request. */
export function KindeClaimsCard({ claims }: { claims: KindeClaims }) {
  return (
    <section className="card" aria-labelledby="kinde-title">
      <h2 id="kinde-title">What Kinde says</h2>
      <dl className="facts">
        <div>
          <dt>Current organization</dt>
          <dd data-testid="org-code">
            {claims.orgCode ? `${claims.orgName ? `${claims.orgName} ` : ""}(${claims.orgCode})` : "None"}
          </dd>
        </div>
        <div>
          <dt>Your organizations</dt>
          <dd>
            <List
              items={claims.organizations.map(({ code, name }) => (name ? `${name} (${code})` : code))}
              empty="None"
              testId="org-codes"
            />
          </dd>
        </div>
        <div>
          <dt>Permissions</dt>
          <dd>
            <List items={claims.permissions} empty="No permissions" testId="permissions" />
          </dd>
        </div>
        <div>
          <dt>Feature flags</dt>
          <dd>
            <List
              items={claims.featureFlags.map((flag) => `${flag.code} = ${String(flag.value)}`)}
              empty="No flags"
              testId="feature-flags"
            />
          </dd>
        </div>
      </dl>
      {claims.permissions.includes("read:users") ? (
        <p>
          <Link to="/members">See everyone this app knows of →</Link>
        </p>
      ) : null}
    </section>
  );
}

function List({ items, empty, testId }: { items: string[]; empty: string; testId: string }) {
  if (items.length === 0) return <span data-testid={testId}>{empty}</span>;
  return (
    <ul className="chips" data-testid={testId}>
      {items.map((item) => (
        <li key={item}>{item}</li>
      ))}
    </ul>
  );
}

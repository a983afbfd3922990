import type { LinksFunction, LoaderFunctionArgs } from "@remix-run/node";
import { data } from "@remix-run/node";
import {
  isRouteErrorResponse,
  Links,
  Meta,
  Outlet,
  Scripts,
  ScrollRestoration,
  useRouteError,
  useRouteLoaderData,
} from "@remix-run/react";
import type { ReactNode } from "react";
import { SiteHeader } from "~/components/site-header";
import type { SwitcherOrganizations } from "~/components/organization-switcher";
import type { KindeClaims } from "~/lib/auth/claims";
import { getOptionalUser } from "~/lib/auth/session.server";
import { takeFlash } from "~/lib/http/flash.server";
import { useNonce } from "~/lib/http/nonce";
import { getOrganizationNames } from "~/models/organization.server";
import stylesheet from "~/styles/app.css?url";

export const links: LinksFunction = () => [
  { rel: "stylesheet", href: stylesheet },
  { rel: "icon", href: "/favicon.svg", type: "image/svg+xml" },
];

// The switcher's names come from the ID token; the database only fills in names a token leaves out.
async function organizationsOf(claims: KindeClaims | null): Promise<SwitcherOrganizations | null> {
  if (!claims) return null;
  const unnamed = claims.organizations.filter((organization) => !organization.name).map(({ code }) => code);
  // Public pages keep working while the database is unavailable: the menu then shows "Unnamed organization".
  const stored =
    unnamed.length > 0
      ? await getOrganizationNames(unnamed).catch(() => new Map<string, string>())
      : new Map<string, string>();
  return {
    current: claims.orgCode,
    list: claims.organizations.map(({ code, name }) => ({ code, name: name ?? stored.get(code) ?? null })),
  };
}

export async function loader(args: LoaderFunctionArgs) {
  const [{ user, claims, headers }, { flash, setCookie }] = await Promise.all([
    getOptionalUser(args),
    takeFlash(args.request),
  ]);
  if (setCookie) headers.append("Set-Cookie", setCookie);
  const viewer = user
    ? { firstName: user.firstName, lastName: user.lastName, email: user.email, picture: user.picture }
    : null;
  return data({ viewer, organizations: await organizationsOf(claims), flash }, { headers });
}

export function Layout({ children }: { children: ReactNode }) {
  const nonce = useNonce();
  const rootData = useRouteLoaderData<typeof loader>("root");
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <SiteHeader viewer={rootData?.viewer ?? null} organizations={rootData?.organizations ?? null} />
        <main id="main" className="page">
          {rootData?.flash ? (
            <p
              className={`notice notice-${rootData.flash.kind === "success" ? "success" : "info"} flash`}
              role="status"
            >
              {rootData.flash.message}
            </p>
          ) : null}
          {children}
        </main>
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  );
}

export default function App() {
  return <Outlet />;
}

export function ErrorBoundary() {
  const error = useRouteError();
  const status = isRouteErrorResponse(error) ? error.status : 500;
  const { title, message } = describeError(status);
  return (
    <section className="card narrow" aria-labelledby="error-title">
      <title>{`${title} · Remix Kinde Stack`}</title>
      <p className="eyebrow">Error {status}</p>
      <h1 id="error-title">{title}</h1>
      <p>{message}</p>
      <p>
        <a className="button" href="/">
          Go to the home page
        </a>
      </p>
    </section>
  );
}

const ERROR_PAGES: Record<number, { title: string; message: string }> = {
  403: { title: "Not allowed", message: "Your account does not have permission to see this page." },
  404: {
    title: "Page not found",
    message: "There is nothing at this address. Check the link, or start again from the home page.",
  },
  405: { title: "Not allowed", message: "This page does not accept that kind of request." },
  503: {
    title: "Temporarily unavailable",
    message: "The service is having trouble reaching its database. Please try again in a moment.",
  },
};

function describeError(status: number): { title: string; message: string } {
  if (ERROR_PAGES[status]) return ERROR_PAGES[status];
  return status >= 400 && status < 500
    ? {
        title: "Something is wrong with the request",
        message: "The page could not handle that request. Please go back and try again.",
      }
    : {
        title: "Something went wrong",
        message: "An unexpected error happened on our side. Please try again in a moment.",
      };
}

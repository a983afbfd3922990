/**
 * KINDE_POST_LOGIN_REDIRECT_URL: the first stop after every sign-in. Stores (or refreshes)
 * the person's row from what Kinde says, then sends them on.
 */
import type { LoaderFunctionArgs } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { getKindeAuth, loginUrl } from "~/lib/auth.server";
import { safeRedirect } from "~/lib/safe-redirect";
import { upsertUserFromKinde } from "~/models/user.server";

export async function loader(args: LoaderFunctionArgs) {
  const { request } = args;
  const returnTo = safeRedirect(new URL(request.url).searchParams.get("returnTo"));
  const { kindeUser, headers } = await getKindeAuth(args);
  // No valid Kinde session (cookie missing, expired, forged): sign in first, then come back.
  if (!kindeUser) throw redirect(loginUrl(returnTo), { headers });
  await upsertUserFromKinde(kindeUser);
  return redirect(returnTo, { headers });
}

// The loader always redirects or throws. Having a component makes this a page rather than a
// resource route, so a failure (database unavailable: 503) renders the app's error page.
export default function AuthSuccess() {
  return null;
}

/**
 * KINDE_POST_LOGIN_REDIRECT_URL: the first stop after every sign-in. Stores (or refreshes)
 * the person's row from what Kinde says, then sends them on.
 */
import type { LoaderFunctionArgs } from "@remix-run/node";
import { completeSignIn } from "~/lib/auth/session.server";
import { safeRedirect } from "~/lib/auth/safe-redirect";

export async function loader(args: LoaderFunctionArgs) {
  return completeSignIn(args, safeRedirect(new URL(args.request.url).searchParams.get("returnTo")));
}

// The loader always redirects or throws. Having a component makes this a page rather than a
// resource route, so a failure (database unavailable: 503) renders the app's error page.
export default function AuthSuccess() {
  return null;
}

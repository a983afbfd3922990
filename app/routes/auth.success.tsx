// KINDE_POST_LOGIN_REDIRECT_URL: every sign-in stores the person's row here, then goes on.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { completeSignIn } from "~/lib/auth/session.server";
import { safeRedirect } from "~/lib/auth/safe-redirect";

export async function loader(args: LoaderFunctionArgs) {
  return completeSignIn(args, safeRedirect(new URL(args.request.url).searchParams.get("returnTo")));
}

// A component makes this a page, not a resource route, so a failure (503) renders the error page.
export default function AuthSuccess() {
  return null;
}

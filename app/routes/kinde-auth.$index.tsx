// /kinde-auth/login | register | callback | health (app/lib/auth/kinde-routes.server.ts); sign-out has its own route.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { data } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { AuthFlowError, finishAuth, health, startAuth, type AuthProblem } from "~/lib/auth/kinde-routes.server";

export const meta: MetaFunction = () => [{ title: "Sign-in problem · Remix Kinde Stack" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  switch (params.index) {
    case "login":
    case "register":
      return startAuth(request, params.index);
    case "callback":
      try {
        return await finishAuth(request);
      } catch (error) {
        if (!(error instanceof AuthFlowError)) throw error;
        console.warn(`[auth] sign-in did not complete (${error.problem}): ${error.message}`);
        return data({ problem: error.problem }, { status: statusFor(error.problem) });
      }
    case "health":
      return health(request);
    default:
      throw new Response("Not found", { status: 404 });
  }
}

function statusFor(problem: AuthProblem): number {
  return problem === "unreachable" ? 502 : problem === "cancelled" ? 200 : 400;
}

const problems: Record<AuthProblem, { title: string; message: string }> = {
  cancelled: {
    title: "Sign-in cancelled",
    message: "You left the sign-in page before finishing. Nothing was changed; you can try again whenever you like.",
  },
  expired: {
    title: "That sign-in has expired",
    message:
      "The sign-in could not be matched to this browser: it may have been opened in another tab or browser, used twice, or taken too long. Please start again.",
  },
  rejected: {
    title: "Sign-in could not be completed",
    message: "The identity provider did not accept this sign-in attempt. Please start again.",
  },
  unreachable: {
    title: "Kinde could not be reached",
    message: "The app could not talk to the sign-in service just now. Please try again in a moment.",
  },
};

export default function SignInProblem() {
  // Only the callback's failure branch renders; the other branches redirect or answer JSON.
  const { problem } = useLoaderData<{ problem: AuthProblem }>();
  const { title, message } = problems[problem];
  return (
    <section className="card narrow" aria-labelledby="problem-title">
      <h1 id="problem-title">{title}</h1>
      <p>{message}</p>
      <div className="actions">
        <a className="button" href="/kinde-auth/login">
          Sign in again
        </a>
        <a className="button button-quiet" href="/">
          Home
        </a>
      </div>
    </section>
  );
}

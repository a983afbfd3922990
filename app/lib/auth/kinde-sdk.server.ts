/**
 * The Kinde Remix SDK, imported only after the configuration is loaded.
 *
 * The SDK reads KINDE_* from `process.env` while its module is evaluated. A static import
 * would be hoisted above `env.server.ts` in the production bundle (dependencies stay external
 * and are imported first), so it is imported dynamically, once.
 */
// A type-only import: it is erased, so it does not load the SDK early.
import type * as KindeSdkModule from "@kinde-oss/kinde-remix-sdk";
import { env } from "../config/env.server";

type KindeSdk = typeof KindeSdkModule;

/**
 * The SDK 1.1.4's published types predate its code: `getKindeSession` also returns the
 * Set-Cookie `headers` (refreshed or cleared tokens), and `handleAuth` always answers a
 * Response for the routes used here. These types say what the code does.
 */
export type KindeSession = Awaited<ReturnType<KindeSdk["getKindeSession"]>> & { headers: Headers };
export type KindeAuthRoute = "login" | "register" | "callback" | "logout" | "health";

let sdk: Promise<KindeSdk> | undefined;

function loadSdk(): Promise<KindeSdk> {
  // Touching `env` guarantees .env was loaded and validated before the SDK reads process.env.
  void env.KINDE_ISSUER_URL;
  return (sdk ??= import("@kinde-oss/kinde-remix-sdk"));
}

export async function getKindeSession(request: Request): Promise<KindeSession> {
  const { getKindeSession } = await loadSdk();
  return (await getKindeSession(request)) as KindeSession;
}

export async function handleAuth(request: Request, route: KindeAuthRoute): Promise<Response> {
  const { handleAuth } = await loadSdk();
  const response = await handleAuth(request, route);
  if (!response) throw new Error(`Kinde SDK gave no response for ${route}`);
  return response;
}

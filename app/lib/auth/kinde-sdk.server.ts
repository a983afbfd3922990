// The Kinde SDK, imported dynamically: it reads process.env when evaluated, and a static import
// would be hoisted above env.server.ts in the production bundle (docs/decisions/0004-configuration-loading.md).
import type * as KindeSdkModule from "@kinde-oss/kinde-remix-sdk";
import { env } from "../config/env.server";

type KindeSdk = typeof KindeSdkModule;

// SDK 1.1.4's published types predate its code: getKindeSession also returns Set-Cookie `headers`.
export type KindeSession = Awaited<ReturnType<KindeSdk["getKindeSession"]>> & { headers: Headers };
export type KindeAuthRoute = "login" | "register" | "callback" | "logout" | "health";

let sdk: Promise<KindeSdk> | undefined;

function loadSdk(): Promise<KindeSdk> {
  void env.KINDE_ISSUER_URL; // loads and validates .env before the SDK reads it
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

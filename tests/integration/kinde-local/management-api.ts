/** The Management API as an M2M client calls it: a client_credentials token, then JSON requests. */
import { expect } from "vitest";
import type { KindeLocalServer } from "../../../kinde-local/server.ts";
import { CLIENT_ID, CLIENT_SECRET, tokenRequest } from "./harness.ts";

export async function managementToken(
  server: KindeLocalServer,
  options: { clientId?: string; clientSecret?: string; scope?: string } = {},
): Promise<string> {
  const { status, body } = await tokenRequest(server, {
    grant_type: "client_credentials",
    client_id: options.clientId ?? CLIENT_ID,
    client_secret: options.clientSecret ?? CLIENT_SECRET,
    audience: `${server.url}/api`,
    ...(options.scope === undefined ? {} : { scope: options.scope }),
  });
  expect(body.error).toBeUndefined();
  expect(status).toBe(200);
  return String(body.access_token);
}

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export async function api<T = Record<string, unknown>>(
  server: KindeLocalServer,
  token: string,
  method: string,
  path: string,
  json?: unknown,
): Promise<ApiAnswer<T>> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(json === undefined ? {} : { "Content-Type": "application/json" }),
    },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as T };
}

/** POST /api/v1/user with Kinde's body; returns the new user's id. */
export async function createUser(
  server: KindeLocalServer,
  token: string,
  user: { email: string; givenName?: string; familyName?: string },
): Promise<string> {
  const answer = await api<{ id: string; created: boolean }>(server, token, "POST", "/api/v1/user", {
    profile: { given_name: user.givenName, family_name: user.familyName },
    identities: [{ type: "email", details: { email: user.email } }],
  });
  expect(answer.status).toBe(200);
  return answer.body.id;
}

export function patchUser(server: KindeLocalServer, token: string, id: string, body: Record<string, unknown>) {
  return api(server, token, "PATCH", `/api/v1/user?id=${id}`, body);
}

/** The Management API as an M2M client calls it: a client_credentials token, then JSON requests. */
import { beforeAll, expect } from "vitest";
import { CLIENT_ID, CLIENT_SECRET, type TestServer } from "./harness.ts";

export async function managementToken(
  server: TestServer,
  options: { clientId?: string; clientSecret?: string; scope?: string } = {},
): Promise<string> {
  const { status, body } = await server.tokenRequest({
    grant_type: "client_credentials",
    client_id: options.clientId ?? CLIENT_ID,
    client_secret: options.clientSecret ?? CLIENT_SECRET,
    audience: `${server.url}/api`,
    ...(options.scope === undefined ? {} : { scope: options.scope }),
  });
  expect(body.error).toBeUndefined();
  expect(status).toBe(200);
  expect(body).not.toHaveProperty("id_token");
  expect(body).not.toHaveProperty("refresh_token");
  return String(body.access_token);
}

type NewUser = { email: string; givenName?: string; familyName?: string };

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export async function api<T = Record<string, unknown>>(
  server: TestServer,
  token: string,
  method: string,
  path: string,
  json?: unknown,
): Promise<ApiAnswer<T>> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(token === "" ? {} : { Authorization: `Bearer ${token}` }),
      ...(json === undefined ? {} : { "Content-Type": "application/json" }),
    },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as T };
}

/** POST /api/v1/user with Kinde's body; returns the new user's id. */
export async function createUser(server: TestServer, token: string, user: NewUser): Promise<string> {
  const answer = await api<{ id: string; created: boolean }>(server, token, "POST", "/api/v1/user", {
    profile: { given_name: user.givenName, family_name: user.familyName },
    identities: [{ type: "email", details: { email: user.email } }],
  });
  expect(answer.status).toBe(200);
  return answer.body.id;
}

/** A Management API client for the file's server, with a token fetched before its tests. */
export function useManagementApi(server: TestServer) {
  let token = "";
  beforeAll(async () => {
    token = await managementToken(server);
  });
  return {
    get token() {
      return token;
    },
    api: <T = Record<string, unknown>>(method: string, path: string, json?: unknown) =>
      api<T>(server, token, method, path, json),
    createUser: (user: NewUser) => createUser(server, token, user),
    patchUser: (id: string, body: Record<string, unknown>) =>
      api(server, token, "PATCH", `/api/v1/user?id=${id}`, body),
  };
}

/**
 * Webhooks like Kinde's: signed RS256 JWTs posted as application/jwt with a webhook-id that
 * stays the same across retries; retried until a 200; kept in the store across restarts.
 * A receiver stands in for the app and verifies each delivery with the server's JWKS.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import {
  callbackParams,
  configWith,
  get,
  newCredentials,
  postForm,
  type ServerOptions,
  startServerForTest,
  useServer,
} from "./harness.ts";
import { api, createUser, managementToken, useManagementApi } from "./management-api.ts";
import { LogWatcher, verifyWebhook, WebhookReceiver, type ReceivedWebhook } from "./webhook-receiver.ts";

const FAST_RETRIES = { retryDelaysMs: [30, 60], giveUpAfterMs: 60_000 };

let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await WebhookReceiver.start();
});
afterAll(() => receiver.stop());
const server = useServer(() => ({ webhooks: { endpoints: [receiver.url()], ...FAST_RETRIES } }));
const admin = useManagementApi(server);

/** The delivery's payload after checking it as an app would, plus the transport details. */
async function verified(delivery: ReceivedWebhook) {
  const { payload, header } = await verifyWebhook(server.url, delivery.body);
  return { payload: payload as Record<string, unknown>, header, delivery };
}

function userOf(payload: Record<string, unknown>): Record<string, unknown> {
  return (payload.data as { user?: Record<string, unknown> } | undefined)?.user ?? {};
}

/** The first delivery about this user after a position (deliveries run in parallel, so filter by user). */
function eventFor(userId: string, after: number, type?: string): Promise<ReceivedWebhook> {
  return receiver.waitFor(
    (request) =>
      request.index > after &&
      userOf(request.payload).id === userId &&
      (type === undefined || request.payload.type === type),
  );
}

/** A server of the test's own, posting to a receiver of its own; both stopped when the test ends. */
async function ownServer(webhooks: Partial<NonNullable<ServerOptions["webhooks"]>> = {}, path?: string) {
  const app = await WebhookReceiver.start();
  onTestFinished(() => app.stop());
  const logs = new LogWatcher();
  const endpoints = [app.url(path)];
  const own = await startServerForTest({ webhooks: { endpoints, ...FAST_RETRIES, ...webhooks }, log: logs.log });
  return { app, logs, own, token: await managementToken(own) };
}

async function storedDeliveries(dataDir: string): Promise<Record<string, { attempts: number; lastStatus: string }>> {
  const store = JSON.parse(await readFile(join(dataDir, "store.json"), "utf8")) as {
    webhookDeliveries: Record<string, { attempts: number; lastStatus: string }>;
  };
  return store.webhookDeliveries;
}

describe("what a delivery looks like", () => {
  it("is an RS256 JWT signed with the published key, posted as application/jwt, shaped like Kinde's", async () => {
    const mark = receiver.received.length;
    const credentials = newCredentials({ firstName: "Ada", lastName: "" });
    const { id: sub } = await server.signUpWithTokens(credentials);
    const { payload, header, delivery } = await verified(await eventFor(sub, mark, "user.created"));

    const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(header).toEqual({ alg: "RS256", kid: jwks.keys[0]?.kid, typ: "JWT" });
    expect(delivery.path).toBe("/webhooks/kinde");
    expect(delivery.headers["content-type"]).toBe("application/jwt");
    expect(delivery.headers["webhook-id"]).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(Object.keys(payload).sort()).toEqual(["data", "event_id", "event_timestamp", "source", "timestamp", "type"]);
    expect(payload).toMatchObject({
      event_id: expect.stringMatching(/^event_[0-9a-f]{32}$/) as string,
      source: "user",
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as string,
      type: "user.created",
    });
    expect(payload.event_timestamp).toBe(payload.timestamp);
    expect(userOf(payload)).toEqual({
      email: credentials.email,
      first_name: "Ada",
      id: sub,
      is_password_reset_requested: false,
      is_suspended: false,
      last_name: "",
      organizations: [
        {
          code: "org_0123456789a",
          permissions: [
            { id: expect.stringMatching(/^perm_[0-9a-f]{16}$/) as string, key: "read:profile" },
            { id: expect.stringMatching(/^perm_[0-9a-f]{16}$/) as string, key: "update:profile" },
            { id: expect.stringMatching(/^perm_[0-9a-f]{16}$/) as string, key: "create:projects" },
          ],
          roles: ["member"],
        },
      ],
      phone: null,
      username: null,
    });
  });

  it("fails verification once its signature is altered (the check is real)", async () => {
    const delivery = await receiver.event("user.created");
    const [header, body] = delivery.body.split(".");
    const tampered = `${header}.${body}.${"A".repeat(342)}`;
    await expect(verifyWebhook(server.url, tampered)).rejects.toThrow();
  });
});

describe("the events", () => {
  it("user.authenticated follows sign-up and every password sign-in, with the user id and IP address", async () => {
    const mark = receiver.received.length;
    const credentials = newCredentials();
    const { id: sub } = await server.signUpWithTokens(credentials);
    const afterSignUp = await verified(await eventFor(sub, mark, "user.authenticated"));
    expect(afterSignUp.payload).toMatchObject({
      source: "user",
      data: { user: { id: sub }, ip_address: "127.0.0.1" },
    });
    expect(Object.keys(afterSignUp.payload.data as object).sort()).toEqual(["ip_address", "user"]);

    const { response } = await server.signIn(credentials);
    expect(callbackParams(response).get("code")).toBeTruthy();
    const again = await verified(await eventFor(sub, afterSignUp.delivery.index, "user.authenticated"));
    expect(again.payload.event_id).not.toBe(afterSignUp.payload.event_id);
  });

  it("single sign-on sends no user.authenticated; an account-page name change sends user.updated", async () => {
    const credentials = newCredentials({ firstName: "Grace", lastName: "Hopper" });
    const { id: sub, jar } = await server.signUpWithTokens(credentials);
    const created = await eventFor(sub, 0, "user.created");
    const authenticated = await eventFor(sub, 0, "user.authenticated");
    const mark = Math.max(created.index, authenticated.index);
    expect(callbackParams(await get(server.authorizeUrl(), jar)).get("code")).toBeTruthy();

    const page = await get(`${server.url}/account`, jar);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? "";
    await postForm(`${server.url}/account`, { csrf, p_first_name: "Amazing", p_last_name: "Grace" }, jar);
    // The next event after the SSO is the update: the SSO sent nothing.
    const { payload } = await verified(await eventFor(sub, mark));
    expect(payload).toMatchObject({ type: "user.updated", source: "user" });
    expect(userOf(payload)).toMatchObject({ email: credentials.email, first_name: "Amazing", last_name: "Grace" });
  });

  it("the Management API sends user.created, user.updated (suspension included) and user.deleted", async () => {
    const mark = receiver.received.length;
    const email = newCredentials().email;
    const id = await admin.createUser({ email, givenName: "Api" });
    const created = await verified(await eventFor(id, mark, "user.created"));
    expect(created.payload).toMatchObject({ source: "api", data: { user: { id, email, first_name: "Api" } } });

    await admin.patchUser(id, { family_name: "Made" });
    const renamed = await verified(await eventFor(id, created.delivery.index));
    expect(renamed.payload).toMatchObject({
      source: "api",
      data: { user: { id, last_name: "Made", is_suspended: false } },
    });

    await admin.patchUser(id, { is_suspended: true });
    const suspended = await verified(await eventFor(id, renamed.delivery.index));
    expect(userOf(suspended.payload)).toMatchObject({ id, is_suspended: true });

    // A PATCH that changes nothing sends nothing: the next event is the un-suspension.
    await admin.patchUser(id, { is_suspended: true });
    await admin.patchUser(id, { is_suspended: false, is_password_reset_requested: true });
    const restored = await verified(await eventFor(id, suspended.delivery.index));
    expect(userOf(restored.payload)).toMatchObject({ is_suspended: false, is_password_reset_requested: true });

    await admin.api("DELETE", `/api/v1/user?id=${id}`);
    const deleted = await verified(await eventFor(id, restored.delivery.index));
    expect(deleted.payload).toMatchObject({ source: "api", type: "user.deleted" });
    expect(deleted.payload.data).toEqual({ user: { id } });
  });

  it("the request that causes an event does not wait for its delivery", async () => {
    const mark = receiver.received.length;
    receiver.answer = () => "hold";
    try {
      const id = await admin.createUser({ email: newCredentials().email });
      // The receiver is holding the user.created delivery open, yet the PATCH answers.
      const held = await eventFor(id, mark, "user.created");
      expect(held.answer).toBe("held");
      const patched = await admin.patchUser(id, { given_name: "Quick" });
      expect(patched.status).toBe(200);
    } finally {
      receiver.answer = () => 200;
      receiver.release(200);
    }
  });
});

describe("retries", () => {
  it("retry a failing endpoint with the same webhook-id and body until it answers 200 (only 200 counts)", async () => {
    const { app: failing, logs, own, token } = await ownServer({}, "/hook?secret=s3cr3t");
    const statuses = [503, 204, 200];
    failing.answer = (request) => statuses[request.index - 1] ?? 200;
    await createUser(own, token, { email: newCredentials().email });
    const third = await failing.waitFor((request) => request.index === 3);
    const attempts = failing.received.slice(0, 3);
    expect(new Set(attempts.map((request) => request.headers["webhook-id"])).size).toBe(1);
    expect(new Set(attempts.map((request) => request.body)).size).toBe(1);
    const id = String(third.headers["webhook-id"]);
    const eventId = String(third.payload.event_id);
    const delivered = await logs.waitFor(new RegExp(`${id} .* 200 \\(attempt 3, delivered\\)$`));
    const lines = logs.lines.filter((line) => line.includes(id));
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^webhook user.created ${eventId} ${id} -> http://127.0.0.1:\\d+/hook 503 \\(attempt 1, next in 30ms\\)$`,
        ),
      ),
      expect.stringMatching(/ 204 \(attempt 2, next in 60ms\)$/),
      delivered,
    ]);
    // Never the token, nor the endpoint's query.
    expect(logs.lines.join("\n")).not.toContain(third.body.split(".")[1] ?? "-");
    expect(logs.lines.join("\n")).not.toContain("s3cr3t");
  });

  it("deliver once the app is back after being down", async () => {
    const { app, logs, own, token } = await ownServer();
    await app.stop();
    const id = await createUser(own, token, { email: newCredentials().email });
    await logs.waitFor(/^webhook user.created .* ECONNREFUSED \(attempt 2,/);
    await app.reopen();
    const delivery = await app.event("user.created");
    expect(userOf((await verifyWebhook(own.url, delivery.body)).payload as Record<string, unknown>).id).toBe(id);
    await logs.waitFor(/^webhook user.created .* 200 \(attempt \d+, delivered\)$/);
  });

  it("webhooksSettled() waits for the deliveries pending when called, through retries, and for no later one", async () => {
    const { app, own, token } = await ownServer();
    await own.webhooksSettled(); // nothing pending: at once
    let late = "";
    app.answer = (request) => (userOf(request.payload).id === late ? 503 : "hold");
    const first = await createUser(own, token, { email: newCredentials().email });
    await app.waitFor((request) => userOf(request.payload).id === first);
    let settled = false;
    const settling = own.webhooksSettled().then(() => (settled = true));
    late = await createUser(own, token, { email: newCredentials().email });
    await app.waitFor((request) => userOf(request.payload).id === late && request.answer === 503);
    // The first delivery fails once, then gets its 200; the later one keeps failing.
    app.answer = (request) => (userOf(request.payload).id === late ? 503 : 200);
    app.release(503);
    expect(settled).toBe(false);
    await settling;
    expect(app.received.filter((request) => userOf(request.payload).id === first).map((r) => r.answer)).toEqual([
      503, 200,
    ]);
    expect(Object.values(await storedDeliveries(own.dataDir)).map((pending) => pending.lastStatus)).toEqual(["503"]);

    // Closing the server before a delivery settles rejects the wait.
    const refused = expect(own.webhooksSettled()).rejects.toThrow("the server stopped before its webhooks settled");
    await own.close();
    await refused;
  });

  it("give up after the configured time, and say so", async () => {
    const { app: broken, logs, own, token } = await ownServer({ retryDelaysMs: [20], giveUpAfterMs: 150 });
    broken.answer = () => 500;
    await createUser(own, token, { email: newCredentials().email });
    await logs.waitFor(/ 500 \(attempt \d+, giving up\)$/);
    await own.close();
    expect(await storedDeliveries(own.dataDir)).toEqual({});
    expect(broken.received.length).toBeGreaterThanOrEqual(2);
  });
});

describe("persistence and shutdown", () => {
  it("keeps pending deliveries across a restart and sends them when the server is back", async () => {
    // A long wait after the first failure: only the restart can deliver it in time.
    const slow = { retryDelaysMs: [600_000], giveUpAfterMs: 3_600_000 };
    const { app, logs, own: first, token } = await ownServer(slow);
    app.answer = () => 503;
    const id = await createUser(first, token, { email: newCredentials().email });
    const failed = await app.event("user.created");
    await logs.waitFor(/ 503 \(attempt 1, next in 10min\)$/);
    await first.close();
    const pending = await storedDeliveries(first.dataDir);
    expect(Object.keys(pending)).toEqual([failed.headers["webhook-id"]]);
    expect(Object.values(pending)[0]).toMatchObject({ attempts: 1, lastStatus: "503" });

    app.answer = () => 200;
    const webhooks = { endpoints: [app.url()], ...slow };
    const second = await startServerForTest({ dataDir: first.dataDir, webhooks, log: logs.log });
    const delivered = await app.waitFor((request) => request.index > failed.index);
    expect(delivered.headers["webhook-id"]).toBe(failed.headers["webhook-id"]);
    expect(delivered.payload.event_id).toBe(failed.payload.event_id);
    expect(userOf(delivered.payload).id).toBe(id);
    await logs.waitFor(/ 200 \(attempt 2, delivered\)$/);
    await second.close();
    expect(await storedDeliveries(first.dataDir)).toEqual({});
  });

  it("close() abandons an attempt in flight and keeps the delivery pending", async () => {
    const { app, logs, own, token } = await ownServer();
    app.answer = () => "hold";
    await createUser(own, token, { email: newCredentials().email });
    const held = await app.event("user.created");
    await own.close();
    expect(logs.lines.some((line) => line.endsWith("abandoned: the server is stopping (still pending)"))).toBe(true);
    const pending = await storedDeliveries(own.dataDir);
    expect(Object.keys(pending)).toEqual([held.headers["webhook-id"]]);
  });
});

describe("endpoints from the config file", () => {
  it("receive only the event types they list", async () => {
    const everything = await WebhookReceiver.start();
    const deletions = await WebhookReceiver.start();
    onTestFinished(() => everything.stop());
    onTestFinished(() => deletions.stop());
    const configPath = await configWith(server.dataDir, {
      webhooks: [{ url: everything.url() }, { url: deletions.url("/deleted"), events: ["user.deleted"] }],
    });
    const own = await startServerForTest({ configPath });
    const ownToken = await managementToken(own);
    const id = await createUser(own, ownToken, { email: newCredentials().email });
    await api(own, ownToken, "DELETE", `/api/v1/user?id=${id}`);
    await everything.event("user.created");
    await everything.event("user.deleted");
    const deleted = await deletions.event("user.deleted");
    expect(deleted.path).toBe("/deleted");
    expect(everything.received.map((request) => request.payload.type).sort()).toEqual(["user.created", "user.deleted"]);
    expect(deletions.received.map((request) => request.payload.type)).toEqual(["user.deleted"]);
  });
});

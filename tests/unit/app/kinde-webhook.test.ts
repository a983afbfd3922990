/**
 * The webhook handler with keys of the test's own (the HTTP route is covered in
 * tests/integration/webhooks.test.ts), against a real SQLite file.
 */
import { CompactSign, createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from "jose";
import { randomBytes } from "node:crypto";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { prisma } from "~/lib/database/client.server";
import { handleKindeWebhook } from "~/lib/kinde-sync/webhook.server";
import { MAX_WEBHOOK_BYTES, REPLAY_WINDOW_MS } from "~/lib/kinde-sync/webhook-verify.server";
import { getUserByKindeId, upsertUserFromKinde } from "~/models/user.server";

const KID = "test:key";
let privateKey: CryptoKey;
let keys: ReturnType<typeof createLocalJWKSet>;
let publicJwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair("RS256", { extractable: true });
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: "RS256", use: "sig" };
  keys = createLocalJWKSet({ keys: [publicJwk] });
});

beforeEach(async () => {
  await prisma.user.deleteMany();
  await prisma.organization.deleteMany();
  await prisma.deletedKindeOrganization.deleteMany();
  await prisma.deletedKindeIdentity.deleteMany();
  await prisma.kindeWebhookEvent.deleteMany();
});

let counter = 0;
const kindeId = () => `kp_${(++counter).toString(16).padStart(32, "b")}`;
const eventId = () => `event_${randomBytes(16).toString("hex")}`;
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

function event(type: string, user: Record<string, unknown>, timestamp = minutesAgo(1), id = eventId()): JWTPayload {
  return { data: { user }, event_id: id, source: "admin", timestamp, type };
}

function sign(payload: JWTPayload, header: Record<string, unknown> = {}, key: CryptoKey | Uint8Array = privateKey) {
  return new SignJWT(payload).setProtectedHeader({ alg: "RS256", kid: KID, typ: "JWT", ...header }).sign(key);
}

function post(body: BodyInit, contentType = "application/jwt", headers: Record<string, string> = {}): Request {
  return new Request("http://localhost/webhooks/kinde", {
    method: "POST",
    headers: { "Content-Type": contentType, ...headers },
    body,
    duplex: "half",
  } as RequestInit);
}

async function deliver(token: string | Request, now?: () => number) {
  const response = await handleKindeWebhook(typeof token === "string" ? post(token) : token, { keys, now });
  return { status: response.status, body: (await response.json()) as { outcome?: string; error?: string } };
}

const send = async (type: string, user: Record<string, unknown>, timestamp?: string) =>
  deliver(await sign(event(type, user, timestamp)));

async function storedState() {
  return {
    users: await prisma.user.findMany({ orderBy: { id: "asc" } }),
    tombstones: await prisma.deletedKindeIdentity.findMany(),
    events: await prisma.kindeWebhookEvent.findMany(),
  };
}

describe("deliveries that are refused", () => {
  const b64 = (value: object | string) =>
    Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
  const update = (user: Record<string, unknown> = { id: kindeId() }, timestamp?: string, id?: string) =>
    event("user.updated", user, timestamp, id);

  type Forgery = [string, () => Promise<Request | string> | Request | string, number];
  const forgeries: Forgery[] = [
    ["a wrong content type", async () => post(await sign(update()), "text/plain"), 415],
    ["no content type", async () => post(await sign(update()), ""), 415],
    ["a body over the limit", () => post("x".repeat(MAX_WEBHOOK_BYTES + 1)), 413],
    [
      "a streamed body over the limit, without Content-Length",
      () => post(new Blob(Array.from({ length: 40 }, () => new Uint8Array(1024).fill(120))).stream()),
      413,
    ],
    ["garbage", () => "not.a.jwt", 400],
    ["an empty body", () => "", 400],
    ["bytes that are not UTF-8", () => post(Buffer.from([0xff, 0xfe, 0x00])), 400],
    ["alg: none", () => `${b64({ alg: "none", kid: KID })}.${b64(update())}.`, 401],
    [
      "another key under Kinde's key id",
      async () => sign(update(), {}, (await generateKeyPair("RS256")).privateKey),
      401,
    ],
    ["an unknown key id", () => sign(update(), { kid: "nobody" }), 401],
    [
      "an edited payload",
      async () => {
        const [header, , signature] = (await sign(update({ id: kindeId(), first_name: "A" }))).split(".");
        return `${header}.${b64(update({ id: kindeId(), first_name: "Mallory" }))}.${signature}`;
      },
      401,
    ],
    [
      "HS256 keyed with the public key",
      () =>
        new SignJWT(update())
          .setProtectedHeader({ alg: "HS256", kid: KID })
          .sign(new TextEncoder().encode(JSON.stringify(publicJwk))),
      401,
    ],
    ["a header that is not JSON", () => `${b64("{oops")}.${b64({})}.${b64("sig")}`, 400],
    [
      "a signed payload that is not an object",
      () =>
        new CompactSign(new TextEncoder().encode('["not","an","object"]'))
          .setProtectedHeader({ alg: "RS256", kid: KID })
          .sign(privateKey),
      400,
    ],
    ["no event id", () => sign({ ...update(), event_id: undefined }), 400],
    ["an event id with odd characters", () => sign(update(undefined, undefined, "../x")), 400],
    ["a user event without a user id", () => sign(update({ first_name: "A" })), 400],
    ["a user id of the wrong shape", () => sign(event("user.deleted", { id: "admin" })), 400],
    ["a suspended flag that is not a boolean", () => sign(update({ id: kindeId(), is_suspended: "yes" })), 400],
    ["a timestamp without a time zone", () => sign(update(undefined, "2026-11-29T10:00:00")), 400],
    [
      "an event older than the replay window",
      () => sign(update(undefined, new Date(Date.now() - REPLAY_WINDOW_MS - 60_000).toISOString())),
      400,
    ],
    ["an event from the future", () => sign(update(undefined, minutesAgo(-10))), 400],
  ];

  it.each(forgeries)("refuses %s and changes nothing", async (_, build, status) => {
    const id = kindeId();
    await upsertUserFromKinde({ id, email: `${id}@example.com`, given_name: "Kept" });
    const before = await storedState();
    const { status: answered, body } = await deliver(await build());
    expect(answered).toBe(status);
    expect(body.error).toBeTypeOf("string");
    expect(await storedState()).toEqual(before);
  });

  it("answers 503 (Kinde retries) when the signing keys cannot be fetched", async () => {
    // Without `keys` the handler uses the issuer's JWKS, which unit tests point at a closed port.
    const response = await handleKindeWebhook(post(await sign(event("user.updated", { id: kindeId() }))));
    expect(response.status).toBe(503);
    expect(await prisma.kindeWebhookEvent.count()).toBe(0);
  });
});

describe("exactly once", () => {
  it("applies an event delivered three times, two of them at the same moment, once", async () => {
    const id = kindeId();
    const token = await sign(event("user.created", { id, email: "once@example.com", first_name: "Once" }));
    const first = await deliver(token);
    const [second, third] = await Promise.all([deliver(token), deliver(token)]);
    expect([first, second, third].map((result) => result.status)).toEqual([200, 200, 200]);
    expect([first, second, third].map((result) => result.body.outcome)).toEqual(["created", "duplicate", "duplicate"]);
    expect(await prisma.user.count({ where: { kindeId: id } })).toBe(1);
    expect(await prisma.kindeWebhookEvent.count()).toBe(1);
  });

  it("applies a user.deleted delivered twice at once once, and never re-creates the identity", async () => {
    const id = kindeId();
    await upsertUserFromKinde({ id, email: "gone@example.com" });
    const token = await sign(event("user.deleted", { id }));
    const outcomes = (await Promise.all([deliver(token), deliver(token)])).map((result) => result.body.outcome);
    expect(outcomes.sort()).toEqual(["deleted", "duplicate"]);
    expect(await getUserByKindeId(id)).toBeNull();
    const late = await send("user.updated", { id, first_name: "Ghost" });
    expect(late.body.outcome).toBe("ignored (deleted identity)");
    expect(await getUserByKindeId(id)).toBeNull();
    expect(await prisma.deletedKindeIdentity.count({ where: { kindeId: id } })).toBe(1);
  });
});

describe("organization events", () => {
  const organizationEvent = (type: string, organization: Record<string, unknown>, timestamp = minutesAgo(1)) =>
    sign({ data: { organization }, event_id: eventId(), source: "admin", timestamp, type });
  const sendOrganization = async (type: string, organization: Record<string, unknown>, timestamp?: string) =>
    (await deliver(await organizationEvent(type, organization, timestamp))).body.outcome;
  const nameOf = async (kindeCode: string) => (await prisma.organization.findUnique({ where: { kindeCode } }))?.name;

  it("upserts the name once per event, newer news winning whatever the order", async () => {
    const code = "org_0a1b2c3d4e5";
    const created = await organizationEvent("organization.created", { code, name: "Acme", handle: "acme" });
    expect((await Promise.all([deliver(created), deliver(created)])).map((r) => r.body.outcome).sort()).toEqual([
      "created",
      "duplicate",
    ]);
    expect(await sendOrganization("organization.updated", { code, name: "Acme 3" }, minutesAgo(1))).toBe("updated");
    expect(await sendOrganization("organization.updated", { code, name: "Acme 2" }, minutesAgo(2))).toBe("older");
    expect(await nameOf(code)).toBe("Acme 3");
  });

  it("deletes the organization and its memberships once, and late news does not bring it back", async () => {
    const code = "org_5e4d3c2b1a0";
    const user = await upsertUserFromKinde({ id: kindeId() }, new Date(Date.now() - 60_000), undefined, {
      organizations: [{ code, name: "Doomed" }],
      current: { code, roleKeys: ["admin"] },
    });
    expect(await prisma.membership.count({ where: { userId: user!.id } })).toBe(1);
    const deleted = await organizationEvent("organization.deleted", { code });
    expect((await Promise.all([deliver(deleted), deliver(deleted)])).map((r) => r.body.outcome).sort()).toEqual([
      "deleted",
      "duplicate",
    ]);
    expect(await sendOrganization("organization.deleted", { code })).toBe("already deleted");
    expect(await sendOrganization("organization.updated", { code, name: "Back" }, minutesAgo(5))).toBe(
      "ignored (deleted organization)",
    );
    expect(await prisma.organization.count({ where: { kindeCode: code } })).toBe(0);
    expect(await prisma.membership.count()).toBe(0);
    expect(await prisma.deletedKindeOrganization.count({ where: { kindeCode: code } })).toBe(1);
  });

  it("makes user.updated's organizations the memberships, never bringing back a deleted organization", async () => {
    const [kept, deleted] = ["org_1a2b3c4d5e6", "org_6e5d4c3b2a1"];
    const id = kindeId();
    await prisma.deletedKindeOrganization.create({ data: { kindeCode: deleted, deletedAt: new Date() } });
    const organizations = [
      { code: kept, roles: ["admin"], permissions: null },
      { code: deleted, roles: null, permissions: null },
    ];
    expect((await send("user.updated", { id, organizations })).body.outcome).toBe("created");
    const memberships = await prisma.membership.findMany({ include: { organization: true } });
    expect(memberships.map((m) => [m.organization.kindeCode, m.organization.name, m.roles])).toEqual([
      [kept, null, '["admin"]'],
    ]);
    expect(await prisma.organization.count({ where: { kindeCode: deleted } })).toBe(0);
  });

  it("refuses a user.updated whose organizations are not Kinde's", async () => {
    for (const organizations of [[{ code: "acme" }], [{ code: "org_1a2b3c4d5e6", roles: [7] }], "org_1a2b3c4d5e6"]) {
      const answer = await send("user.updated", { id: kindeId(), organizations });
      expect(answer).toEqual({ status: 400, body: { error: "payload is not a user.updated event" } });
    }
    expect(await prisma.user.count()).toBe(0);
  });

  it("refuses an organization event without a Kinde organization code", async () => {
    for (const organization of [{}, { code: "acme" }, { code: 5, name: "x" }]) {
      const answer = await deliver(await organizationEvent("organization.updated", organization));
      expect(answer).toEqual({ status: 400, body: { error: "payload is not a organization.updated event" } });
    }
    expect(await prisma.organization.count()).toBe(0);
  });
});

describe("events", () => {
  it("records suspension and its end", async () => {
    const id = kindeId();
    await upsertUserFromKinde({ id }, new Date(Date.now() - 10 * 60_000), new Date(Date.now() - 10 * 60_000));
    const suspendedAt = minutesAgo(3);
    await send("user.updated", { id, is_suspended: true }, suspendedAt);
    expect((await getUserByKindeId(id))?.suspendedAt).toEqual(new Date(suspendedAt));
    await send("user.updated", { id, is_suspended: false }, minutesAgo(2));
    expect((await getUserByKindeId(id))?.suspendedAt).toBeNull();
  });

  it("moves lastSignInAt forward on user.authenticated, and ignores it for an unknown user", async () => {
    const id = kindeId();
    await upsertUserFromKinde({ id }, new Date(Date.now() - 60 * 60_000));
    const when = minutesAgo(1);
    expect((await send("user.authenticated", { id }, when)).body.outcome).toBe("updated");
    expect((await getUserByKindeId(id))?.lastSignInAt).toEqual(new Date(when));
    expect((await send("user.authenticated", { id }, minutesAgo(30))).body.outcome).toBe("unchanged");
    expect((await getUserByKindeId(id))?.lastSignInAt).toEqual(new Date(when));
    expect((await send("user.authenticated", { id: kindeId() })).body.outcome).toBe("ignored (unknown user)");
  });

  it("answers 200 to other event types and records them", async () => {
    const token = await sign({
      data: { role: { id: "role_1", key: "admin", name: "Admin" } },
      event_id: eventId(),
      timestamp: minutesAgo(1),
      type: "role.created",
    });
    expect(await deliver(token)).toEqual({ status: 200, body: { outcome: "recorded" } });
    expect(await prisma.kindeWebhookEvent.findMany()).toEqual([expect.objectContaining({ type: "role.created" })]);
  });

  it("prunes event ids past the replay window", async () => {
    const later = Date.now() + 5 * 60_000;
    await prisma.kindeWebhookEvent.create({
      data: { eventId: eventId(), type: "user.updated", occurredAt: new Date(later - REPLAY_WINDOW_MS - 60_000) },
    });
    const fresh = await sign(event("user.updated", { id: kindeId() }, new Date(later - 60_000).toISOString()));
    expect((await deliver(fresh, () => later)).status).toBe(200);
    expect(await prisma.kindeWebhookEvent.count()).toBe(1);
  });
});

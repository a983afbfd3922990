import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { allows, sameUrl } from "../../../kinde-local/applications.ts";
import { ConfigError, parseClaimsConfig, resolveUserClaims } from "../../../kinde-local/config.ts";
import { settingsFromEnv } from "../../../kinde-local/env.ts";
import { RateLimiter } from "../../../kinde-local/rate-limit.ts";
import { Store, STORE_FILE } from "../../../kinde-local/store.ts";
import { buildEvent, webhookUser } from "../../../kinde-local/webhook-events.ts";

const ENV = {
  KINDE_ISSUER_URL: "http://localhost:3001",
  KINDE_CLIENT_ID: "0123456789abcdef0123456789abcdef",
  KINDE_CLIENT_SECRET: "a".repeat(48),
  KINDE_SITE_URL: "http://localhost:3000",
};

const BASE_CONFIG = {
  organizations: [
    { code: "org_a", name: "A" },
    { code: "org_b", name: "B" },
  ],
  defaults: { org_code: "org_a", org_codes: ["org_a", "org_b"], permissions: ["read:profile"] },
};

describe("settingsFromEnv: applications, webhooks and the rate limit", () => {
  const settings = (extra: Record<string, string>) => {
    const result = settingsFromEnv({ ...ENV, ...extra }, "/project");
    if (!result.ok) throw new Error(result.message);
    return result.settings;
  };
  const message = (extra: Record<string, string>) => {
    const result = settingsFromEnv({ ...ENV, ...extra }, "/project");
    return result.ok ? "" : result.message;
  };

  it("leaves the defaults to the server when nothing is set", () => {
    const plain = settings({});
    expect(plain.callbackUrls).toBeUndefined();
    expect(plain.logoutUrls).toBeUndefined();
    expect(plain.webhooks).toBeUndefined();
    expect(plain.apiRateLimit).toBeUndefined();
  });

  it("reads comma-separated URL lists, the retry schedule and the rate limit", () => {
    expect(
      settings({
        KINDE_LOCAL_CALLBACK_URLS: "http://localhost:3000/kinde-auth/callback, http://localhost:5173/callback",
        KINDE_LOCAL_LOGOUT_URLS: "http://localhost:3000,http://localhost:5173/bye",
        KINDE_LOCAL_WEBHOOK_URLS: "http://localhost:3000/webhooks/kinde",
        KINDE_LOCAL_WEBHOOK_RETRY_DELAYS_MS: "100,500,2000",
        KINDE_LOCAL_WEBHOOK_GIVE_UP_MS: "60000",
        KINDE_LOCAL_API_RATE_LIMIT: "5/2",
      }),
    ).toMatchObject({
      callbackUrls: ["http://localhost:3000/kinde-auth/callback", "http://localhost:5173/callback"],
      logoutUrls: ["http://localhost:3000", "http://localhost:5173/bye"],
      webhooks: {
        endpoints: ["http://localhost:3000/webhooks/kinde"],
        retryDelaysMs: [100, 500, 2000],
        giveUpAfterMs: 60_000,
      },
      apiRateLimit: { requests: 5, windowSeconds: 2 },
    });
    expect(settings({ KINDE_LOCAL_API_RATE_LIMIT: "off" }).apiRateLimit).toBe(false);
    // An empty value (VAR="" in .env) counts as unset.
    expect(settings({ KINDE_LOCAL_WEBHOOK_URLS: "" }).webhooks).toBeUndefined();
    expect(settings({ KINDE_LOCAL_CALLBACK_URLS: " , " }).callbackUrls).toBeUndefined();
  });

  it("names the bad variable", () => {
    expect(message({ KINDE_LOCAL_CALLBACK_URLS: "/relative" })).toMatch(/^KINDE_LOCAL_CALLBACK_URLS must be/);
    expect(message({ KINDE_LOCAL_LOGOUT_URLS: "http://x/#frag" })).toMatch(/^KINDE_LOCAL_LOGOUT_URLS must be/);
    expect(message({ KINDE_LOCAL_WEBHOOK_URLS: "ftp://x/" })).toMatch(/^KINDE_LOCAL_WEBHOOK_URLS must be/);
    expect(message({ KINDE_LOCAL_WEBHOOK_RETRY_DELAYS_MS: "1s" })).toMatch(/^KINDE_LOCAL_WEBHOOK_RETRY_DELAYS_MS/);
    expect(message({ KINDE_LOCAL_WEBHOOK_GIVE_UP_MS: "-1" })).toMatch(/^KINDE_LOCAL_WEBHOOK_GIVE_UP_MS/);
    expect(message({ KINDE_LOCAL_API_RATE_LIMIT: "fast" })).toMatch(/^KINDE_LOCAL_API_RATE_LIMIT must be/);
  });
});

describe("config file: applications and webhooks", () => {
  const parse = (extra: Record<string, unknown>) => parseClaimsConfig({ ...BASE_CONFIG, ...extra }, "test");

  it("accepts regular and m2m applications and filtered webhook endpoints", () => {
    const config = parse({
      applications: [
        {
          client_id: "app2",
          client_secret: "s".repeat(40),
          callback_urls: ["http://localhost:5173/callback"],
          logout_urls: ["http://localhost:5173"],
        },
        { client_id: "m2m", client_secret: "m".repeat(40), type: "m2m", scopes: ["read:users"] },
      ],
      webhooks: [{ url: "http://localhost:3000/webhooks/kinde" }, { url: "http://x/y", events: ["user.deleted"] }],
    });
    expect(config.applications.map((application) => application.type)).toEqual(["regular", "m2m"]);
    expect(config.webhooks[1]?.events).toEqual(["user.deleted"]);
    // Both are optional.
    expect(parse({}).applications).toEqual([]);
  });

  it("refuses inconsistent entries with the reason", () => {
    const failures: [Record<string, unknown>, RegExp][] = [
      [{ applications: [{ client_id: "a", client_secret: "s".repeat(40) }] }, /needs callback URLs/],
      [
        {
          applications: [
            { client_id: "a", client_secret: "s".repeat(40), type: "m2m", callback_urls: ["http://x/cb"] },
          ],
        },
        /m2m application has no callback/,
      ],
      [
        {
          applications: [
            { client_id: "a", client_secret: "s".repeat(40), callback_urls: ["http://x/cb"] },
            { client_id: "a", client_secret: "t".repeat(40), callback_urls: ["http://x/cb"] },
          ],
        },
        /listed twice/,
      ],
      [{ applications: [{ client_id: "a", client_secret: "short", callback_urls: ["http://x/cb"] }] }, /client_secret/],
      [{ applications: [{ client_id: "a", client_secret: "s".repeat(40), callback_urls: ["/cb"] }] }, /http\(s\) URL/],
      [{ webhooks: [{ url: "http://x/", events: ["user.exploded"] }] }, /webhooks/],
    ];
    for (const [extra, reason] of failures) {
      expect(() => parse(extra)).toThrow(ConfigError);
      expect(() => parse(extra)).toThrow(reason);
    }
  });
});

describe("URL lists", () => {
  it("match as URLs: path and query exactly, scheme/host case and a bare origin's slash loosely", () => {
    expect(sameUrl("http://localhost:3000", "http://LOCALHOST:3000/")).toBe(true);
    expect(sameUrl("http://localhost:80/cb", "http://localhost/cb")).toBe(true);
    expect(sameUrl("http://localhost:3000/cb", "http://localhost:3000/cb/")).toBe(false);
    expect(sameUrl("http://localhost:3000/cb", "http://localhost:3000/cb?x=1")).toBe(false);
    expect(sameUrl("http://localhost:3000/cb", "https://localhost:3000/cb")).toBe(false);
    expect(sameUrl("not a url", "not a url")).toBe(false);
    expect(allows(["http://a/1", "http://b/2"], "http://b/2")).toBe(true);
    expect(allows([], "http://b/2")).toBe(false);
  });
});

describe("RateLimiter", () => {
  it("allows `requests` per window per key, then tells how long until the window ends", () => {
    let now = 1_000_000;
    const limiter = new RateLimiter({ requests: 2, windowSeconds: 10 }, () => now);
    expect(limiter.take("a")).toBeUndefined();
    now += 2_500;
    expect(limiter.take("a")).toBeUndefined();
    expect(limiter.take("a")).toBe(8);
    expect(limiter.take("b")).toBeUndefined();
    now += 7_600;
    expect(limiter.take("a")).toBeUndefined();
    expect(new RateLimiter(false, () => now).take("a")).toBeUndefined();
  });
});

describe("webhook payloads", () => {
  it("carry Kinde's user fields; roles and permissions only for the current organization", () => {
    const config = parseClaimsConfig(
      { ...BASE_CONFIG, defaults: { ...BASE_CONFIG.defaults, roles: [{ id: "r1", key: "member", name: "Member" }] } },
      "test",
    );
    const user = webhookUser(
      {
        id: "kp_0123456789abcdef0123456789abcdef",
        email: "ada@example.com",
        givenName: null,
        familyName: "Lovelace",
        passwordHash: null,
        picture: null,
        providedId: null,
        isSuspended: true,
        isPasswordResetRequested: false,
        createdAt: "2026-01-01T00:00:00.000Z",
        updatedAt: "2026-01-01T00:00:00.000Z",
        lastSignedInAt: null,
        signInCount: 0,
        failedSignInCount: 0,
      },
      resolveUserClaims(config, "ada@example.com"),
    );
    expect(user).toEqual({
      email: "ada@example.com",
      first_name: "",
      id: "kp_0123456789abcdef0123456789abcdef",
      is_password_reset_requested: false,
      is_suspended: true,
      last_name: "Lovelace",
      organizations: [
        {
          code: "org_a",
          permissions: [{ id: expect.stringMatching(/^perm_[0-9a-f]{16}$/) as string, key: "read:profile" }],
          roles: ["member"],
        },
        { code: "org_b", permissions: null, roles: null },
      ],
      phone: null,
      username: null,
    });
    const event = buildEvent("user.updated", "api", { user }, Date.UTC(2026, 10, 29, 12, 0, 0, 7));
    expect(event).toMatchObject({ source: "api", type: "user.updated", timestamp: "2026-11-29T12:00:00.007Z" });
    expect(event.event_id).toMatch(/^event_[0-9a-f]{32}$/);
  });
});

describe("the store", () => {
  it("opens a store file written before suspension, pictures and webhooks existed", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "kinde-local-old-store-"));
    const id = "kp_0123456789abcdef0123456789abcdef";
    await writeFile(
      join(dataDir, STORE_FILE),
      JSON.stringify({
        version: 1,
        users: {
          [id]: {
            id,
            email: "old@example.com",
            givenName: "Old",
            familyName: null,
            passwordHash: "scrypt$16384$8$1$c2FsdA$aGFzaA",
            createdAt: "2026-01-01T00:00:00.000Z",
            updatedAt: "2026-01-01T00:00:00.000Z",
            lastSignedInAt: null,
            signInCount: 3,
          },
        },
        sessions: {},
        refreshTokens: {},
      }),
    );
    const store = await Store.open(dataDir, Date.now, { refreshMs: 60_000, sessionMs: 60_000 });
    expect(store.getUser(id)).toMatchObject({
      isSuspended: false,
      isPasswordResetRequested: false,
      picture: null,
      providedId: null,
      failedSignInCount: 0,
      signInCount: 3,
    });
    expect(store.listDeliveries()).toEqual([]);
  });

  it("ends a user's sessions and refresh tokens when they are suspended", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "kinde-local-suspend-"));
    const store = await Store.open(dataDir, Date.now, { refreshMs: 60_000, sessionMs: 60_000 });
    const user = await store.createUser({
      email: "s@example.com",
      givenName: null,
      familyName: null,
      passwordHash: null,
    });
    const { id: session } = await store.createSession(user.id, Date.now());
    const grant = { userId: user.id, clientId: "c", scope: [], audience: [], authTime: 0, familyId: "f" };
    const token = await store.issueRefreshToken(grant);
    await store.updateUser(user.id, { isSuspended: true });
    expect(store.getSession(session)).toBeUndefined();
    expect(store.ownerOf(token)).toBeUndefined();
    await store.updateUser(user.id, { isSuspended: false });
    // Un-suspending does not bring them back.
    expect(store.getSession(session)).toBeUndefined();
    expect(await store.rotateRefreshToken(token, "c")).toBeUndefined();
  });
});

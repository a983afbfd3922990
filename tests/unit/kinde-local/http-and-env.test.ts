import { describe, expect, it } from "vitest";
import { allows, sameUrl } from "../../../kinde-local/applications.ts";
import { settingsFromEnv } from "../../../kinde-local/env.ts";
import { parseCookies, sessionCookie } from "../../../kinde-local/cookies.ts";
import { HttpError, Params, splitTarget } from "../../../kinde-local/http.ts";
import { escapeHtml } from "../../../kinde-local/pages.ts";
import { RateLimiter } from "../../../kinde-local/rate-limit.ts";

describe("Params", () => {
  it("decodes form encoding strictly", () => {
    const params = Params.parse("a=1+2&b=%C3%A9&c&=x&d=");
    expect(params.get("a")).toBe("1 2");
    expect(params.get("b")).toBe("é");
    expect(params.get("c")).toBe("");
    expect(params.get("d")).toBe("");
    expect(() => Params.parse("a=%zz")).toThrow(HttpError);
    expect(() => Params.parse("a=%E0%A4%A")).toThrow(/percent-encoding/);
  });

  it("refuses repeated OAuth parameters unless allowed", () => {
    const params = Params.parse("code=1&code=2&audience=a&audience=b&other=1&other=2");
    expect(() => params.pick(["code"])).toThrow(/repeated/);
    expect(params.pick(["audience"], ["audience"])).toEqual({ audience: ["a", "b"] });
    // Parameters nobody asked for are ignored, repeated or not.
    expect(params.pick(["grant_type"])).toEqual({});
  });
});

describe("parseCookies", () => {
  it("skips malformed pairs instead of failing (localhost cookies are shared by every port)", () => {
    const cookies = parseCookies('bad; =x; a=1; b="quoted"; c=%E0%A4%A; kinde_local_session=abc; a=2');
    expect(cookies.get("a")).toBe("1");
    expect(cookies.get("b")).toBe("quoted");
    // Not valid percent-encoding: kept as sent (another port's cookie, not ours to judge).
    expect(cookies.get("c")).toBe("%E0%A4%A");
    expect(cookies.get("kinde_local_session")).toBe("abc");
  });

  it("writes the session cookie HttpOnly, SameSite=Lax, for the whole server", () => {
    expect(sessionCookie("abc", 60)).toBe("kinde_local_session=abc; Max-Age=60; Path=/; HttpOnly; SameSite=Lax");
  });
});

describe("splitTarget", () => {
  it("accepts only origin-form targets of sane length", () => {
    expect(splitTarget("/oauth2/auth?x=1")).toEqual({ path: "/oauth2/auth", query: "x=1" });
    expect(() => splitTarget("http://evil/")).toThrow(HttpError);
    expect(() => splitTarget(`/${"a".repeat(9000)}`)).toThrow(/too long/);
  });
});

describe("escapeHtml", () => {
  it("escapes every character that matters in text and attributes", () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;",
    );
  });
});

describe("settingsFromEnv", () => {
  const env = {
    KINDE_ISSUER_URL: "http://localhost:3001",
    KINDE_CLIENT_ID: "0123456789abcdef0123456789abcdef",
    KINDE_CLIENT_SECRET: "a".repeat(48),
    KINDE_SITE_URL: "http://localhost:3000",
  };
  const settings = (extra: Record<string, string>) => {
    const result = settingsFromEnv({ ...env, ...extra }, "/project");
    if (!result.ok) throw new Error(result.message);
    return result.settings;
  };

  it("applies defaults relative to the working directory, leaving the others to the server", () => {
    expect(settingsFromEnv(env, "/project")).toEqual({
      ok: true,
      settings: {
        issuer: "http://localhost:3001",
        host: "127.0.0.1",
        clientId: env.KINDE_CLIENT_ID,
        clientSecret: env.KINDE_CLIENT_SECRET,
        siteUrl: "http://localhost:3000",
        dataDir: "/project/kinde-local/data",
        configPath: "/project/kinde-local/config.json",
        ttl: {},
      },
    });
  });

  it("reads the optional variables: comma-separated URL lists, lifetimes, the retry schedule and the rate limit", () => {
    expect(
      settings({
        KINDE_LOCAL_HOST: "0.0.0.0",
        KINDE_LOCAL_DATA_DIR: "/tmp/k",
        KINDE_LOCAL_ACCESS_TOKEN_TTL: "60",
        KINDE_LOCAL_REFRESH_TOKEN_TTL: "600",
        KINDE_LOCAL_CALLBACK_URLS: "http://localhost:3000/kinde-auth/callback, http://localhost:5173/callback",
        KINDE_LOCAL_LOGOUT_URLS: "http://localhost:3000,http://localhost:5173/bye",
        KINDE_LOCAL_WEBHOOK_URLS: "http://localhost:3000/webhooks/kinde",
        KINDE_LOCAL_WEBHOOK_RETRY_DELAYS_MS: "100,500,2000",
        KINDE_LOCAL_WEBHOOK_GIVE_UP_MS: "60000",
        KINDE_LOCAL_API_RATE_LIMIT: "5/2",
      }),
    ).toMatchObject({
      host: "0.0.0.0",
      dataDir: "/tmp/k",
      ttl: { access: 60, refresh: 600 },
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

  it.each<[Record<string, string | undefined>, RegExp]>([
    [{ KINDE_ISSUER_URL: undefined }, /^KINDE_ISSUER_URL is missing$/],
    [{ KINDE_ISSUER_URL: "http://localhost:3001/" }, /KINDE_ISSUER_URL must not end with a slash/],
    [{ KINDE_ISSUER_URL: "https://x.kinde.com" }, /KINDE_ISSUER_URL must be a plain http/],
    [{ KINDE_CLIENT_ID: "" }, /^KINDE_CLIENT_ID is missing$/],
    [{ KINDE_CLIENT_SECRET: "short" }, /KINDE_CLIENT_SECRET must be 40-60/],
    [{ KINDE_SITE_URL: "not a url" }, /KINDE_SITE_URL must be a URL/],
    [{ KINDE_LOCAL_ID_TOKEN_TTL: "1h" }, /KINDE_LOCAL_ID_TOKEN_TTL must be a whole number/],
    [{ KINDE_LOCAL_CALLBACK_URLS: "/relative" }, /^KINDE_LOCAL_CALLBACK_URLS must be/],
    [{ KINDE_LOCAL_LOGOUT_URLS: "http://x/#frag" }, /^KINDE_LOCAL_LOGOUT_URLS must be/],
    [{ KINDE_LOCAL_WEBHOOK_URLS: "ftp://x/" }, /^KINDE_LOCAL_WEBHOOK_URLS must be/],
    [{ KINDE_LOCAL_WEBHOOK_RETRY_DELAYS_MS: "1s" }, /^KINDE_LOCAL_WEBHOOK_RETRY_DELAYS_MS/],
    [{ KINDE_LOCAL_WEBHOOK_GIVE_UP_MS: "-1" }, /^KINDE_LOCAL_WEBHOOK_GIVE_UP_MS/],
    [{ KINDE_LOCAL_API_RATE_LIMIT: "fast" }, /^KINDE_LOCAL_API_RATE_LIMIT must be/],
  ])("names the one bad variable: %o", (overrides, expected) => {
    const result = settingsFromEnv({ ...env, ...overrides }, "/");
    expect(result.ok ? "" : result.message).toMatch(expected);
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

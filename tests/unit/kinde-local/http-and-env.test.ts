import { describe, expect, it } from "vitest";
import { settingsFromEnv } from "../../../kinde-local/env.ts";
import { parseCookies, sessionCookie } from "../../../kinde-local/cookies.ts";
import { HttpError, Params, splitTarget } from "../../../kinde-local/http.ts";
import { escapeHtml } from "../../../kinde-local/pages.ts";

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

  it("applies defaults relative to the working directory", () => {
    const result = settingsFromEnv(env, "/project");
    expect(result).toEqual({
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

  it("reads the optional variables", () => {
    const result = settingsFromEnv(
      {
        ...env,
        KINDE_LOCAL_HOST: "0.0.0.0",
        KINDE_LOCAL_DATA_DIR: "/tmp/k",
        KINDE_LOCAL_ACCESS_TOKEN_TTL: "60",
        KINDE_LOCAL_REFRESH_TOKEN_TTL: "600",
      },
      "/project",
    );
    expect(result.ok && result.settings).toMatchObject({
      host: "0.0.0.0",
      dataDir: "/tmp/k",
      ttl: { access: 60, refresh: 600 },
    });
  });

  it("names the one bad variable", () => {
    const message = (overrides: Record<string, string | undefined>) => {
      const result = settingsFromEnv({ ...env, ...overrides }, "/");
      return result.ok ? "" : result.message;
    };
    expect(message({ KINDE_ISSUER_URL: undefined })).toBe("KINDE_ISSUER_URL is missing");
    expect(message({ KINDE_ISSUER_URL: "http://localhost:3001/" })).toMatch(
      /KINDE_ISSUER_URL must not end with a slash/,
    );
    expect(message({ KINDE_ISSUER_URL: "https://x.kinde.com" })).toMatch(/KINDE_ISSUER_URL must be a plain http/);
    expect(message({ KINDE_CLIENT_ID: "" })).toBe("KINDE_CLIENT_ID is missing");
    expect(message({ KINDE_CLIENT_SECRET: "short" })).toMatch(/KINDE_CLIENT_SECRET must be 40-60/);
    expect(message({ KINDE_SITE_URL: "not a url" })).toMatch(/KINDE_SITE_URL must be a URL/);
    expect(message({ KINDE_LOCAL_ID_TOKEN_TTL: "1h" })).toMatch(/KINDE_LOCAL_ID_TOKEN_TTL must be a whole number/);
  });
});

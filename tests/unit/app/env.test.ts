import { readFileSync } from "node:fs";
import { parseEnv as parseDotEnv } from "node:util";
import { describe, expect, it } from "vitest";
import { EnvError, parseEnv, type Env } from "~/lib/config/env-schema.server";
import { EXAMPLE_SECRETS, unsafeInProduction } from "../../../server/config";
import { appEnv } from "../../support/test-env";

const valid = appEnv({
  siteUrl: "http://localhost:3000",
  issuerUrl: "https://acme.kinde.com",
  databaseFile: "/tmp/x.db",
});

function messageFor(source: Record<string, string | undefined>): string {
  try {
    parseEnv(source);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvError);
    return (error as Error).message;
  }
  throw new Error("expected parseEnv to throw");
}

describe("configuration check", () => {
  it("accepts a complete configuration and drops trailing slashes the SDK cannot handle", () => {
    const env = parseEnv({ ...valid, KINDE_ISSUER_URL: "https://acme.kinde.com/" });
    expect(env.KINDE_ISSUER_URL).toBe("https://acme.kinde.com");
    expect(env.NODE_ENV).toBe("development");
  });

  it("defaults DATABASE_URL to the embedded SQLite file", () => {
    const { DATABASE_URL: _, ...rest } = valid;
    expect(parseEnv(rest).DATABASE_URL).toBe("file:./data/dev.db");
  });

  it("names a missing variable", () => {
    const { KINDE_CLIENT_ID: _, ...rest } = valid;
    expect(messageFor(rest)).toMatch(/^Invalid configuration: KINDE_CLIENT_ID is missing\./);
  });

  it("treats an empty value as missing", () => {
    expect(messageFor({ ...valid, KINDE_SITE_URL: "" })).toContain("KINDE_SITE_URL is missing");
  });

  it("names a malformed variable and says what is expected", () => {
    expect(messageFor({ ...valid, KINDE_ISSUER_URL: "acme.kinde.com" })).toContain(
      "KINDE_ISSUER_URL must be an http(s) URL",
    );
    expect(messageFor({ ...valid, KINDE_CLIENT_SECRET: "short" })).toContain(
      "KINDE_CLIENT_SECRET must be 40 to 60 letters and digits",
    );
    expect(messageFor({ ...valid, DATABASE_URL: "mysql://x" })).toContain(
      "DATABASE_URL must be a SQLite file URL such as file:./data/dev.db or a PostgreSQL URL",
    );
    expect(messageFor({ ...valid, DATABASE_POOL_SIZE: "0" })).toContain("DATABASE_POOL_SIZE must be a whole number");
    expect(messageFor({ ...valid, DATABASE_POOL_SIZE: "ten" })).toContain("DATABASE_POOL_SIZE must be a whole number");
    expect(messageFor({ ...valid, SESSION_SECRET: "x" })).toContain("SESSION_SECRET must be at least 32 characters");
  });

  it("takes a SQLite file URL or a PostgreSQL URL, and a pool size", () => {
    for (const url of ["file:./data/dev.db", "postgres://app@db:5432/app", "postgresql://app:secret@localhost/app"]) {
      expect(parseEnv({ ...valid, DATABASE_URL: url }).DATABASE_URL).toBe(url);
    }
    expect(parseEnv(valid).DATABASE_POOL_SIZE).toBe(10);
    expect(parseEnv({ ...valid, DATABASE_POOL_SIZE: "25" }).DATABASE_POOL_SIZE).toBe(25);
  });

  it("names every bad variable in one message", () => {
    const message = messageFor({ ...valid, KINDE_CLIENT_ID: undefined, KINDE_ISSUER_URL: "nope" });
    expect(message).toContain("KINDE_CLIENT_ID is missing");
    expect(message).toContain("KINDE_ISSUER_URL must be");
    expect(message.split("\n")).toHaveLength(1);
  });
});

describe("production safety (server/config.ts)", () => {
  const production = parseEnv({ ...valid, NODE_ENV: "production", KINDE_SITE_URL: "https://app.example.com" });
  const problems = (changes: Partial<Env>, withLocalKinde = false) =>
    unsafeInProduction({ ...production, ...changes }, withLocalKinde);

  it("knows .env.example's secrets", () => {
    const example = parseDotEnv(readFileSync(".env.example", "utf8"));
    expect(example.SESSION_SECRET).toBe(EXAMPLE_SECRETS.SESSION_SECRET);
    expect(example.KINDE_CLIENT_SECRET).toBe(EXAMPLE_SECRETS.KINDE_CLIENT_SECRET);
  });

  it("accepts a configuration of its own", () => {
    expect(problems({})).toEqual([]);
  });

  it("refuses the example SESSION_SECRET", () => {
    expect(problems({ SESSION_SECRET: EXAMPLE_SECRETS.SESSION_SECRET })).toEqual([
      "SESSION_SECRET is the public example from .env.example: generate one with `openssl rand -hex 32`",
    ]);
  });

  it("refuses the example KINDE_CLIENT_SECRET", () => {
    expect(problems({ KINDE_CLIENT_SECRET: EXAMPLE_SECRETS.KINDE_CLIENT_SECRET })).toEqual([
      expect.stringMatching(/^KINDE_CLIENT_SECRET is the local Kinde server's example from \.env\.example/),
    ]);
  });

  it("refuses a SESSION_SECRET with fewer than 8 different characters, whatever its length", () => {
    for (const weak of ["a".repeat(64), "ab".repeat(32), "0123456".repeat(10)]) {
      expect(problems({ SESSION_SECRET: weak })).toEqual([expect.stringMatching(/^SESSION_SECRET is too weak/)]);
    }
    expect(problems({ SESSION_SECRET: "01234567".repeat(4) })).toEqual([]);
  });

  it("refuses to start the local Kinde server", () => {
    expect(problems({}, true)).toEqual([
      expect.stringMatching(/^KINDE_LOCAL_START would start the local Kinde server/),
    ]);
  });

  it("names every problem", () => {
    expect(problems({ ...EXAMPLE_SECRETS }, true)).toHaveLength(3);
  });

  it("leaves a local production try, development and tests alone", () => {
    const unsafe = { ...EXAMPLE_SECRETS, SESSION_SECRET: "a".repeat(32) };
    for (const KINDE_SITE_URL of ["http://localhost:3000", "http://127.0.0.1:3000", "http://[::1]:3000"]) {
      expect(problems({ ...unsafe, KINDE_SITE_URL }, true)).toEqual([]);
    }
    expect(problems({ ...unsafe, NODE_ENV: "development" }, true)).toEqual([]);
    expect(problems({ ...unsafe, NODE_ENV: "test" }, true)).toEqual([]);
  });
});

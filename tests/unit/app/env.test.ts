import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "~/lib/config/env-schema.server";
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

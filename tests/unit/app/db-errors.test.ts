/**
 * How failures of either database are told apart, in the one place that knows: the shapes are
 * those the two driver adapters produce (seen in the integration tests against real servers).
 */
import { describe, expect, it } from "vitest";
import { Prisma } from "~/generated/prisma/client";
import {
  databaseFailure,
  databaseUnavailableResponse,
  failureOf,
  isRetryableConflict,
  isUniqueViolation,
  retryOnConflict,
} from "~/lib/database/errors.server";

const known = (code: string, cause?: Record<string, unknown>) =>
  new Prisma.PrismaClientKnownRequestError("failed", {
    code,
    clientVersion: "6.19.3",
    meta: cause ? { modelName: "User", driverAdapterError: { name: "DriverAdapterError", cause } } : {},
  });

/** What adapter-pg throws where Prisma does not wrap it (e.g. at COMMIT). */
const adapterError = (cause: Record<string, unknown>) =>
  Object.assign(new Error(String(cause.kind)), { name: "DriverAdapterError", cause });

describe("unique violations", () => {
  it("names the field on SQLite and on PostgreSQL, whose detail quotes it", () => {
    const sqlite = known("P2002", { kind: "UniqueConstraintViolation", constraint: { fields: ["email"] } });
    const postgres = known("P2002", {
      originalCode: "23505",
      kind: "UniqueConstraintViolation",
      constraint: { fields: ['"kindeId"'] },
    });
    expect(isUniqueViolation(sqlite, "email")).toBe(true);
    expect(isUniqueViolation(sqlite, "kindeId")).toBe(false);
    expect(isUniqueViolation(postgres, "kindeId")).toBe(true);
    expect(isUniqueViolation(postgres, "email")).toBe(false);
    expect(isUniqueViolation(postgres)).toBe(true);
  });

  it("recognises an index name and a violation reported at COMMIT", () => {
    const byIndex = known("P2002", { kind: "UniqueConstraintViolation", constraint: { index: "User_email_key" } });
    expect(isUniqueViolation(byIndex, "email")).toBe(true);
    expect(isUniqueViolation(adapterError({ kind: "UniqueConstraintViolation", originalCode: "23505" }))).toBe(true);
    expect(isUniqueViolation(known("P2025"))).toBe(false);
  });
});

it("races worth retrying are unique violations, serialization failures (P2034, or 40001 at COMMIT) and deadlocks", () => {
  expect(isRetryableConflict(known("P2002", { kind: "UniqueConstraintViolation" }))).toBe(true);
  expect(isRetryableConflict(known("P2034"))).toBe(true);
  expect(isRetryableConflict(adapterError({ kind: "TransactionWriteConflict", originalCode: "40001" }))).toBe(true);
  expect(isRetryableConflict(known("P2010", { kind: "postgres", code: "40P01", severity: "ERROR" }))).toBe(true);
  expect(isRetryableConflict(known("P2025"))).toBe(false);
  expect(isRetryableConflict(new Error("bug"))).toBe(false);
});

it("retries a lost race, and answers 503 (busy, try again) rather than 500 when the races never stop", async () => {
  let attempts = 0;
  const winsThird = () => (++attempts < 3 ? Promise.reject(known("P2034")) : Promise.resolve("done"));
  await expect(retryOnConflict(winsThird)).resolves.toBe("done");

  attempts = 0;
  const thrown = await retryOnConflict(() => {
    attempts++;
    return Promise.reject(known("P2034"));
  }).catch((error: unknown) => error);
  expect(attempts).toBe(16);
  expect(thrown).toBeInstanceOf(Response);
  expect((thrown as Response).status).toBe(503);
  expect(failureOf(thrown)).toBe("unavailable");

  const bug = new Error("bug");
  await expect(retryOnConflict(() => Promise.reject(bug))).rejects.toBe(bug);
});

describe("an unusable database", () => {
  it("is read-only on a read-only SQLite file or a PostgreSQL standby", () => {
    expect(
      databaseFailure(Object.assign(new Error("attempt to write a readonly database"), { code: "SQLITE_READONLY" })),
    ).toBe("read-only");
    expect(databaseFailure(known("P2010", { kind: "postgres", code: "25006", severity: "ERROR" }))).toBe("read-only");
  });

  it("is unavailable when it cannot be reached, is shutting down, or refuses the session", () => {
    const cases: unknown[] = [
      Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" }),
      new Error("unable to open database file"),
      known("P1001", { kind: "DatabaseNotReachable", host: "127.0.0.1", port: 5432 }),
      known("P2010", { kind: "postgres", code: "57P01", severity: "FATAL" }),
      known("P2010", { kind: "postgres", code: "57P03", severity: "FATAL" }),
      known("P2010", { kind: "postgres", code: "55000", severity: "FATAL" }),
      known("P2010", { kind: "postgres", code: "08006", severity: "ERROR" }),
      known("P2037", { kind: "TooManyConnections" }),
      new Error("timeout exceeded when trying to connect"),
      new Error("Connection terminated unexpectedly"),
      new Prisma.PrismaClientInitializationError("no", "6.19.3"),
    ];
    for (const error of cases) expect(databaseFailure(error), String(error)).toBe("unavailable");
  });

  it("is not what a bug or a lost race looks like", () => {
    expect(databaseFailure(new Error("Cannot read properties of undefined"))).toBeNull();
    expect(databaseFailure(known("P2002", { kind: "UniqueConstraintViolation" }))).toBeNull();
    expect(databaseFailure(adapterError({ kind: "TransactionWriteConflict", originalCode: "40001" }))).toBeNull();
  });

  it("becomes a 503 response that remembers which failure it stands for", () => {
    const response = databaseUnavailableResponse("read-only");
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toBe("5");
    expect(failureOf(response)).toBe("read-only");
    expect(failureOf(new Response("other", { status: 503 }))).toBeUndefined();
  });
});

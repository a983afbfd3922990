/** SQLite under concurrency and faults: WAL, parallel sign-ins, an unusable database. */
import Database from "better-sqlite3";
import { closeSync, mkdtempSync, openSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestBrowser, textOf } from "../../stack/browser";
import { newPerson, runSql, signInAs, signUp, usersIn } from "../support/flows";
import { startStack, type Stack } from "../../stack";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe("SQLite settings", () => {
  it("runs the database in WAL mode once the app has connected", async () => {
    await signInAs(stack);
    const db = new Database(stack.databaseFile, { readonly: true });
    try {
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    } finally {
      db.close();
    }
  });
});

describe("concurrency", () => {
  it("gives exactly one row for 20 parallel first sign-ins of one user", async () => {
    const { browser, person } = await signInAs(stack);
    runSql(stack.databaseFile, "DELETE FROM User WHERE email = ?", person.email);

    const pages = await Promise.all(
      Array.from({ length: 20 }, () => browser.get(`${stack.appUrl}/auth/success`, { follow: false })),
    );
    expect(pages.map((page) => `${page.status} ${page.headers.get("Location")}`)).toEqual(
      Array(20).fill("302 /dashboard"),
    );
    expect(usersIn(stack.databaseFile).filter((row) => row.email === person.email)).toHaveLength(1);
  });

  it("stores 200 different users signing up at the same time, with no failed request", async () => {
    const people = Array.from({ length: 200 }, () => newPerson());
    const before = usersIn(stack.databaseFile).length;
    const results = await Promise.all(people.map((person) => signUp(stack, person).then(({ page }) => page)));
    const failed = results.filter((page) => page.status !== 200 || page.url !== `${stack.appUrl}/dashboard`);
    // On failure, the app's own account of it (its warnings and errors) goes with the message.
    const problems = () =>
      stack
        .appLog()
        .split("\n")
        .filter((line) => /\[(auth|db|server)\]/.test(line));
    expect(
      failed.map((page) => `${page.status} ${page.url}`),
      problems().join("\n"),
    ).toEqual([]);
    const rows = usersIn(stack.databaseFile);
    expect(rows.length - before).toBe(200);
    expect(new Set(rows.map((row) => row.email)).size).toBe(rows.length);
  }, 120_000);
});

describe("an unusable database", () => {
  it("stops npm start with one message naming the problem when the database cannot be opened", async () => {
    // A database path below a plain file can never be opened (nor its folder created).
    const blocker = join(mkdtempSync(join(tmpdir(), "rkp-blocked-")), "not-a-folder");
    writeFileSync(blocker, "");
    const started = startStack({ env: { DATABASE_URL: `file:${blocker}/app.db` } });
    await expect(started).rejects.toThrow(/the process ended \(code 1\)[\s\S]*prisma migrate deploy failed/);
  });

  it("answers 503 for writes to a read-only database, and /healthz reports read-only", async () => {
    // No webhooks: the app would answer each 503 and Kinde retry it for an hour.
    const readOnly = await startStack({ prepareDatabase: makeReadOnly, webhooks: false });
    try {
      const health = await new TestBrowser().get(`${readOnly.appUrl}/healthz`);
      expect(JSON.parse(health.html)).toEqual({ status: "degraded", checks: { process: "ok", database: "read-only" } });
      expect(health.status).toBe(503);

      const { page } = await signUp(readOnly, newPerson());
      expect(page.url).toBe(`${readOnly.appUrl}/auth/success`);
      expect(page.status).toBe(503);
      expect(textOf(page.html)).toContain("Temporarily unavailable");
      expect((await new TestBrowser().get(`${readOnly.appUrl}/`)).status).toBe(200);
      expect(readOnly.appLog()).toContain("database unavailable");
      expect(usersIn(readOnly.databaseFile)).toHaveLength(0);
    } finally {
      await readOnly.stop();
    }
  });
});

/**
 * A database SQLite itself opens read-only, whoever runs it (file modes do not stop root): its
 * header's "write version" byte (offset 18) above 2 means "written by a newer SQLite, read
 * only for this one" (https://www.sqlite.org/fileformat2.html#file_format_version_numbers).
 */
function makeReadOnly(file: string): void {
  const fd = openSync(file, "r+");
  try {
    writeSync(fd, Buffer.from([3]), 0, 1, 18);
  } finally {
    closeSync(fd);
  }
}

// The database under concurrency and faults, on SQLite and PostgreSQL: parallel sign-ins, bursts, /healthz, outages.
import { parse } from "node-html-parser";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { sqliteFile, type DatabaseProvider } from "../../app/lib/database/url";
import { TestBrowser, textOf, type Page } from "../support/browser";
import { newPerson, signInAs, signUp } from "../support/sign-in.ts";
import { deliverWebhook, kindeEvent, sendKindeEvent, signKindeEvent } from "../support/kinde-webhooks";
import { databaseAccess, usersIn, type StackDatabase } from "../support/database-access.ts";
import { startStack, type Stack } from "../support/stack.ts";
import { useStack, withStack } from "../support/use-stack.ts";

const databaseName = (database: StackDatabase) => database.url.split("/").pop()!;
const HEALTHY = { status: 200, body: { status: "ok", checks: { process: "ok", database: "ok" } } };

function expectTemporarilyUnavailable(page: Page) {
  expect(page.status).toBe(503);
  expect(textOf(page.html)).toContain("Temporarily unavailable");
}

async function health(stack: Stack): Promise<{ status: number; body: unknown }> {
  const page = await new TestBrowser().get(`${stack.appUrl}/healthz`);
  return { status: page.status, body: JSON.parse(page.html) as unknown };
}

describe.each<DatabaseProvider>(["sqlite", "postgresql"])("on %s", (provider) => {
  // A server away from UTC: what pages show must not depend on the server's time zone.
  const stack = useStack({ database: provider, env: { TZ: "America/New_York" } });

  describe("concurrency", () => {
    it("gives exactly one row for 20 parallel first sign-ins of one user", async () => {
      const { browser, person } = await signInAs(stack);
      await stack.database.run('DELETE FROM "User" WHERE "email" = ?', person.email);

      const pages = await Promise.all(
        Array.from({ length: 20 }, () => browser.get(`${stack.appUrl}/auth/success`, { follow: false })),
      );
      expect(pages.map((page) => `${page.status} ${page.headers.get("Location")}`)).toEqual(
        Array(20).fill("302 /dashboard"),
      );
      expect((await usersIn(stack.database)).filter((row) => row.email === person.email)).toHaveLength(1);
    });

    it("stores 200 different users signing up at the same time, with no failed request", async () => {
      const people = Array.from({ length: 200 }, () => newPerson());
      const before = (await usersIn(stack.database)).length;
      const results = await Promise.all(people.map((person) => signUp(stack, person).then(({ page }) => page)));
      const failed = results.filter((page) => page.status !== 200 || page.url !== `${stack.appUrl}/dashboard`);
      // On failure, the app's own account of it (its warnings, errors and stack traces) goes with
      // the message: everything but the request log.
      const appLines = stack.appLog().split("\n");
      const problems = appLines.filter((line) => line.trim() !== "" && !/^(GET|POST) \//.test(line)).slice(0, 200);
      expect(
        failed.map((page) => `${page.status} ${page.url}`),
        problems.join("\n"),
      ).toEqual([]);
      const rows = await usersIn(stack.database);
      expect(rows.length - before).toBe(200);
      expect(new Set(rows.map((row) => row.email)).size).toBe(rows.length);
    }, 120_000);

    it("applies a webhook event delivered ten times at the same moment exactly once", async () => {
      const { person } = await signInAs(stack);
      const [row] = (await usersIn(stack.database)).filter((user) => user.email === person.email);
      const event = kindeEvent("user.updated", { id: row!.kindeId, first_name: "Once" });
      const token = await signKindeEvent(stack, event);

      const results = await Promise.all(Array.from({ length: 10 }, () => deliverWebhook(stack, token)));
      expect(results.map((result) => result.status)).toEqual(Array(10).fill(200));
      const outcomes = results.map((result) => (result.body as { outcome: string }).outcome).sort();
      expect(outcomes).toEqual([...Array<string>(9).fill("duplicate"), "updated"]);
      const events = 'SELECT * FROM "KindeWebhookEvent" WHERE "eventId" = ?';
      expect(await stack.database.query(events, event.event_id)).toHaveLength(1);
      expect((await usersIn(stack.database)).find((user) => user.kindeId === row!.kindeId)?.firstName).toBe("Once");
    });
  });

  describe("unique keys under races", () => {
    const newKindeId = () => `kp_${randomBytes(16).toString("hex")}`;

    it("gives an email to one identity when two new ones claim it at the same moment", async () => {
      const email = newPerson().email;
      const ids = [newKindeId(), newKindeId()];
      const results = await Promise.all(
        ids.map((id) => sendKindeEvent(stack, "user.created", { id, email, first_name: "Twin" })),
      );
      expect(results.map((result) => result.status)).toEqual([200, 200]);
      const rows = (await usersIn(stack.database)).filter((row) => ids.includes(row.kindeId));
      expect(rows).toHaveLength(2);
      expect(rows.filter((row) => row.email === email)).toHaveLength(1);
    });

    it("keeps one tombstone when the same deletion arrives twice at the same moment", async () => {
      const { person } = await signInAs(stack);
      const { kindeId } = (await usersIn(stack.database)).find((row) => row.email === person.email)!;
      const results = await Promise.all([
        sendKindeEvent(stack, "user.deleted", { id: kindeId }),
        sendKindeEvent(stack, "user.deleted", { id: kindeId }),
      ]);
      expect(results.map((result) => result.status)).toEqual([200, 200]);
      expect(results.map((result) => (result.body as { outcome: string }).outcome).sort()).toEqual([
        "already deleted",
        "deleted",
      ]);
      expect(
        await stack.database.query('SELECT * FROM "DeletedKindeIdentity" WHERE "kindeId" = ?', kindeId),
      ).toHaveLength(1);
      expect((await usersIn(stack.database)).filter((row) => row.kindeId === kindeId)).toEqual([]);
    });
  });

  it("shows on the signed-in page the row as the database holds it, not what Kinde says, with its dates in UTC", async () => {
    const { browser, person } = await signInAs(stack);
    // As a SQL shell would write them: SQLite's CURRENT_TIMESTAMP format and an ISO string.
    await stack.database.run(
      'UPDATE "User" SET "firstName" = ?, "lastName" = NULL, "createdAt" = ?, "lastSignInAt" = ? WHERE "email" = ?',
      "Grace",
      "2026-01-02 03:04:05",
      "2026-02-03T04:05:06.789Z",
      person.email,
    );
    const page = await browser.get(`${stack.appUrl}/dashboard`);
    expect(page.status).toBe(200);
    const html = parse(page.html);
    const shown = (testId: string) => html.querySelector(`[data-testid="${testId}"]`)?.text.trim();
    expect(shown("first-name")).toBe("Grace");
    expect(shown("last-name")).toBe("Not set");
    expect(textOf(page.html)).not.toContain(person.lastName);
    expect(shown("email")).toBe(person.email);
    expect(shown("last-sign-in")).toBe("Feb 3, 2026, 4:05 AM UTC");
    expect(html.querySelector("time")?.getAttribute("datetime")).toBe("2026-01-02T03:04:05.000Z");
    expect(html.querySelector("time")?.text).toBe("January 2, 2026");
  });

  it("reports the database readable and writable on /healthz", async () => {
    expect(await health(stack)).toEqual(HEALTHY);
  });

  describe("an unusable database", () => {
    it("stops npm start with one message naming the problem when the database cannot be opened", async () => {
      if (provider === "sqlite") {
        // A database path below a plain file can never be opened (nor its folder created).
        const dir = mkdtempSync(join(tmpdir(), "rkp-blocked-"));
        const blocker = join(dir, "not-a-folder");
        writeFileSync(blocker, "");
        try {
          const started = startStack({ env: { DATABASE_URL: `file:${blocker}/app.db` } });
          await expect(started).rejects.toThrow(/the process ended \(code 1\)[\s\S]*prisma migrate deploy failed/);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      } else {
        // Nothing listens on port 1; the password must not reach the log.
        const started = startStack({ env: { DATABASE_URL: "postgresql://app:secret-password@127.0.0.1:1/app" } });
        await expect(started).rejects.toThrow(
          /the process ended \(code 1\)[\s\S]*cannot connect to the database at postgresql:\/\/app:\*\*\*@127\.0\.0\.1:1\/app: connect ECONNREFUSED/,
        );
        await expect(started).rejects.not.toThrow(/secret-password/);
      }
    });

    it("answers 503 for writes to a read-only database, and /healthz reports read-only", async () => {
      // No webhooks: the app would answer each 503 and Kinde retry it for an hour.
      await withStack({ database: provider, beforeStart: makeReadOnly, webhooks: false }, async (readOnly) => {
        const status = await health(readOnly);
        expect(status.body).toEqual({ status: "degraded", checks: { process: "ok", database: "read-only" } });
        expect(status.status).toBe(503);

        const { page } = await signUp(readOnly, newPerson());
        expect(page.url).toBe(`${readOnly.appUrl}/auth/success`);
        expectTemporarilyUnavailable(page);
        expect((await new TestBrowser().get(`${readOnly.appUrl}/`)).status).toBe(200);
        expect(readOnly.appLog()).toContain("database unavailable (read-only)");
        expect(await usersIn(readOnly.database)).toHaveLength(0);
      });
    });

    it.runIf(provider === "postgresql")(
      "answers 503 while the database refuses connections, and heals without a restart once it takes them again",
      async () => {
        const name = databaseName(stack.database);
        const admin = stack.database.url.replace(/\/[^/]*$/, "/postgres");
        const signedIn = await signInAs(stack);
        const sql = (statement: string) => databaseAccess(admin).run(statement);
        await sql(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
        await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
        try {
          // Until the app sees the change made behind its back (bounded).
          const degraded = { status: "degraded", checks: { process: "ok", database: "unavailable" } };
          await vi.waitFor(async () => expect(await health(stack)).toEqual({ status: 503, body: degraded }), {
            timeout: 10_000,
            interval: 100,
          });
          // Kinde's own events about this person wait for the database too (they land later).
          expectTemporarilyUnavailable(
            (await signUp(stack, newPerson(), undefined, { waitForKindeEvents: false })).page,
          );
          // A signed-in page needs the person's row: its friendly 503 too.
          expectTemporarilyUnavailable(await signedIn.browser.get(`${stack.appUrl}/dashboard`));
        } finally {
          await sql(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
        }
        expect(await health(stack)).toEqual(HEALTHY);
        const person = newPerson();
        const { page } = await signUp(stack, person);
        expect(page.url).toBe(`${stack.appUrl}/dashboard`);
        expect((await usersIn(stack.database)).filter((row) => row.email === person.email)).toHaveLength(1);
        const dashboard = await signedIn.browser.get(`${stack.appUrl}/dashboard`);
        expect(dashboard.status).toBe(200);
        expect(textOf(dashboard.html)).toContain(signedIn.person.email);
        expect(stack.appLog()).toContain("[db] idle connection lost");
      },
    );
  });

  it("closes its connections on a graceful shutdown", async () => {
    await withStack({ database: provider }, async (stopping) => {
      await signInAs(stopping);
      expect(await stopping.stopApp("SIGTERM")).toBe(0);
      expect(stopping.appLog()).toContain("[db] disconnected");
      if (provider === "postgresql") {
        const admin = databaseAccess(stopping.databaseUrl.replace(/\/[^/]*$/, "/postgres"));
        const left = await admin.query(
          "SELECT pid FROM pg_stat_activity WHERE datname = ?",
          databaseName(stopping.database),
        );
        expect(left).toEqual([]);
      }
    });
  });

  it.runIf(provider === "sqlite")("runs the database in WAL mode once the app has connected", async () => {
    await signInAs(stack);
    expect(await stack.database.query("PRAGMA journal_mode")).toEqual([{ journal_mode: "wal" }]);
  });
});

/**
 * A database the app can read but not write. SQLite opens it read-only whoever runs it (file
 * modes do not stop root) when the header's "write version" byte (offset 18) is above 2
 * (https://www.sqlite.org/fileformat2.html#file_format_version_numbers). PostgreSQL: every
 * session starts read-only, as on a standby (writes fail with SQLSTATE 25006).
 */
async function makeReadOnly(database: StackDatabase): Promise<void> {
  if (database.provider === "postgresql") {
    await database.run(`ALTER DATABASE "${databaseName(database)}" SET default_transaction_read_only = on`);
    return;
  }
  const file = sqliteFile(database.url);
  const bytes = readFileSync(file);
  bytes[18] = 3;
  writeFileSync(file, bytes);
}

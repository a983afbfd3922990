// Two instances behind HAProxy on one PostgreSQL database, this file's own so it can be stopped and started.
import { afterAll, beforeAll, beforeEach, expect, it, onTestFailed, vi } from "vitest";
import { TestBrowser, textOf, type Page } from "../support/browser";
import { newPerson, signUp, type Person } from "../support/sign-in.ts";
import { deliverWebhook, kindeEvent, signKindeEvent } from "../support/kinde-webhooks";
import { usersIn } from "../support/database-access.ts";
import { inParallel } from "../support/parallel.ts";
import { useStack } from "../support/use-stack.ts";
import { sharedPostgres, startPostgres, type PostgresServer } from "../support/postgres";

let postgres: PostgresServer;
beforeAll(async () => {
  const shared = sharedPostgres();
  if (!shared) throw new Error("no PostgreSQL cluster: the test run's global setup makes one");
  postgres = await startPostgres(shared.cluster);
});
afterAll(async () => {
  await postgres?.destroy();
});
// Without the local Kinde server's own webhooks: through the balancer they would take turns
// in its round robin, and the tests below count which instance got which request. Webhooks
// across instances are tested by delivering one event to both at once.
const stack = useStack(
  () => ({ database: "postgresql", postgres, instances: 2, balancer: true, webhooks: false }),
  120_000,
);

/** What each instance logged from now on (its request log: "GET /path status time"). */
function logsFromNow(): () => string[] {
  const marks = stack.apps.map((app) => app.output.text().length);
  return () => stack.apps.map((app, index) => app.output.text().slice(marks[index]));
}

/**
 * The instances' logs since `since` once `total` lines match `pattern` in all of them together:
 * a request's log line is written as its answer goes out, so it may lag behind the answer.
 */
async function countedLogs(since: () => string[], pattern: RegExp, total: number): Promise<number[]> {
  const counts = () => since().map((log) => (log.match(pattern) ?? []).length);
  const complete = () => (counts().reduce((sum, count) => sum + count, 0) >= total ? counts() : null);
  const waits = stack.apps.map((app) => app.output.waitUntil(complete, 15_000, `${total} lines like ${pattern}`));
  for (const wait of waits) wait.catch(() => {});
  return Promise.any(waits);
}

const signedUp = (page: Page) => page.status === 200 && page.url === `${stack.appUrl}/dashboard`;

/** Resolves once `condition()` holds (checked every 20 ms); fails naming `what` after `timeoutMs`. */
const until = (condition: () => boolean, timeoutMs: number, what: string) =>
  vi.waitFor(() => expect(condition(), `timed out waiting for ${what}`).toBe(true), {
    timeout: timeoutMs,
    interval: 20,
  });

/** On failure, what the instances said besides their request logs goes with the message. */
function reportInstancesOnFailure(): void {
  onTestFailed(() => {
    stack.apps.forEach((app, index) => {
      const lines = app.output
        .text()
        .split("\n")
        .filter((line) => line.trim() !== "" && !/^(GET|POST) \//.test(line));
      console.error(`app${index + 1} (${app.url}):\n${lines.slice(-60).join("\n")}`);
    });
    // HAProxy's log lines for requests that did not end normally (termination state not "----").
    const unusual = (stack.balancer?.output.text() ?? "")
      .split("\n")
      .filter((line) => /"(GET|POST) /.test(line) && !/ ---- /.test(line));
    console.error(`HAProxy (${stack.appUrl}), requests that did not end normally:\n${unusual.slice(-60).join("\n")}`);
  });
}

beforeEach(reportInstancesOnFailure);

it("signs up with the login on one instance and the callback on the other, then both serve the dashboard", async () => {
  const since = logsFromNow();
  const person = newPerson();
  const { browser, page } = await signUp(stack, person);
  expect(page.url).toBe(`${stack.appUrl}/dashboard`);
  expect(textOf(page.html)).toContain(person.email);
  // Kinde sent the person back to the balancer (both instances' KINDE_SITE_URL), not to an instance.
  expect(page.chain.some((url) => url.startsWith(`${stack.appUrl}/kinde-auth/callback?`))).toBe(true);

  // Every request of the sign-up is logged: register, callback, /auth/success, /dashboard.
  await countedLogs(since, /^GET \/(kinde-auth\/(register|callback) 302|auth\/success 302|dashboard 200)/gm, 4);
  const logs = since();
  const login = logs.findIndex((log) => /^GET \/kinde-auth\/register 302/m.test(log));
  const callback = logs.findIndex((log) => /^GET \/kinde-auth\/callback 302/m.test(log));
  expect(login, logs.join("\n---\n")).toBeGreaterThanOrEqual(0);
  expect(callback, logs.join("\n---\n")).toBeGreaterThanOrEqual(0);
  expect(callback).not.toBe(login);
  expect(logs[login]).not.toMatch(/^GET \/kinde-auth\/callback/m);

  const again = logsFromNow();
  const dashboards = [await browser.get(`${stack.appUrl}/dashboard`), await browser.get(`${stack.appUrl}/dashboard`)];
  for (const dashboard of dashboards) {
    expect(dashboard.status).toBe(200);
    expect(textOf(dashboard.html)).toContain(person.email);
  }
  expect(await countedLogs(again, /^GET \/dashboard 200/gm, 2)).toEqual([1, 1]);
});

it("stores 200 concurrent sign-ups spread over both instances, with no failed request", async () => {
  const since = logsFromNow();
  const before = (await usersIn(stack.database)).length;
  const people = Array.from({ length: 200 }, () => newPerson());
  const pages = await Promise.all(people.map((person) => signUp(stack, person).then(({ page }) => page)));
  expect(pages.filter((page) => !signedUp(page)).map((page) => `${page.status} ${page.url}`)).toEqual([]);
  const rows = await usersIn(stack.database);
  expect(rows.length - before).toBe(200);
  expect(rows.filter((row) => people.some((person) => person.email === row.email))).toHaveLength(200);
  const perInstance = await countedLogs(since, /^GET \/auth\/success 302/gm, 200);
  expect(perInstance.reduce((sum, count) => sum + count, 0)).toBe(200);
  for (const count of perInstance) expect(count).toBeGreaterThanOrEqual(50);
}, 120_000);

it("gives one row for 20 parallel first sign-ins of one user across both instances", async () => {
  const person = newPerson();
  const { browser } = await signUp(stack, person);
  await stack.database.run('DELETE FROM "User" WHERE "email" = ?', person.email);
  const since = logsFromNow();
  const pages = await Promise.all(
    Array.from({ length: 20 }, () => browser.get(`${stack.appUrl}/auth/success`, { follow: false })),
  );
  expect(pages.map((page) => `${page.status} ${page.headers.get("Location")}`)).toEqual(
    Array(20).fill("302 /dashboard"),
  );
  expect(await countedLogs(since, /^GET \/auth\/success 302/gm, 20)).toEqual([10, 10]);
  expect((await usersIn(stack.database)).filter((row) => row.email === person.email)).toHaveLength(1);
});

it("applies a webhook event delivered to both instances at the same moment once", async () => {
  const person = newPerson();
  await signUp(stack, person);
  const row = (await usersIn(stack.database)).find((user) => user.email === person.email)!;
  const event = kindeEvent("user.updated", { id: row.kindeId, first_name: "Once" });
  const token = await signKindeEvent(stack, event);
  const deliveries = stack.apps.flatMap((app) =>
    Array.from({ length: 3 }, () => deliverWebhook({ appUrl: app.url }, token)),
  );
  const results = await Promise.all(deliveries);
  expect(results.map((result) => result.status)).toEqual(Array(6).fill(200));
  const outcomes = results.map((result) => (result.body as { outcome: string }).outcome);
  expect(outcomes.filter((outcome) => outcome === "updated")).toHaveLength(1);
  expect(outcomes.filter((outcome) => outcome === "duplicate")).toHaveLength(5);
  expect(
    await stack.database.query('SELECT * FROM "KindeWebhookEvent" WHERE "eventId" = ?', event.event_id),
  ).toHaveLength(1);
  expect((await usersIn(stack.database)).find((user) => user.kindeId === row.kindeId)?.firstName).toBe("Once");
});

it("answers 503 while PostgreSQL is stopped during load, and serves fully once it is back, with nothing restarted", async () => {
  const pids = stack.apps.map((app) => app.pid);
  const person = newPerson();
  const { browser } = await signUp(stack, person);
  const statuses: number[] = [];
  let stopLoad = false;
  // Four browsers asking for the dashboard as fast as they get answers, until told to stop
  // (bounded by a count as well).
  const load = inParallel(Array.from({ length: 20_000 }), 4, async () => {
    if (stopLoad) return;
    const page = await browser.get(`${stack.appUrl}/dashboard`).catch(() => undefined);
    if (!page) return;
    statuses.push(page.status);
  });
  try {
    await until(() => statuses.filter((status) => status === 200).length >= 10, 20_000, "load before");
    const servedBefore = statuses.length;
    const balancerLog = stack.balancer!.output;
    // Both instances marked: two different lines "Server app/appN is <state>" since `from`.
    const marked = (state: "DOWN" | "UP", from: number) => {
      const log = balancerLog.text().slice(from);
      return new Set(log.match(new RegExp(`Server app/app\\d is ${state}`, "g"))).size === 2;
    };
    const stoppedAt = balancerLog.text().length;
    await postgres.stop();
    const downFrom = statuses.length;
    // Down for as long as it takes the balancer to see both instances fail their health check.
    await until(() => marked("DOWN", stoppedAt), 30_000, "HAProxy to mark both instances down");
    await until(() => statuses.slice(downFrom).filter((s) => s === 503).length >= 10, 10_000, "503s");
    const startedAt = balancerLog.text().length;
    await postgres.start();
    const upFrom = statuses.length;
    const servedAgain = () => statuses.slice(upFrom).filter((s) => s === 200).length >= 10;
    await until(() => marked("UP", startedAt) && servedAgain(), 30_000, "both instances back in service");
    stopLoad = true;
    await load;
    expect(servedBefore).toBeGreaterThan(0);
    const unexpected = statuses.filter((status) => status !== 200 && status !== 503);
    expect(unexpected, "only 200s and 503s").toEqual([]);
    expect(statuses.slice(downFrom, upFrom).filter((status) => status === 200).length).toBeLessThanOrEqual(4);
  } finally {
    stopLoad = true;
    await load.catch(() => {});
    await postgres.start();
  }
  // Full service: both instances healthy again, a new person signs up, the same processes.
  for (const app of stack.apps) {
    const health = await new TestBrowser().get(`${app.url}/healthz`);
    expect(JSON.parse(health.html)).toEqual({ status: "ok", checks: { process: "ok", database: "ok" } });
  }
  const newcomer = newPerson();
  expect(signedUp((await signUp(stack, newcomer)).page)).toBe(true);
  expect((await usersIn(stack.database)).filter((row) => row.email === newcomer.email)).toHaveLength(1);
  expect(stack.apps.map((app) => app.pid)).toEqual(pids);
  expect(stack.apps.every((app) => app.child.exitCode === null)).toBe(true);
}, 120_000);

it("routes around an instance killed during load, and keeps every sign-up it answered with success", async () => {
  const people = Array.from({ length: 80 }, () => newPerson());
  const outcomes = new Map<Person, Page | Error>();
  let killed: Promise<number | null> | undefined;
  let afterKill = 0;
  await inParallel(people, 8, async (person) => {
    const result = await signUp(stack, person).then(
      ({ page }) => page,
      (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
    );
    outcomes.set(person, result);
    if (killed && result instanceof Error === false && signedUp(result)) afterKill++;
    // Once a quarter have signed up, the second instance dies without warning.
    if (!killed && outcomes.size >= people.length / 4) killed = stack.apps[1]!.stop("SIGKILL");
  });
  expect(await killed).toBeNull();
  expect(stack.apps[1]!.child.signalCode).toBe("SIGKILL");

  const succeeded = people.filter((person) => {
    const outcome = outcomes.get(person);
    return outcome !== undefined && !(outcome instanceof Error) && signedUp(outcome);
  });
  const stored = new Set((await usersIn(stack.database)).map((row) => row.email));
  expect(succeeded.filter((person) => !stored.has(person.email)).map((person) => person.email)).toEqual([]);
  // The balancer took the dead instance out and the other served the rest: sign-ups that
  // were half way through on the killed instance may fail, no more.
  expect(afterKill).toBeGreaterThan(people.length / 2);
  expect(people.length - succeeded.length).toBeLessThanOrEqual(8);
  await stack.balancer!.output.waitFor(/Server app\/app2 is DOWN/, 10_000);
  const { page } = await signUp(stack, newPerson());
  expect(signedUp(page)).toBe(true);
}, 120_000);

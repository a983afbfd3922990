// `npm run users:sync` against the stack (webhooks off: it is for what the app never heard of), and 1,200
// users listed under a tiny rate limit.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { usersIn } from "../support/database-access.ts";
import { kindeAdmin } from "../support/kinde-session.ts";
import { pickPort } from "../support/ports.ts";
import { newPerson, signUp } from "../support/sign-in.ts";
import { deleteKindeUser } from "../support/kinde-webhooks";
import type { Stack } from "../support/stack.ts";
import { useStack } from "../support/use-stack.ts";
import { inParallel } from "../support/parallel.ts";
import { runUsersSync } from "../support/npm-script.ts";

const stack = useStack({ webhooks: false });

const runSync = (args: string[] = [], env: Record<string, string> = {}, target: Stack = stack) =>
  runUsersSync(target, args, env);

const table = (target: Stack = stack) => usersIn(target.database);
const tombstones = (target: Stack = stack) =>
  target.database.query<{ kindeId: string }>("SELECT kindeId FROM DeletedKindeIdentity");

describe("npm run users:sync", () => {
  it("makes the table match Kinde, then changes nothing; a dry run writes nothing", async () => {
    const people = Array.from({ length: 6 }, () => newPerson());
    for (const person of people) await signUp(stack, person);
    const rows = await table();
    const row = (person: { email: string }) => rows.find((user) => user.email === person.email)!;
    const [missing, stale, renamed, deleted, edited] = people.map(row);

    // How the table drifts from Kinde: a row lost, a row edited behind the app's back, a
    // rename at Kinde the app did not hear about, a user deleted at Kinde, and a name the
    // person edited in the app (theirs to keep).
    await stack.database.run("DELETE FROM User WHERE kindeId = ?", missing!.kindeId);
    await stack.database.run("UPDATE User SET firstName = 'Stale', email = NULL WHERE kindeId = ?", stale!.kindeId);
    await (await kindeAdmin(stack)).updateUser(renamed!.kindeId, { given_name: "Augusta", family_name: "King" });
    await deleteKindeUser(stack, deleted!.kindeId);
    await stack.database.run(
      "UPDATE User SET firstName = 'Mine', nameEditedAt = ? WHERE kindeId = ?",
      Date.now(),
      edited!.kindeId,
    );

    const beforeDryRun = await table();
    const dry = await runSync(["--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`would create ${missing!.kindeId}`);
    expect(dry.stdout).toContain(`would update ${stale!.kindeId}: email, firstName`);
    expect(dry.stdout).toContain(`would update ${renamed!.kindeId}: firstName, lastName`);
    expect(dry.stdout).toContain(`would tombstone ${deleted!.kindeId}`);
    expect(dry.stdout).toContain("Dry run, nothing written.");
    expect(await table()).toEqual(beforeDryRun);
    expect(await tombstones()).toEqual([]);

    const first = await runSync();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/page 1: \d+ users/);
    expect(first.stdout).toMatch(/1 created, 2 updated, \d+ unchanged, 1 tombstoned/);

    // The table now matches Kinde, except the name the person owns.
    const kinde = await (await kindeAdmin(stack)).listUsers();
    const stored = await table();
    expect(stored.map((user) => user.kindeId).sort()).toEqual(kinde.map((user) => user.id).sort());
    for (const user of kinde) {
      const mine = stored.find((candidate) => candidate.kindeId === user.id)!;
      expect(mine.email).toBe(user.email);
      if (user.id === edited!.kindeId) expect(mine.firstName).toBe("Mine");
      else expect([mine.firstName, mine.lastName]).toEqual([user.first_name, user.last_name]);
    }
    expect(stored.find((user) => user.kindeId === renamed!.kindeId)).toMatchObject({ firstName: "Augusta" });
    expect(await tombstones()).toEqual([{ kindeId: deleted!.kindeId }]);

    const second = await runSync();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/0 created, 0 updated, \d+ unchanged, 0 tombstoned/);
    expect(await table()).toEqual(stored);
  });

  it("says in one line, and with a failing exit code, when the credentials are refused", async () => {
    const result = await runSync([], {
      KINDE_M2M_CLIENT_ID: "0000000000000000000000000000beef",
      KINDE_M2M_CLIENT_SECRET: "wrongsecret0123456789abcdefghijklmnopqrstuvwxyz",
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(
      /^users:sync: Kinde refused the client credentials in KINDE_M2M_CLIENT_ID\/KINDE_M2M_CLIENT_SECRET \(invalid_client\)/,
    );
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("says in one line when Kinde cannot be reached, and when the configuration is wrong", async () => {
    const unreachable = await runSync([], { KINDE_ISSUER_URL: `http://127.0.0.1:${await pickPort()}` });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.trim()).toMatch(
      /^users:sync: cannot reach Kinde at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/,
    );

    const misconfigured = await runSync([], { KINDE_M2M_CLIENT_ID: "abc" });
    expect(misconfigured.code).toBe(1);
    expect(misconfigured.stderr.trim()).toMatch(
      /^users:sync: Invalid configuration: KINDE_M2M_CLIENT_SECRET must be set too/,
    );

    const usage = await runSync(["--all"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("Usage: npm run users:sync [-- --dry-run]");
  });
});

describe("npm run users:sync with 1,200 users at Kinde", () => {
  const COUNT = 1_200;
  const big = useStack({ webhooks: false });

  /** Every row against Kinde's list: the same set of ids, and each field as Kinde has it. */
  async function expectTableToMatchKinde() {
    const kinde = await (await kindeAdmin(big)).listUsers();
    const stored = await table(big);
    expect(stored).toHaveLength(kinde.length);
    expect(new Set(stored.map((row) => row.kindeId))).toEqual(new Set(kinde.map((user) => user.id)));
    const byId = new Map(stored.map((row) => [row.kindeId, row]));
    const mismatches = kinde.filter((user) => {
      const row = byId.get(user.id)!;
      return (
        row.email !== user.email.toLowerCase() ||
        row.firstName !== (user.first_name || null) ||
        row.lastName !== (user.last_name || null) ||
        row.picture !== (user.picture || null) ||
        (row.suspendedAt !== null) !== user.is_suspended ||
        row.lastSignInAt !== null ||
        row.kindeSyncedFrom !== "users:sync"
      );
    });
    expect(mismatches).toEqual([]);
    return stored;
  }

  it("stores them all field by field, a second run changes nothing, and under a tiny rate limit it backs off and completes", async () => {
    const admin = await kindeAdmin(big);
    const run = randomUUID().slice(0, 8);
    const people = Array.from({ length: COUNT }, (_, i) => ({
      email: `sync-${run}-${i}@example.com`,
      givenName: `Person ${i}`,
      // Some without a last name or with a picture, so those fields are compared too.
      familyName: i % 7 === 0 ? undefined : `Listed-${i}`,
      picture: i % 5 === 0 ? `https://example.com/pictures/${i}.png` : undefined,
    }));
    const ids = await inParallel(people, 6, (person) => admin.createUser(person));
    for (const id of [ids[3]!, ids[600]!, ids[COUNT - 1]!]) await admin.updateUser(id, { is_suspended: true });
    expect(await table(big)).toEqual([]);

    const first = await runSync([], {}, big);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(
      `${COUNT} Kinde users in 3 page(s): ${COUNT} created, 0 updated, 0 unchanged, 0 tombstoned.`,
    );
    const stored = await expectTableToMatchKinde();
    expect(stored.filter((row) => row.suspendedAt !== null)).toHaveLength(3);
    expect(stored.filter((row) => row.picture !== null)).toHaveLength(COUNT / 5);
    expect(stored.filter((row) => row.lastName === null)).toHaveLength(Math.ceil(COUNT / 7));

    const second = await runSync([], {}, big);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(
      `${COUNT} Kinde users in 3 page(s): 0 created, 0 updated, ${COUNT} unchanged, 0 tombstoned.`,
    );
    expect(await table(big)).toEqual(stored);

    // Kinde changes that nobody told the app about, then one Management API request per client
    // every 2 s. The two deletions are confirmed one request right after the other (GET
    // /api/v1/user?id=), so the second one gets a 429 however fast or slow the machine is.
    await admin.deleteUser(ids[10]!);
    await admin.deleteUser(ids[11]!);
    await admin.updateUser(ids[12]!, { given_name: "Renamed" });
    await big.restartKinde({ apiRateLimit: { requests: 1, windowSeconds: 2 } });
    const limited = await runSync([], {}, big);
    expect(limited.code, limited.stderr).toBe(0);
    expect(limited.stdout).toMatch(/Kinde rate limited \(429\) for .+: waiting [12] s \(retry 1 of \d+\)/);
    expect(limited.stdout).toContain(
      `${COUNT - 2} Kinde users in 3 page(s): 0 created, 1 updated, ${COUNT - 3} unchanged, 2 tombstoned.`,
    );
    expect(big.kindeLog()).toMatch(/^GET \/api\/v1\/user 429 /m);
    await big.restartKinde();
    await expectTableToMatchKinde();
    expect((await tombstones(big)).map((row) => row.kindeId).sort()).toEqual([ids[10]!, ids[11]!].sort());
  }, 180_000);
});

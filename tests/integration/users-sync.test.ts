/**
 * `npm run users:sync` as a person runs it, against the local Kinde server (started in this
 * process by the stack) and the stack's database: the table ends matching Kinde's user list,
 * a second run changes nothing, a dry run writes nothing, bad configuration is one line.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kindeAdmin, newPerson, queryDatabase, runSql, signUp } from "../support/flows";
import { deleteKindeUser } from "../support/kinde-webhooks";
import { startStack, type Stack } from "../../stack";
import { appEnv, TEST_CLIENT_ID, TEST_CLIENT_SECRET } from "../support/test-env";

let stack: Stack;
beforeAll(async () => {
  // The drift users:sync exists for: changes at Kinde the app never heard of.
  stack = await startStack({ webhooks: false });
});
afterAll(async () => {
  await stack?.stop();
});

/** package.json's users:sync script, run without npm (its command is `tsx <file>`). */
function runSync(args: string[] = [], env: Record<string, string> = {}) {
  const script = (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> }).scripts[
    "users:sync"
  ]!;
  const [command, ...scriptArgs] = script.split(" ");
  // Asynchronously: the local Kinde server answering it runs in this process.
  const child = spawn(`node_modules/.bin/${command}`, [...scriptArgs!, ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      NODE_ENV: "test",
      ...appEnv({ siteUrl: stack.appUrl, issuerUrl: stack.issuerUrl, databaseFile: stack.databaseFile }),
      ...env,
    },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
}

interface Row {
  kindeId: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  nameEditedAt: string | number | null;
}

const table = () => queryDatabase<Row & Record<string, unknown>>(stack.databaseFile, "SELECT * FROM User ORDER BY id");
const tombstones = () =>
  queryDatabase<{ kindeId: string }>(stack.databaseFile, "SELECT kindeId FROM DeletedKindeIdentity");

/** Kinde's own list, through its Management API. */
async function kindeUsers() {
  const token = (await (
    await fetch(`${stack.issuerUrl}/oauth2/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: TEST_CLIENT_ID,
        client_secret: TEST_CLIENT_SECRET,
        audience: `${stack.issuerUrl}/api`,
      }),
    })
  ).json()) as { access_token: string };
  const response = await fetch(`${stack.issuerUrl}/api/v1/users?page_size=500`, {
    headers: { Authorization: `Bearer ${token.access_token}` },
  });
  const { users } = (await response.json()) as {
    users: { id: string; email: string; first_name: string | null; last_name: string | null }[];
  };
  return users;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("npm run users:sync", () => {
  it("makes the table match Kinde, then changes nothing; a dry run writes nothing", async () => {
    const people = Array.from({ length: 6 }, () => newPerson());
    for (const person of people) await signUp(stack, person);
    const row = (person: { email: string }) => table().find((user) => user.email === person.email)!;
    const [missing, stale, renamed, deleted, edited] = people.map(row);

    // How the table drifts from Kinde: a row lost, a row edited behind the app's back, a
    // rename at Kinde the app did not hear about, a user deleted at Kinde, and a name the
    // person edited in the app (theirs to keep).
    runSql(stack.databaseFile, "DELETE FROM User WHERE kindeId = ?", missing!.kindeId);
    runSql(stack.databaseFile, "UPDATE User SET firstName = 'Stale', email = NULL WHERE kindeId = ?", stale!.kindeId);
    await (await kindeAdmin(stack)).updateUser(renamed!.kindeId, { given_name: "Augusta", family_name: "King" });
    await deleteKindeUser(stack, deleted!.kindeId);
    runSql(
      stack.databaseFile,
      "UPDATE User SET firstName = 'Mine', nameEditedAt = ? WHERE kindeId = ?",
      Date.now(),
      edited!.kindeId,
    );

    const beforeDryRun = table();
    const dry = await runSync(["--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`would create ${missing!.kindeId}`);
    expect(dry.stdout).toContain(`would update ${stale!.kindeId}: email, firstName`);
    expect(dry.stdout).toContain(`would update ${renamed!.kindeId}: firstName, lastName`);
    expect(dry.stdout).toContain(`would tombstone ${deleted!.kindeId}`);
    expect(dry.stdout).toContain("Dry run, nothing written.");
    expect(table()).toEqual(beforeDryRun);
    expect(tombstones()).toEqual([]);

    const first = await runSync();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/page 1: \d+ users/);
    expect(first.stdout).toMatch(/1 created, 2 updated, \d+ unchanged, 1 tombstoned/);

    // The table now matches Kinde, except the name the person owns.
    const kinde = await kindeUsers();
    const stored = table();
    expect(stored.map((user) => user.kindeId).sort()).toEqual(kinde.map((user) => user.id).sort());
    for (const user of kinde) {
      const mine = stored.find((candidate) => candidate.kindeId === user.id)!;
      expect(mine.email).toBe(user.email);
      if (user.id === edited!.kindeId) expect(mine.firstName).toBe("Mine");
      else expect([mine.firstName, mine.lastName]).toEqual([user.first_name, user.last_name]);
    }
    expect(stored.find((user) => user.kindeId === renamed!.kindeId)).toMatchObject({ firstName: "Augusta" });
    expect(tombstones()).toEqual([{ kindeId: deleted!.kindeId }]);

    const second = await runSync();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/0 created, 0 updated, \d+ unchanged, 0 tombstoned/);
    expect(table()).toEqual(stored);
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
    const unreachable = await runSync([], { KINDE_ISSUER_URL: `http://127.0.0.1:${await closedPort()}` });
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

/** `npm run db:users`: the stored users through the app's own Prisma client, as a table or JSON. */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { ROOT } from "../support/app-process";
import { freshDatabaseFile } from "../support/databases";
import { applyKindeUserFacts, upsertUserFromKinde } from "~/models/user.server";

const run = promisify(execFile);

/** The command of package.json's db:users script, run the way npm runs it. */
function dbUsers(args: string[] = [], env: Record<string, string> = {}) {
  return run("npx", ["tsx", "scripts/db-users.ts", ...args], { cwd: ROOT, env: { ...process.env, ...env } });
}

it("prints every stored user: Kinde id, email, names, created, last sign-in, suspended", async () => {
  const ada = "kp_0000000000000000000000000000aaaa";
  const long = "kp_0000000000000000000000000000bbbb";
  const grace = "kp_0000000000000000000000000000cccc";
  const signedIn = new Date("2026-11-29T10:15:00Z");
  await upsertUserFromKinde(
    { id: ada, email: "ada@example.com", given_name: "Ada", family_name: "Lovelace" },
    signedIn,
  );
  const longName = "Maximiliane Theodora Wilhelmina Konstanze";
  await upsertUserFromKinde({ id: long, email: null, given_name: longName }, signedIn);
  await applyKindeUserFacts({
    kindeId: grace,
    observedAt: new Date("2026-11-29T11:00:00Z"),
    source: "users:sync",
    profile: { email: "grace@example.com", firstName: "Grace", lastName: null, suspended: true },
    createIfMissing: true,
  });

  const { stdout } = await dbUsers();
  const lines = stdout.trimEnd().split("\n");
  expect(lines[0]).toMatch(
    /^Kinde id +Email +First name +Last name +Created \(UTC\) +Last sign-in \(UTC\) +Suspended$/,
  );
  const row = (kindeId: string) => lines.find((line) => line.startsWith(kindeId)) ?? "";
  expect(row(ada)).toMatch(/ada@example\.com +Ada +Lovelace +\d{4}-\d\d-\d\d \d\d:\d\d +2026-11-29 10:15 +no$/);
  // A long name is cut to the column, with an ellipsis; no email and no last name show as "-".
  expect(row(long)).toMatch(/^kp_\w+ +- +Maximiliane Theodora Wi… +- /);
  expect(row(grace)).toMatch(/grace@example\.com +Grace +- +.* never +since 2026-11-29 11:00$/);
  expect(lines.at(-1)).toBe("3 users");

  const json = JSON.parse((await dbUsers(["--json"])).stdout) as Record<string, unknown>[];
  expect(json).toHaveLength(3);
  expect(json.find((user) => user.kindeId === long)).toMatchObject({
    email: null,
    firstName: longName,
    lastName: null,
    lastSignInAt: signedIn.toISOString(),
    suspendedAt: null,
  });
  expect(json.find((user) => user.kindeId === grace)).toMatchObject({
    lastSignInAt: null,
    suspendedAt: "2026-11-29T11:00:00.000Z",
  });
});

it("says so when nobody is stored yet", async () => {
  const { stdout } = await dbUsers([], { DATABASE_URL: `file:${await freshDatabaseFile()}` });
  expect(stdout).toContain("No users stored yet");
});

it("refuses an unknown argument with the usage", async () => {
  await expect(dbUsers(["--csv"])).rejects.toMatchObject({
    code: 2,
    stderr: expect.stringContaining("Usage: npm run db:users"),
  });
});

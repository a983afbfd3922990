// A package.json script (users:sync, org:add-member), run without npm (its command is `tsx <file>`), against a
// stack's Kinde and database.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Stack } from "./stack.ts";
import { appEnv } from "./test-env.ts";

export function runScript(target: Stack, script: string, args: string[] = [], env: Record<string, string> = {}) {
  const { scripts } = JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> };
  const [command, ...scriptArgs] = scripts[script]!.split(" ");
  const fullEnv = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    NODE_ENV: "test" as const,
    ...appEnv({ siteUrl: target.appUrl, issuerUrl: target.issuerUrl, databaseFile: "" }),
    DATABASE_URL: target.databaseUrl,
    ...env,
  };
  // Asynchronously: the local Kinde server answering it runs in this process.
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      `node_modules/.bin/${command}`,
      [...scriptArgs, ...args],
      { env: fullEnv },
      (_, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

export const runUsersSync = (target: Stack, args: string[] = [], env: Record<string, string> = {}) =>
  runScript(target, "users:sync", args, env);

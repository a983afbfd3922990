/**
 * `npm start` refuses a production configuration that is not safe (server/config.ts), and a
 * local production try with .env.example's values still starts.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { EXAMPLE_SECRETS } from "../../server/config.ts";
import { baseEnv, ROOT, scriptArgs } from "../support/app-process.ts";
import { startStack } from "../support/stack.ts";
import { appEnv } from "../support/test-env";

function runServer(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      scriptArgs("production"),
      { cwd: ROOT, env: baseEnv(env) },
      (_, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

it("refuses example secrets and the local Kinde server for a real site: one message, no stack trace", async () => {
  const workDir = mkdtempSync(join(tmpdir(), "rkp-unsafe-"));
  try {
    const databaseFile = join(workDir, "never-created.db");
    const { code, stdout, stderr } = await runServer({
      ...appEnv({ siteUrl: "https://app.example.com", issuerUrl: "http://localhost:3001", databaseFile }),
      ...EXAMPLE_SECRETS,
      KINDE_LOCAL_DATA_DIR: join(workDir, "kinde"),
    });
    expect(code).toBe(1);
    expect(stdout).toBe("");
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Refusing to start in production \(KINDE_SITE_URL=https:\/\/app\.example\.com\): /);
    for (const name of ["SESSION_SECRET", "KINDE_CLIENT_SECRET", "KINDE_LOCAL_START"]) expect(lines[0]).toContain(name);
    expect(stderr).not.toMatch(/\n\s+at /);
    // Refused before anything ran: no migration, no local Kinde server.
    expect(existsSync(databaseFile)).toBe(false);
    expect(existsSync(join(workDir, "kinde"))).toBe(false);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
});

it("starts a local production try with .env.example's secrets and the local Kinde server", async () => {
  const stack = await startStack({ kinde: "child", env: { ...EXAMPLE_SECRETS } });
  try {
    expect((await fetch(`${stack.appUrl}/healthz`)).status).toBe(200);
  } finally {
    await stack.stop();
  }
});

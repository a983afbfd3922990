/**
 * A second, short-lived stack for the one test that needs a server nobody has used yet
 * (cold-start.spec.ts). Same script as the suite's stack, its own ports and directory.
 */
import { expect } from "@playwright/test";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePorts } from "./ports";

export interface PrivateStack {
  baseUrl: string;
  kindeUrl: string;
  databaseFile: string;
  stop: () => Promise<void>;
}

export async function startPrivateStack(): Promise<PrivateStack> {
  const [appPort, kindePort] = await freePorts(2);
  const stateDir = join(tmpdir(), `rkp-e2e-private-${randomUUID().slice(0, 8)}`);
  const databaseFile = join(stateDir, "app.db");
  let output = "";
  const child = spawn(process.execPath, ["--import", "tsx", resolve("tests/e2e/support/serve.ts")], {
    env: {
      ...process.env,
      E2E_APP_PORT: String(appPort),
      E2E_KINDE_PORT: String(kindePort),
      E2E_STATE_DIR: stateDir,
      E2E_DATABASE_FILE: databaseFile,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolveExit) => child.once("exit", () => resolveExit()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };

  const baseUrl = `http://localhost:${appPort}`;
  try {
    // Only "/" is asked: it loads no Kinde code, so the server stays cold for the test.
    await expect
      .poll(
        async () => {
          if (child.exitCode !== null) throw new Error(`the private stack exited:\n${output}`);
          return fetch(`${baseUrl}/`).then(
            (response) => response.status,
            () => 0,
          );
        },
        { timeout: 60_000, message: "the private stack did not answer" },
      )
      .toBe(200);
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl, kindeUrl: `http://localhost:${kindePort}`, databaseFile, stop };
}

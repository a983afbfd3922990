/**
 * What `npm start` runs: one server process, with the local Kinde server as its child when
 * KINDE_LOCAL_START allows, stopped with it. Reads /proc, so Linux only.
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { startStack } from "../support/stack.ts";

const childrenOf = (pid: number) =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
    .split(" ")
    .filter(Boolean)
    .map((child) => ({ pid: Number(child), command: readFileSync(`/proc/${child}/cmdline`, "utf8") }));

describe.runIf(process.platform === "linux")("npm start's processes", () => {
  it("start the local Kinde server for a local issuer, tell it where webhooks go, and stop it on SIGTERM", async () => {
    const stack = await startStack({ kinde: "child" });
    try {
      const [kinde, ...others] = childrenOf(stack.app.pid);
      expect(others).toEqual([]);
      expect(kinde?.command).toContain("kinde-local/main.ts");
      const environment = readFileSync(`/proc/${kinde!.pid}/environ`, "utf8").split("\0");
      expect(environment).toContain(`KINDE_LOCAL_WEBHOOK_URLS=${stack.appUrl}/webhooks/kinde`);
      expect((await fetch(`${stack.issuerUrl}/.well-known/openid-configuration`)).status).toBe(200);

      expect(await stack.stopApp("SIGTERM")).toBe(0);
      expect(existsSync(`/proc/${kinde!.pid}`)).toBe(false);
      await expect(fetch(`${stack.issuerUrl}/.well-known/openid-configuration`)).rejects.toThrow();
    } finally {
      await stack.stop();
    }
  });

  it("start nothing beside the server when KINDE_LOCAL_START is false", async () => {
    const stack = await startStack({ env: { KINDE_LOCAL_START: "false" } });
    try {
      expect(childrenOf(stack.app.pid)).toEqual([]);
    } finally {
      await stack.stop();
    }
  });
});

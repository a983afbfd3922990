// The production server's files (in this process): hashed assets cached for good, public/ for an hour.
import { readdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createAppServer, type AppServer } from "../../server/app";

let app: AppServer;
let origin: string;
beforeAll(async () => {
  app = await createAppServer("production", () => {});
  await new Promise<void>((resolve) => app.server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  app.server.closeAllConnections();
  await new Promise((resolve) => app.server.close(resolve));
  await app.closeTools();
});

it("serves the build's hashed assets as immutable for a year", async () => {
  const stylesheet = readdirSync("build/client/assets").find((file) => file.endsWith(".css"))!;
  const response = await fetch(`${origin}/assets/${stylesheet}`);
  expect(response.status).toBe(200);
  expect(response.headers.get("Content-Type")).toMatch(/^text\/css/);
  expect(response.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
  expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
});

it("serves public/'s files for an hour, not forever: their names stay when they change", async () => {
  const response = await fetch(`${origin}/favicon.svg`);
  expect(response.status).toBe(200);
  expect(response.headers.get("Content-Type")).toMatch(/^image\/svg\+xml/);
  expect(response.headers.get("Cache-Control")).toBe("public, max-age=3600");
  expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
});

it("leaves paths that are not files to the app: a missing file and a folder are pages that do not exist", async () => {
  for (const path of ["/missing.png", "/assets", "/assets/missing.js"]) {
    const response = await fetch(`${origin}${path}`, { redirect: "manual", headers: { accept: "text/html" } });
    expect(response.status, path).toBe(404);
    expect(await response.text(), path).toContain("Page not found");
  }
});

/**
 * `npm run dev` runs the same server as `npm start`, with Vite in it: the guards, the request
 * log and the keep-alive handling are the production ones, and the first page load does not
 * reload itself while Vite pre-bundles dependencies. The stack gets a Vite cache of its own,
 * so that first load really is the first (a cold cache, as in a fresh clone).
 */
import { chromium } from "@playwright/test";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack.ts";
import { launchOptions } from "../support/chromium";
import { overOneConnection } from "../support/http";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ mode: "development" });
});
afterAll(async () => {
  await stack?.stop();
});

const documentLoads = (log: string, path: string) =>
  log.split("\n").filter((line) => line.startsWith(`GET ${path} `)).length;

it("loads the first page once: no reload while Vite optimizes dependencies", async () => {
  const browser = await chromium.launch(launchOptions);
  try {
    const page = await browser.newPage();
    const documents: string[] = [];
    const modules: string[] = [];
    page.on("request", (request) => {
      if (request.resourceType() === "document") documents.push(request.url());
      else modules.push(request.url());
    });
    await page.goto(`${stack.appUrl}/`);
    await page.waitForFunction(() => {
      const main = document.getElementById("main");
      return "__remixRouter" in window && main !== null && Object.keys(main).some((key) => key.startsWith("__react"));
    });

    // A dependency Vite finds late (rendering the page makes it look at every route) is
    // bundled again, and Vite then reloads the open pages. A request for a bundle still in the
    // making is answered once it is done, and Vite decides on the reload before that: so once
    // these answer, its decision is in the log, before the line of the request made next.
    const deps = modules.find((url) => url.includes("/deps/"))?.replace(/\/deps\/.*$/, "/deps/");
    expect(deps, "the page loads Vite's pre-bundled dependencies").toBeDefined();
    const { dependencies } = JSON.parse(readFileSync("package.json", "utf8")) as {
      dependencies: Record<string, string>;
    };
    await Promise.all(Object.keys(dependencies).map((name) => fetch(`${deps}${name.replaceAll("/", "_")}.js`)));
    await fetch(`${stack.appUrl}/healthz`);
    await stack.waitForLog("GET /healthz ");

    expect(stack.appLog()).not.toMatch(/optimized dependencies changed|reloading/);
    expect(documentLoads(stack.appLog(), "/")).toBe(1);
    expect(documents).toEqual([`${stack.appUrl}/`]);
  } finally {
    await browser.close();
  }
});

it("refuses odd methods with 405, as in production", async () => {
  const response = await fetch(`${stack.appUrl}/dashboard`, { method: "PUT" });
  expect(response.status).toBe(405);
  expect(response.headers.get("Allow")).toBe("GET, HEAD, POST");
});

it("answers a body too large with 413 and keeps the connection usable for the next request", async () => {
  const [refused, next] = await overOneConnection(stack.appUrl, [
    {
      method: "POST",
      path: "/dashboard",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: stack.appUrl },
      body: Buffer.alloc(200_000, "a"),
    },
    { method: "GET", path: "/" },
  ]);
  expect(refused?.status).toBe(413);
  expect(next).toMatchObject({ status: 200, reusedSocket: true });
  expect(next?.body).toContain("<html");
});

it("refuses a cross-site form post with 403", async () => {
  const response = await fetch(`${stack.appUrl}/dashboard?index`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: "https://evil.example" },
    body: "intent=update-profile&firstName=Mallory",
  });
  expect(response.status).toBe(403);
});

it("logs the path of each request, never its query string", async () => {
  await fetch(`${stack.appUrl}/kinde-auth/callback?code=secret-code-123&state=abc`, { redirect: "manual" });
  await stack.waitForLog("GET /kinde-auth/callback ");
  expect(stack.appLog()).not.toContain("secret-code-123");
});

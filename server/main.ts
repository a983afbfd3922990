/**
 * Serves the production build: `npm run build`, then `npm start` (which runs this after
 * checking the configuration and migrating). Listens on PORT (default 3000), HOST optional.
 *
 * On SIGTERM/SIGINT it stops taking connections, lets the requests in flight finish, and
 * exits 0 once the event loop is empty; app/lib/db.server.ts disconnects Prisma then.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { ServerBuild } from "@remix-run/node";
import { createAppServer } from "./app-server.ts";

const SHUTDOWN_GRACE_MS = 10_000;

const buildPath = resolve(process.argv[2] ?? "build/server/index.js");
if (!existsSync(buildPath)) {
  console.error(`${buildPath} is missing: run \`npm run build\` first.`);
  process.exit(1);
}

process.env.NODE_ENV ??= "production";
const build = (await import(pathToFileURL(buildPath).href)) as ServerBuild;
const app = createAppServer({ build, mode: process.env.NODE_ENV });
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST;

const server = host ? app.listen(port, host, onListen) : app.listen(port, onListen);
function onListen() {
  console.log(`[server] http://localhost:${port}`);
}

let stopping = false;
function shutdown(signal: NodeJS.Signals) {
  if (stopping) return;
  stopping = true;
  console.log(`[server] ${signal}: finishing requests in flight, then exiting`);
  server.close((error) => {
    if (error) console.error(`[server] close failed: ${error.message}`);
    process.exitCode = error ? 1 : 0;
  });
  // Keep-alive connections with no request in flight would hold close() open.
  server.closeIdleConnections();
  setTimeout(() => {
    console.error("[server] requests still running after the grace period; closing them");
    server.closeAllConnections();
  }, SHUTDOWN_GRACE_MS).unref();
}
process.once("SIGTERM", () => shutdown("SIGTERM"));
process.once("SIGINT", () => shutdown("SIGINT"));

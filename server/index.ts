/**
 * The app server, one Node process: `npm start` runs it compiled (build/node/server/index.js)
 * on the production build, `npm run dev` from source with `--dev` on Vite. It checks the
 * configuration, applies migrations, starts the local Kinde server beside it when
 * KINDE_LOCAL_START allows, then listens on PORT (default: KINDE_SITE_URL's port), HOST optional.
 *
 * On SIGTERM/SIGINT it stops taking connections, lets the requests in flight finish, stops
 * the local Kinde server, and exits 0 once the event loop is empty (app/lib/db.server.ts
 * disconnects Prisma then).
 */
import { existsSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { EnvError, ensureEnvFile, listenPort, loadConfig, localKindeWanted, type Env } from "./config.ts";
import { migrate } from "./migrate.ts";
import { startLocalKinde, type KindeChild } from "./kinde-local.ts";
import { createAppServer, SERVER_BUILD, type Mode } from "./app.ts";

const SHUTDOWN_GRACE_MS = 10_000;

let kinde: KindeChild | undefined;
function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

const mode: Mode = process.argv.includes("--dev") ? "development" : "production";
process.env.NODE_ENV = mode;
if (mode === "development") ensureEnvFile();

let env: Env;
let port: number;
let withLocalKinde: boolean;
try {
  env = loadConfig();
  port = listenPort(env);
  withLocalKinde = localKindeWanted(env.KINDE_ISSUER_URL);
} catch (error) {
  if (error instanceof EnvError) fail(error.message);
  throw error;
}
if (mode === "production" && !existsSync(SERVER_BUILD))
  fail(`${SERVER_BUILD} is missing: run \`npm run build\` first.`);

if (withLocalKinde) {
  kinde = startLocalKinde({
    ...process.env,
    KINDE_LOCAL_WEBHOOK_URLS: process.env.KINDE_LOCAL_WEBHOOK_URLS || `${env.KINDE_SITE_URL}/webhooks/kinde`,
  });
}
let app: Awaited<ReturnType<typeof createAppServer>>;
try {
  await Promise.all([migrate(env.DATABASE_URL), kinde?.ready]);
  app = await createAppServer(mode);
} catch (error) {
  await kinde?.stop();
  fail(`[server] ${error instanceof Error ? error.message : String(error)}`);
}
const { server, closeTools } = app;
const host = process.env.HOST;
server.once("error", (error) => {
  void kinde?.stop().finally(() => fail(`[server] cannot listen on port ${port}: ${error.message}`));
});
const onListening = () => {
  console.log(`[server] http://localhost:${port}`);
  if (mode === "development") console.log(`\n  Ready: open ${env.KINDE_SITE_URL} and sign up.\n`);
};
if (host) server.listen(port, host, onListening);
else server.listen(port, onListening);

// The answers being written, so a shutdown can tell their connections to close after them.
const inFlight = new Set<ServerResponse>();
server.on("request", (_request, response: ServerResponse) => {
  inFlight.add(response);
  response.once("close", () => inFlight.delete(response));
});

let stopping = false;
function shutdown(reason: string, exitCode = 0) {
  if (stopping) return;
  stopping = true;
  console.log(`[server] ${reason}: finishing requests in flight, then exiting`);
  process.exitCode = exitCode;
  server.close((error) => {
    if (error) console.error(`[server] close failed: ${error.message}`);
    if (error) process.exitCode = 1;
    void closeTools();
  });
  // Keep-alive connections with no request in flight would hold close() open; a busy one
  // closes after its current answer, and any request still sent on it is answered and closes it.
  server.closeIdleConnections();
  for (const response of inFlight) if (!response.headersSent) response.setHeader("Connection", "close");
  server.prependListener("request", (_request, response) => response.setHeader("Connection", "close"));
  void kinde?.stop();
  setTimeout(() => {
    console.error("[server] requests still running after the grace period; closing them");
    server.closeAllConnections();
  }, SHUTDOWN_GRACE_MS).unref();
}
process.once("SIGTERM", () => shutdown("SIGTERM"));
process.once("SIGINT", () => shutdown("SIGINT"));
kinde?.child.once("exit", (code, signal) => {
  if (!stopping) shutdown(`the local Kinde server exited (${signal ?? `code ${code}`})`, 1);
});

/** The app server, one Node process (docs/decisions/0010-own-server.md): `npm start` runs it compiled, `npm run dev` with `--dev`. */
import { existsSync } from "node:fs";
import { gracefulClose } from "../common/http-lifecycle.ts";
import { EnvError, ensureEnvFile, listenPort, loadConfig, localKindeWanted, type Env } from "./config.ts";
import { migrate } from "./migrate.ts";
import { startLocalKinde, type KindeChild } from "./kinde-local.ts";
import { createAppServer, SERVER_BUILD, type AppServer, type Mode } from "./app.ts";

const SHUTDOWN_GRACE_MS = 10_000;

interface StartConfig {
  env: Env;
  port: number;
  withLocalKinde: boolean;
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

function checkedConfig(mode: Mode): StartConfig {
  process.env.NODE_ENV = mode;
  if (mode === "development") ensureEnvFile();
  let config: StartConfig;
  try {
    const env = loadConfig();
    config = { env, port: listenPort(env), withLocalKinde: localKindeWanted(env.KINDE_ISSUER_URL) };
  } catch (error) {
    if (error instanceof EnvError) fail(error.message);
    throw error;
  }
  if (mode === "production" && !existsSync(SERVER_BUILD))
    fail(`${SERVER_BUILD} is missing: run \`npm run build\` first.`);
  return config;
}

function startKindeChild(env: Env): KindeChild {
  return startLocalKinde({
    ...process.env,
    KINDE_LOCAL_WEBHOOK_URLS: process.env.KINDE_LOCAL_WEBHOOK_URLS || `${env.KINDE_SITE_URL}/webhooks/kinde`,
  });
}

async function prepareApp(mode: Mode, env: Env, kinde: KindeChild | undefined): Promise<AppServer> {
  try {
    await Promise.all([migrate(env.DATABASE_URL), kinde?.ready]);
    return await createAppServer(mode);
  } catch (error) {
    await kinde?.stop();
    fail(`[server] ${error instanceof Error ? error.message : String(error)}`);
  }
}

function listen(mode: Mode, { server }: AppServer, { env, port }: StartConfig, kinde: KindeChild | undefined): void {
  server.once("error", (error) => {
    void kinde?.stop().finally(() => fail(`[server] cannot listen on port ${port}: ${error.message}`));
  });
  const onListening = () => {
    console.log(`[server] http://localhost:${port}`);
    if (mode === "development") console.log(`\n  Ready: open ${env.KINDE_SITE_URL} and sign up.\n`);
  };
  if (process.env.HOST) server.listen(port, process.env.HOST, onListening);
  else server.listen(port, onListening);
}

/**
 * On SIGTERM/SIGINT, or when the local Kinde server dies: finish every request in flight (some
 * wait on the local Kinde server), then stop the local Kinde server; the database disconnects
 * once the event loop is empty (app/lib/database/client.server.ts). docs/decisions/0023-safe-by-default-in-production.md
 */
function stopOnSignals({ server, closeTools }: AppServer, kinde: KindeChild | undefined): void {
  const closeServer = gracefulClose(server, {
    graceMs: SHUTDOWN_GRACE_MS,
    onGraceExpired: () => console.error("[server] requests still running after the grace period; closing them"),
  });
  let stopping = false;
  const shutdown = async (reason: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    process.exitCode = exitCode;
    const closed = closeServer();
    console.log(`[server] ${reason}: finishing requests in flight, then exiting`);
    await closed;
    await closeTools();
    if (kinde) {
      await kinde.stop();
      console.log("[server] local Kinde server stopped");
    }
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
  kinde?.child.once("exit", (code, signal) => {
    if (!stopping) void shutdown(`the local Kinde server exited (${signal ?? `code ${code}`})`, 1);
  });
}

const mode: Mode = process.argv.includes("--dev") ? "development" : "production";
const config = checkedConfig(mode);
const kinde = config.withLocalKinde ? startKindeChild(config.env) : undefined;
const app = await prepareApp(mode, config.env, kinde);
stopOnSignals(app, kinde);
listen(mode, app, config, kinde);

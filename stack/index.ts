/**
 * A whole stack for a test file, the browser tests or the benchmark: the app started as
 * `npm start` (or `npm run dev`) starts it, a migrated throwaway database, and the local Kinde
 * server, either in this process (tests: they can stop it alone and read its key) or as the
 * app's own child, exactly as `npm start` runs it. Nothing is shared with other stacks or
 * with the developer's data.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKindeLocalServer, type KindeLocalServer, type KindeLocalServerOptions } from "../kinde-local/server.ts";
import { appEnv, TEST_CLIENT_ID, TEST_CLIENT_SECRET } from "../tests/support/test-env.ts";
import { baseEnv, ROOT, startApp, type AppMode, type AppProcess } from "./app.ts";
import { freshDatabaseFile } from "./database.ts";
import { pickPorts, PortTaken } from "./ports.ts";
import type { OutputOptions } from "./ready.ts";

export { TestBrowser, linkHref, textOf, type Page } from "./browser.ts";
export { pickPort, pickPorts } from "./ports.ts";
export { freshDatabaseFile } from "./database.ts";

export interface Stack {
  appUrl: string;
  issuerUrl: string;
  databaseFile: string;
  /** The local Kinde server's data folder (its signing key is in signing-key.json). */
  kindeDataDir: string;
  /** Stops only the Kinde server: the app then finds its issuer unreachable (in-process Kinde only). */
  stopKinde: () => Promise<void>;
  /** The app's output so far (stdout and stderr), for assertions on logs. */
  appLog: () => string;
  /** Resolves when the app's output contains `text` (event-driven, no polling). */
  waitForLog: (text: string | RegExp, timeoutMs?: number) => Promise<void>;
  /** Stops the app and the Kinde server, and removes the stack's files. */
  stop: () => Promise<void>;
  stopApp: (signal?: NodeJS.Signals) => Promise<number | null>;
  app: AppProcess;
}

export interface StackOptions {
  /** `production` (default): `npm start`'s command on the build; `development`: `npm run dev`'s. */
  mode?: AppMode;
  /** `in-process` (default) or `child`: started by the app itself, as `npm start` does. */
  kinde?: "in-process" | "child";
  ttl?: { access?: number; id?: number; refresh?: number };
  /** More applications at the local Kinde server besides the app's own (in-process Kinde only). */
  kindeApplications?: KindeLocalServerOptions["applications"];
  /** Extra variables for the app (they win over the stack's). */
  env?: Record<string, string>;
  /** Called with the fresh database file before the app starts (to break it on purpose). */
  prepareDatabase?: (file: string) => void;
  /** Fixed ports (the browser tests' config names them first); picked when unset. */
  ports?: { app: number; kinde: number };
  nodeFlags?: string[];
  output?: OutputOptions;
  /** Leave the database and the Kinde data in place after stop(). */
  keepFiles?: boolean;
}

const LONG_TTL = { access: 86_400, id: 3_600, refresh: 1_296_000 };

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStackOnce(options);
    } catch (error) {
      if (!(error instanceof PortTaken) || options.ports || attempt >= 5) throw error;
    }
  }
}

async function startStackOnce(options: StackOptions): Promise<Stack> {
  const [appPort = 0, kindePort = 0] = options.ports ? [options.ports.app, options.ports.kinde] : await pickPorts(2);
  const appUrl = `http://localhost:${appPort}`;
  const workDir = mkdtempSync(join(tmpdir(), "rkp-stack-"));
  const kindeDataDir = join(workDir, "kinde");
  const ttl = { ...LONG_TTL, ...options.ttl };
  const databaseFile = await freshDatabaseFile(workDir, ROOT);
  options.prepareDatabase?.(databaseFile);

  let kinde: KindeLocalServer | undefined;
  let issuerUrl = `http://localhost:${kindePort}`;
  const kindeEnv: Record<string, string> = { KINDE_LOCAL_START: "false" };
  if (options.kinde === "child") {
    Object.assign(kindeEnv, {
      KINDE_LOCAL_START: "auto",
      KINDE_LOCAL_DATA_DIR: kindeDataDir,
      KINDE_LOCAL_ACCESS_TOKEN_TTL: String(ttl.access),
      KINDE_LOCAL_ID_TOKEN_TTL: String(ttl.id),
      KINDE_LOCAL_REFRESH_TOKEN_TTL: String(ttl.refresh),
    });
  } else {
    kinde = await createKindeLocalServer({
      issuer: "http://localhost:0",
      port: 0,
      clientId: TEST_CLIENT_ID,
      clientSecret: TEST_CLIENT_SECRET,
      siteUrl: appUrl,
      dataDir: kindeDataDir,
      configPath: join(ROOT, "kinde-local/config.json"),
      ttl,
      applications: options.kindeApplications,
      log: () => {},
    });
    issuerUrl = kinde.url;
  }
  let kindeStopped: Promise<void> | undefined;
  const stopKinde = () => (kindeStopped ??= kinde ? kinde.close() : Promise.reject(new Error("Kinde runs in the app")));

  let app: AppProcess;
  try {
    app = await startApp({
      mode: options.mode,
      port: appPort,
      env: baseEnv({
        ...appEnv({ siteUrl: appUrl, issuerUrl, databaseFile }),
        ...kindeEnv,
        // Vite's pre-bundled dependencies, fresh for this server (dev mode).
        DEV_CACHE_DIR: join(workDir, "vite"),
        ...options.env,
      }),
      nodeFlags: options.nodeFlags,
      output: options.output,
    });
  } catch (error) {
    await kinde?.close();
    rmSync(workDir, { recursive: true, force: true });
    throw error;
  }

  const stopApp = (signal: NodeJS.Signals = "SIGTERM") => app.stop(signal);
  return {
    appUrl,
    issuerUrl,
    databaseFile,
    kindeDataDir,
    stopKinde,
    appLog: () => app.output.text(),
    waitForLog: async (text, timeoutMs) => void (await app.output.waitFor(text, timeoutMs)),
    stopApp,
    app,
    stop: async () => {
      await stopApp();
      if (kinde) await stopKinde();
      if (!options.keepFiles) rmSync(workDir, { recursive: true, force: true });
    },
  };
}

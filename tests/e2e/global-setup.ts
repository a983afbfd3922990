// The browser tests' stack, as `npm start` runs it, unless E2E_BASE_URL names another app (E2E_KEEP_STATE=1 keeps its files).
import { startStack } from "../support/stack.ts";

export default async function globalSetup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.E2E_BASE_URL) return undefined;
  const verbose = process.env.E2E_SERVER_LOG === "1";
  const stack = await startStack({
    kinde: "child",
    ports: { app: Number(process.env.E2E_APP_PORT), kinde: Number(process.env.E2E_KINDE_PORT) },
    // Long-lived tokens: a refresh would rotate the saved session's refresh token, signing out every test reusing it.
    ttl: { access: 86_400, id: 86_400, refresh: 1_296_000 },
    keepFiles: process.env.E2E_KEEP_STATE === "1",
    // Errors always, so a failing test shows why the server answered 500.
    output: {
      echo: (chunk, stream) => (stream === "stderr" || verbose) && process.stderr.write(chunk),
      limit: 64 * 1024,
    },
  });
  process.env.E2E_DATABASE_FILE = stack.databaseFile;
  process.env.E2E_KINDE_DATA_DIR = stack.kindeDataDir;
  console.log(`[e2e] app ${stack.appUrl}, local Kinde ${stack.issuerUrl}, database ${stack.databaseFile}`);
  return stack.stop;
}

/** `npm run kinde-local`; see ../docs/decisions/0005-local-kinde-server.md and README.md. */
import { existsSync } from "node:fs";
import { settingsFromEnv } from "./env.ts";
import { createKindeLocalServer, type KindeLocalServer } from "./server.ts";
import { printableUrl } from "./webhooks.ts";

const PREFIX = "[kinde-local]";

function fail(message: string): never {
  console.error(`${PREFIX} ${message}`);
  process.exit(1);
}

// Variables already set in the environment win over .env (loadEnvFile never overrides).
if (existsSync(".env")) {
  try {
    process.loadEnvFile(".env");
  } catch (error) {
    fail(`Cannot read .env: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const result = settingsFromEnv(process.env, process.cwd());
if (!result.ok) fail(result.message);

let server: KindeLocalServer;
try {
  server = await createKindeLocalServer({
    ...result.settings,
    log: (line) => console.log(`${PREFIX} ${line}`),
  });
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}

console.log(`Local Kinde server ready at ${server.url}`);
// Without the query: it may carry a secret.
const webhookUrls = (result.settings.webhooks?.endpoints ?? []).map((endpoint) =>
  printableUrl(typeof endpoint === "string" ? endpoint : endpoint.url),
);
if (webhookUrls.length > 0) {
  console.log(`${PREFIX} sends webhooks to ${webhookUrls.join(", ")} (a "webhook ..." line per attempt)`);
}

// Ctrl+C arrives both directly and through npm run dev, so repeats are ignored.
const FORCED_EXIT_MS = 10_000;
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => fail("Shutdown took too long; exiting"), FORCED_EXIT_MS).unref();
  server.close().then(
    () => process.exit(0),
    (error: unknown) => fail(`Error while stopping: ${error instanceof Error ? error.message : String(error)}`),
  );
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

/**
 * npm start: serves the production build (`npm run build` first) with server/main.ts,
 * after checking the configuration and applying migrations. Starts the local Kinde server
 * too when KINDE_ISSUER_URL points at localhost, so a production build can be tried offline.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { BIN, loadConfig, migrate, startLocalKinde, superviseChildren, usesLocalKinde, waitForUrl } from "./lib/stack.ts";

const SERVER_BUILD = "build/server/index.js";
if (!existsSync(SERVER_BUILD)) {
  console.error(`${SERVER_BUILD} is missing: run \`npm run build\` first.`);
  process.exit(1);
}

const env = loadConfig();
migrate();

const children: ChildProcess[] = [];
if (usesLocalKinde(env.KINDE_ISSUER_URL)) {
  const kinde = startLocalKinde();
  children.push(kinde);
  await waitForUrl(`${env.KINDE_ISSUER_URL}/.well-known/openid-configuration`, 30_000, kinde);
}

const port = process.env.PORT ?? (new URL(env.KINDE_SITE_URL).port || "3000");
// `node --import tsx` rather than the tsx CLI: signals reach the server itself, not a wrapper.
const app = spawn(process.execPath, ["--import", "tsx", "server/main.ts", SERVER_BUILD], {
  env: { ...process.env, PORT: port, NODE_ENV: process.env.NODE_ENV ?? "production" },
  stdio: "inherit",
});
children.push(app);
superviseChildren(children);

/**
 * npm start: serves the production build (`npm run build` first) with server/main.ts (compiled),
 * after checking the configuration and applying migrations. Starts the local Kinde server
 * too when KINDE_ISSUER_URL points at localhost, so a production build can be tried offline.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import {
  appServerNodeArgs,
  loadConfig,
  migrate,
  startLocalKinde,
  superviseChildren,
  usesLocalKinde,
  waitForUrl,
} from "./lib/stack.ts";

const SERVER_BUILD = "build/server/index.js";
const APP_SERVER = "build/app-server/main.js";
for (const file of [SERVER_BUILD, APP_SERVER]) {
  if (!existsSync(file)) {
    console.error(`${file} is missing: run \`npm run build\` first.`);
    process.exit(1);
  }
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
// Plain Node on the compiled server: signals reach it directly, and no TypeScript loader
// weighs on production memory.
const app = spawn(process.execPath, [...appServerNodeArgs(), APP_SERVER, SERVER_BUILD], {
  env: { ...process.env, PORT: port, NODE_ENV: process.env.NODE_ENV ?? "production" },
  stdio: "inherit",
});
children.push(app);
superviseChildren(children);

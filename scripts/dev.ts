/**
 * npm run dev: checks the configuration, migrates the SQLite database, starts the local
 * Kinde server (when KINDE_ISSUER_URL points at localhost) and the Remix dev server.
 */
import { spawn, type ChildProcess } from "node:child_process";
import {
  BIN,
  ensureEnvFile,
  loadConfig,
  migrate,
  startLocalKinde,
  superviseChildren,
  usesLocalKinde,
  waitForUrl,
} from "./lib/stack.ts";

ensureEnvFile();
const env = loadConfig();
migrate();

const children: ChildProcess[] = [];
if (usesLocalKinde(env.KINDE_ISSUER_URL)) {
  const kinde = startLocalKinde();
  children.push(kinde);
  await waitForUrl(`${env.KINDE_ISSUER_URL}/.well-known/openid-configuration`, 30_000, kinde);
}

const port = process.env.PORT ?? (new URL(env.KINDE_SITE_URL).port || "3000");
const app = spawn(`${BIN}/remix`, ["vite:dev", "--port", port, "--strictPort"], {
  env: { ...process.env, PORT: port },
  stdio: "inherit",
});
children.push(app);
superviseChildren(children);
await waitForUrl(env.KINDE_SITE_URL, 60_000, app);
console.log(`\n  Ready: open ${env.KINDE_SITE_URL} and sign up.\n`);

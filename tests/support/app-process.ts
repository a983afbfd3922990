// The app as `npm start` (or `npm run dev`) runs it, minus npm: tests and the bench run what production runs.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PortTaken } from "./ports.ts";
import { ProcessOutput, type OutputOptions } from "../../server/ready.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type AppMode = "production" | "development";

const SCRIPT: Record<AppMode, string> = { production: "start", development: "dev" };

export function scriptArgs(mode: AppMode, root = ROOT): string[] {
  const name = SCRIPT[mode];
  const scripts = (JSON.parse(readFileSync(`${root}/package.json`, "utf8")) as { scripts?: Record<string, string> })
    .scripts;
  const command = scripts?.[name] ?? "";
  // `exec`: the shell npm runs the script in becomes node, so npm's SIGTERM reaches the server.
  const words = command
    .trim()
    .replace(/^exec\s+/, "")
    .split(/\s+/);
  if (words[0] !== "node" || words.length < 2 || /["'`$\\|&;<>(){}*?~]/.test(command)) {
    throw new Error(
      `package.json's "${name}" script must be a plain \`node ...\` command (the tests and the benchmark run it without npm), not: ${command}`,
    );
  }
  return words.slice(1);
}

export function withNodeFlags(args: string[], extra: string[]): string[] {
  const entry = args.findIndex((arg) => /\.[cm]?[jt]s$/.test(arg));
  if (entry < 0) throw new Error(`no entry file in \`node ${args.join(" ")}\``);
  return [...args.slice(0, entry), ...extra, ...args.slice(entry)];
}

export const listeningLine = (port: number) => `[server] http://localhost:${port}`;

export interface AppOptions {
  mode?: AppMode;
  port: number;
  env: NodeJS.ProcessEnv;
  nodeFlags?: string[];
  output?: OutputOptions;
  timeoutMs?: number;
}

export interface AppProcess {
  url: string;
  pid: number;
  spawnedAt: number;
  listeningAt: number;
  child: ChildProcess;
  output: ProcessOutput;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

export async function startApp(options: AppOptions): Promise<AppProcess> {
  const args = withNodeFlags(scriptArgs(options.mode ?? "production"), options.nodeFlags ?? []);
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...options.env, PORT: String(options.port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = new ProcessOutput(child, options.output);
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  const app: AppProcess = {
    url: `http://localhost:${options.port}`,
    pid: child.pid ?? -1,
    spawnedAt,
    listeningAt: Number.NaN,
    child,
    output,
    async stop(signal = "SIGTERM", graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
  try {
    // The server's own line, not any answer on the port: another process could hold it.
    await output.waitFor(listeningLine(options.port), options.timeoutMs ?? 60_000);
    app.listeningAt = performance.now();
  } catch (error) {
    await app.stop("SIGKILL");
    if (/EADDRINUSE|cannot listen on port/.test(output.text())) throw new PortTaken(`port ${options.port} is taken`);
    throw error;
  }
  return app;
}

/** From scratch, so no DATABASE_URL or KINDE_* of the developer's leaks in. */
export function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TZ", "SystemRoot", "USERPROFILE", "TEMP", "TMP"];
  const env: Record<string, string> = {};
  for (const name of keep) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra } as NodeJS.ProcessEnv;
}

export function runCommand(
  command: string,
  args: string[],
  user?: { uid: number; gid: number },
  cwd = ROOT,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, uid: user?.uid, gid: user?.gid, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) =>
      code === 0
        ? resolve(output)
        : reject(new Error(`${command} ${args.join(" ")} failed (exit ${code}):\n${output}`)),
    );
  });
}

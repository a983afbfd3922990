// The app as `npm start` (or `npm run dev`) runs it: that script's command minus npm, so tests and the
// bench run what production runs.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PortTaken } from "./ports.ts";
import { ProcessOutput, type OutputOptions } from "../../server/ready.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type AppMode = "production" | "development";

const SCRIPT: Record<AppMode, string> = { production: "start", development: "dev" };

/** The arguments after `node` in the `start` or `dev` script; throws on anything a shell would interpret. */
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

/** The script's arguments with `extra` Node flags after its own (later flags win) and before the entry file. */
export function withNodeFlags(args: string[], extra: string[]): string[] {
  const entry = args.findIndex((arg) => /\.[cm]?[jt]s$/.test(arg));
  if (entry < 0) throw new Error(`no entry file in \`node ${args.join(" ")}\``);
  return [...args.slice(0, entry), ...extra, ...args.slice(entry)];
}

/** What the server prints once it listens (server/index.ts). */
export const listeningLine = (port: number) => `[server] http://localhost:${port}`;

export interface AppOptions {
  mode?: AppMode;
  port: number;
  /** The app's whole environment: nothing else is inherited. */
  env: NodeJS.ProcessEnv;
  /** Extra Node flags (a CPU profile, a preload...). */
  nodeFlags?: string[];
  output?: OutputOptions;
  timeoutMs?: number;
}

export interface AppProcess {
  url: string;
  pid: number;
  /** performance.now() when the command was spawned (the benchmark's start-up time). */
  spawnedAt: number;
  /** performance.now() when the server said it listens. */
  listeningAt: number;
  child: ChildProcess;
  output: ProcessOutput;
  /** Sends `signal` (SIGTERM by default) and resolves with the exit code; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

/** Starts the app and resolves once it listens; rejects with PortTaken when its port is in use. */
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

/** A child's environment from scratch (PATH, home, temp, locale) and `extra`: no DATABASE_URL or KINDE_* leaks in. */
export function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TZ", "SystemRoot", "USERPROFILE", "TEMP", "TMP"];
  const env: Record<string, string> = {};
  for (const name of keep) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra } as NodeJS.ProcessEnv;
}

/** Runs `command` to its end (as `user` when given); its output, or an error with it. */
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

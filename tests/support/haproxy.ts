// HAProxy in front of several app instances: round robin, health checks on /healthz, a retry elsewhere.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pickPort } from "./ports.ts";
import { ProcessOutput } from "../../server/ready.ts";

export interface Backend {
  name: string;
  port: number;
}

export interface Haproxy {
  url: string;
  port: number;
  pid: number;
  output: ProcessOutput;
  stop(): Promise<void>;
}

export function haproxyBinary(): string {
  for (const candidate of [process.env.HAPROXY_BIN, "/usr/sbin/haproxy", "/usr/local/sbin/haproxy"]) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  const onPath = (process.env.PATH ?? "").split(":").find((dir) => existsSync(join(dir, "haproxy")));
  if (onPath) return join(onPath, "haproxy");
  throw new Error(
    "HAProxy was not found: install it (Debian/Ubuntu: apt-get install -y haproxy; macOS: brew install haproxy) or set HAPROXY_BIN.",
  );
}

/** Retrying a request that got no answer on another instance is safe here: reads or idempotent writes. */
export function haproxyConfig(port: number, backends: Backend[]): string {
  return `global
  log stdout format raw local0 info
  maxconn 4096

defaults
  mode http
  log global
  option httplog
  timeout connect 2s
  timeout http-request 30s
  timeout http-keep-alive 30s
  timeout client 60s
  timeout server 60s
  timeout check 5s
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response

frontend web
  bind 127.0.0.1:${port}
  default_backend app

backend app
  balance roundrobin
  option httpchk GET /healthz
  http-check expect status 200
  default-server inter 1s fall 2 rise 2
${backends.map((backend) => `  server ${backend.name} 127.0.0.1:${backend.port} check`).join("\n")}
`;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export async function startHaproxy(backends: Backend[], options: { port?: number } = {}): Promise<Haproxy> {
  const dir = mkdtempSync(join(tmpdir(), "rkp-haproxy-"));
  const port = options.port ?? (await pickPort());
  const config = join(dir, "haproxy.cfg");
  writeFileSync(config, haproxyConfig(port, backends));
  // -db: stay in the foreground, no daemon; -V: say when the polling loop starts.
  const child = spawn(haproxyBinary(), ["-f", config, "-db", "-V"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  const output = new ProcessOutput(child, { limit: 4 * 1024 * 1024 });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await output.waitFor("Using epoll", 10_000);
    // Listeners are bound before the polling loop starts; this only confirms it, bounded.
    for (let attempt = 0; !(await canConnect(port)); attempt++) {
      if (attempt >= 50) throw new Error(`HAProxy does not accept connections on ${port}:\n${output.text()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `http://localhost:${port}`, port, pid: child.pid ?? -1, output, stop };
}

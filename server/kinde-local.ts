import { spawn, type ChildProcess } from "node:child_process";
import { ProcessOutput, type OutputOptions } from "./ready.ts";

export const KINDE_READY_LINE = "Local Kinde server ready at";

export interface KindeChild {
  child: ChildProcess;
  ready: Promise<void>;
  stop(): Promise<void>;
}

export function startLocalKinde(env: NodeJS.ProcessEnv, cwd = process.cwd(), output?: OutputOptions): KindeChild {
  // `node --import tsx` rather than the tsx CLI: signals reach the server itself, not a wrapper.
  const child = spawn(process.execPath, ["--import", "tsx", "kinde-local/main.ts"], {
    cwd,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const kindeOutput = new ProcessOutput(
    child,
    output ?? {
      echo: (chunk, stream) => (stream === "stdout" ? process.stdout : process.stderr).write(chunk),
      limit: 16 * 1024,
    },
  );
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  return {
    child,
    ready: kindeOutput.waitFor(KINDE_READY_LINE, 60_000).then(() => undefined),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** The one readiness wait: a growing log, and promises that resolve when some text appears in it. */
import type { ChildProcess } from "node:child_process";

export interface OutputOptions {
  echo?: (chunk: Buffer, stream: "stdout" | "stderr") => void;
  limit?: number;
}

export class TextLog {
  private buffer = "";
  private ended: string | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly limit?: number) {}

  append(text: string): void {
    this.buffer += text;
    if (this.limit && this.buffer.length > this.limit) this.buffer = this.buffer.slice(-this.limit);
    this.notify();
  }

  end(reason: string): void {
    this.ended = reason;
    this.notify();
  }

  text(): string {
    return this.buffer;
  }

  waitFor(pattern: string | RegExp, timeoutMs = 10_000): Promise<string> {
    return this.waitUntil(
      (text) =>
        typeof pattern === "string" ? (text.includes(pattern) ? pattern : null) : (pattern.exec(text)?.[0] ?? null),
      timeoutMs,
      String(pattern),
    );
  }

  waitUntil<T>(test: (text: string) => T | null, timeoutMs = 10_000, what = "the expected output"): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = test(this.buffer);
        if (match != null) {
          done();
          resolve(match);
        } else if (this.ended !== undefined) {
          done();
          reject(new Error(`the process ended (${this.ended}) before printing ${what}:\n${this.buffer}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} within ${timeoutMs} ms:\n${this.buffer}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}

export class ProcessOutput extends TextLog {
  constructor(child: ChildProcess, options: OutputOptions = {}) {
    super(options.limit);
    const append = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
      options.echo?.(chunk, stream);
      this.append(chunk.toString());
    };
    child.stdout?.on("data", append("stdout"));
    child.stderr?.on("data", append("stderr"));
    // "close", not "exit": by then every byte the process wrote has been read.
    child.once("close", (code, signal) => this.end(signal ? `signal ${signal}` : `code ${code}`));
    child.once("error", (error) => this.end(error.message));
  }
}

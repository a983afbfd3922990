// Fails a test that logs a console.error it did not declare with allowConsoleError(/.../): an error logged
// and swallowed is a bug. The test fails afterwards, not by a throw, so the code runs as in production.
import { format } from "node:util";
import { afterEach, beforeEach, vi } from "vitest";

let allowed: RegExp[] = [];
let logged: string[] = [];

export function allowConsoleError(pattern: RegExp): void {
  allowed.push(pattern);
}

export function unexpectedConsoleErrors(): string[] {
  return logged.filter((message) => !allowed.some((pattern) => pattern.test(message)));
}

const originalError = console.error.bind(console);

beforeEach(() => {
  allowed = [];
  logged = [];
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    logged.push(format(...args));
    originalError(...args);
  });
});

afterEach(() => {
  vi.mocked(console.error).mockRestore();
  const unexpected = unexpectedConsoleErrors();
  if (unexpected.length > 0) {
    throw new Error(
      `console.error was called ${unexpected.length} time(s) without allowConsoleError():\n${unexpected.join("\n")}`,
    );
  }
});

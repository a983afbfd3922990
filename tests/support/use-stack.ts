import { afterAll, beforeAll } from "vitest";
import { startStack, type Stack, type StackOptions } from "./stack.ts";

/** Started before the file's (or describe block's) tests, stopped after them. */
export function useStack(options: StackOptions | (() => StackOptions) = {}, timeoutMs?: number): Stack {
  let stack: Stack | undefined;
  beforeAll(async () => {
    stack = await startStack(typeof options === "function" ? options() : options);
  }, timeoutMs);
  afterAll(async () => {
    await stack?.stop();
  });
  return new Proxy({} as Stack, {
    get(_, key) {
      if (!stack) throw new Error("the stack starts in beforeAll: use it in a test or a later hook");
      return Reflect.get(stack, key, stack) as unknown;
    },
  });
}

export async function withStack<T>(options: StackOptions, use: (stack: Stack) => Promise<T>): Promise<T> {
  const stack = await startStack(options);
  try {
    return await use(stack);
  } finally {
    await stack.stop();
  }
}

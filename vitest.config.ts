import { defineConfig } from "vitest/config";

const alias = { "~": new URL("./app", import.meta.url).pathname };

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: "unit",
          include: ["tests/unit/**/*.test.ts"],
          globalSetup: ["tests/support/global-setup.ts"],
          setupFiles: ["tests/support/unit-env.ts", "tests/support/console-errors.ts"],
        },
      },
      {
        resolve: { alias },
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          globalSetup: ["tests/support/global-setup.ts"],
          setupFiles: ["tests/support/unit-env.ts", "tests/support/console-errors.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      // `npm run bench` end to end, in quick mode: its own run, after the integration tests.
      {
        test: { name: "bench", include: ["tests/bench/**/*.test.ts"], setupFiles: ["tests/support/console-errors.ts"] },
      },
    ],
  },
});

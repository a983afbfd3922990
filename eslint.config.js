// ESLint (flat config): TypeScript, React and the Remix conventions this project follows.
// Formatting is Prettier's job (`npm run format`); eslint-config-prettier turns off the rules
// that would fight it.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import jsxA11y from "eslint-plugin-jsx-a11y";
import react from "eslint-plugin-react";
import reactHooks from "eslint-plugin-react-hooks";
import reactRefresh from "eslint-plugin-react-refresh";
import globals from "globals";
import tseslint from "typescript-eslint";

// What Remix reads from a route module; anything else exported from a route breaks hot
// reloading and blurs what the file is for.
const ROUTE_EXPORTS = [
  "meta",
  "links",
  "headers",
  "loader",
  "clientLoader",
  "action",
  "clientAction",
  "ErrorBoundary",
  "HydrateFallback",
  "Layout",
  "handle",
  "shouldRevalidate",
];

export default tseslint.config(
  {
    ignores: [
      "build/",
      "app/generated/",
      "node_modules/",
      "playwright-report/",
      "test-results/",
      "tests/.state/",
      "bench/results/",
      "kinde-local/data/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
      "no-console": "off",
      eqeqeq: ["error", "always", { null: "ignore" }],
    },
  },
  // The Remix app: React, hooks, accessibility.
  {
    files: ["app/**/*.{ts,tsx}"],
    ...react.configs.flat.recommended,
    ...react.configs.flat["jsx-runtime"],
    languageOptions: {
      ...react.configs.flat.recommended.languageOptions,
      globals: { ...globals.browser, ...globals.node },
    },
    settings: {
      react: { version: "detect" },
      formComponents: ["Form"],
      linkComponents: [
        { name: "Link", linkAttribute: "to" },
        { name: "NavLink", linkAttribute: "to" },
      ],
    },
  },
  { files: ["app/**/*.tsx"], ...jsxA11y.flatConfigs.recommended },
  { files: ["app/**/*.tsx"], ...reactHooks.configs.flat.recommended },
  {
    files: ["app/routes/**/*.{ts,tsx}", "app/root.tsx"],
    plugins: { "react-refresh": reactRefresh },
    rules: { "react-refresh/only-export-components": ["error", { allowExportNames: ROUTE_EXPORTS }] },
  },
  // Code that ends up in the browser bundle must not import server-only modules, not even
  // for a type: the import names a file that exists only on the server.
  {
    files: ["app/components/**/*.{ts,tsx}", "app/lib/**/*.tsx", "app/lib/**/!(*.server).ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/*.server", "**/*.server.ts", "~/**/*.server"],
              message: "Server-only module: move the shared part to a module without .server.",
            },
          ],
        },
      ],
    },
  },
  // Playwright reads a fixture's dependencies from its first parameter, so `{}` is meaningful.
  { files: ["tests/e2e/**/*.ts"], rules: { "no-empty-pattern": ["error", { allowObjectPatternsAsParameters: true }] } },
  prettier,
);

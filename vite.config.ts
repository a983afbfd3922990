import { vitePlugin as remix } from "@remix-run/dev";
import { defineConfig } from "vite";

declare module "@remix-run/node" {
  interface Future {
    v3_singleFetch: true;
  }
}

export default defineConfig({
  // Where Vite keeps pre-bundled dependencies; the test stacks give each dev server its own.
  cacheDir: process.env.DEV_CACHE_DIR || "node_modules/.vite",
  // The browser's modules, scanned for dependencies when the dev server starts: otherwise Vite
  // finds some only when the first page asks for them, optimizes again and reloads that page.
  optimizeDeps: { entries: ["app/root.tsx", "app/routes/**/*.tsx"] },
  plugins: [
    remix({
      // Every v3 flag on: the app is written the way Remix v3 / React Router 7 expects.
      future: {
        v3_fetcherPersist: true,
        v3_relativeSplatPath: true,
        v3_throwAbortReason: true,
        v3_singleFetch: true,
        v3_lazyRouteDiscovery: true,
        v3_routeConfig: true,
      },
    }),
  ],
  resolve: { alias: { "~": new URL("./app", import.meta.url).pathname } },
});

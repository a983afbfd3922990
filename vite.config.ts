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
      // Every v3 flag on but lazy route discovery: the app is written the way React Router 7
      // expects. With a handful of routes, discovering them lazily costs every page render more
      // than sending them all (docs/decisions/0021-routes-sent-up-front.md).
      future: {
        v3_fetcherPersist: true,
        v3_relativeSplatPath: true,
        v3_throwAbortReason: true,
        v3_singleFetch: true,
        v3_lazyRouteDiscovery: false,
        v3_routeConfig: true,
      },
    }),
  ],
  resolve: { alias: { "~": new URL("./app", import.meta.url).pathname } },
});

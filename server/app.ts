/**
 * The one HTTP server, for development and production (docs/decisions/0010-own-server.md):
 * express, compression, the request log and the guards, then Remix. In development Vite's
 * middleware serves the modules and compiles the app on demand; in production the build's
 * files and server bundle are served.
 */
import { createServer, type Server } from "node:http";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  createReadableStreamFromReadable,
  createRequestHandler,
  writeReadableStreamToWritable,
  type ServerBuild,
} from "@remix-run/node";
import compression from "compression";
import express, { type RequestHandler } from "express";
import { guard, limitStreamedBody, onError, requestLog } from "./guards.ts";

export type Mode = "development" | "production";

export const SERVER_BUILD = "build/server/index.js";

export interface AppServer {
  server: Server;
  /** Stops what the server runs besides HTTP (Vite's watcher in development). */
  closeTools(): Promise<void>;
}

export async function createAppServer(mode: Mode, log: (line: string) => void = console.log): Promise<AppServer> {
  const app = express();
  const server = createServer(app);
  // Behind a load balancer the balancer, not the app, must be the one to close an idle kept-alive
  // connection: when the app closes it (Node's default: after 5 s) just as the balancer sends the
  // next request on it, HAProxy closes the client's connection too (haproxy/haproxy#1109) and a
  // client that does not retry sees a failed request. Longer than any balancer's idle timeout.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  app.disable("x-powered-by");
  app.use(compression());

  let build: ServerBuild | (() => Promise<ServerBuild>);
  let closeTools = async () => {};
  if (mode === "development") {
    const vite = await import("vite");
    const ownSigterm = process.listeners("SIGTERM");
    // HMR rides on this server's port instead of a second one (24678 by default).
    const devServer = await vite.createServer({ server: { middlewareMode: true, hmr: { server } } });
    // Remix's plugin starts a second Vite server, not in middleware mode, whose SIGTERM handler
    // calls process.exit(): that would cut the graceful shutdown short. Ours closes Vite.
    for (const listener of process.listeners("SIGTERM")) {
      if (!ownSigterm.includes(listener)) process.off("SIGTERM", listener);
    }
    app.use(devServer.middlewares);
    build = () => devServer.ssrLoadModule("virtual:remix/server-build") as Promise<ServerBuild>;
    closeTools = () => devServer.close();
  } else {
    const serverBuild = (await import(pathToFileURL(resolve(SERVER_BUILD)).href)) as ServerBuild;
    build = serverBuild;
    // Remix sets the security headers on what it renders (app/entry.server.tsx); files get these.
    const setHeaders = (res: express.Response) => res.setHeader("X-Content-Type-Options", "nosniff");
    // Vite's files, named by their content: cached for good. The folder itself is no page.
    app.use(
      `${serverBuild.publicPath}assets`,
      express.static(join(serverBuild.assetsBuildDirectory, "assets"), {
        immutable: true,
        maxAge: "1y",
        redirect: false,
        setHeaders,
      }),
    );
    // public/'s files (favicon...), copied into the build by Vite, keep their names when they
    // change: cached for an hour. Only paths that look like a file are looked up on disk, so a
    // page request does not pay a failed stat (and its allocations) before Remix.
    const publicFiles = express.static(serverBuild.assetsBuildDirectory, { maxAge: "1h", setHeaders });
    app.use((req, res, next) => (/\.[a-z0-9]+$/i.test(req.path) ? publicFiles(req, res, next) : next()));
  }

  app.use(requestLog(log));
  app.use(guard);
  app.use(limitStreamedBody);
  app.all("*", remixHandler(build, mode));
  app.use(onError(log));
  return { server, closeTools };
}

/**
 * What @remix-run/express does, except that the request's signal is aborted whenever the
 * response ends (there: only when the client goes away first). Remix clears its per-page stream
 * timer on abort alone, and each such 5 s timer would hold a stopping server open.
 */
function remixHandler(build: ServerBuild | (() => Promise<ServerBuild>), mode: Mode): RequestHandler {
  const handleRequest = createRequestHandler(build, mode);
  return async (req, res, next) => {
    try {
      const controller = new AbortController();
      res.once("close", () => controller.abort());
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        // The guard has judged where a POST came from (common/cross-site.ts). Remix's own older
        // check (Origin against Host, answered with an empty 500) is not given Origin to judge
        // again: it would refuse the form posts the rule lets through with Origin: null.
        if (name === "origin") continue;
        for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value])
          headers.append(name, item);
      }
      const hasBody = req.method !== "GET" && req.method !== "HEAD";
      // As @remix-run/express: req.hostname, with the port of X-Forwarded-Host or Host.
      const port = [req.get("X-Forwarded-Host"), req.get("host")]
        .map((host) => Number.parseInt(host?.split(":")[1] ?? "", 10))
        .find(Number.isSafeInteger);
      const request = new Request(`${req.protocol}://${req.hostname}${port ? `:${port}` : ""}${req.originalUrl}`, {
        method: req.method,
        headers,
        signal: controller.signal,
        ...(hasBody ? { body: createReadableStreamFromReadable(req), duplex: "half" } : {}),
      });
      const response = await handleRequest(request);
      res.statusMessage = response.statusText;
      res.status(response.status);
      for (const [name, value] of response.headers.entries()) res.append(name, value);
      if (response.body) await writeReadableStreamToWritable(response.body, res);
      else res.end();
    } catch (error) {
      next(error);
    }
  };
}

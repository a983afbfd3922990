/** The one HTTP server for both modes: docs/decisions/0010-own-server.md. */
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
import { logRequest } from "../common/http-lifecycle.ts";
import { guard, limitStreamedBody, onError } from "./guards.ts";

export type Mode = "development" | "production";

export const SERVER_BUILD = "build/server/index.js";

export interface AppServer {
  server: Server;
  closeTools(): Promise<void>;
}

export async function createAppServer(mode: Mode, log: (line: string) => void = console.log): Promise<AppServer> {
  const app = express();
  const server = createServer(app);
  // Longer than a load balancer's idle timeout: the balancer must be the one to close an idle
  // connection, or a request it sends just as the app closes fails (haproxy/haproxy#1109).
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
    // Remix's plugin starts a second Vite server whose SIGTERM handler calls process.exit().
    for (const listener of process.listeners("SIGTERM")) {
      if (!ownSigterm.includes(listener)) process.off("SIGTERM", listener);
    }
    app.use(devServer.middlewares);
    build = () => devServer.ssrLoadModule("virtual:remix/server-build") as Promise<ServerBuild>;
    closeTools = () => devServer.close();
  } else {
    const serverBuild = (await import(pathToFileURL(resolve(SERVER_BUILD)).href)) as ServerBuild;
    build = serverBuild;
    const setHeaders = (res: express.Response) => res.setHeader("X-Content-Type-Options", "nosniff");
    app.use(
      `${serverBuild.publicPath}assets`,
      express.static(join(serverBuild.assetsBuildDirectory, "assets"), {
        immutable: true,
        maxAge: "1y",
        redirect: false,
        setHeaders,
      }),
    );
    // Only file-like paths are looked up: a page request would pay a failed stat.
    const publicFiles = express.static(serverBuild.assetsBuildDirectory, { maxAge: "1h", setHeaders });
    app.use((req, res, next) => (/\.[a-z0-9]+$/i.test(req.path) ? publicFiles(req, res, next) : next()));
  }

  app.use((req, res, next) => {
    logRequest(req, res, log);
    next();
  });
  app.use(guard);
  app.use(limitStreamedBody);
  app.all("*", remixHandler(build, mode));
  app.use(onError(log));
  return { server, closeTools };
}

// @remix-run/express, but aborting the signal when the response ends: Remix clears its 5 s
// stream timer on abort alone, and those timers held a stopping server open.
function remixHandler(build: ServerBuild | (() => Promise<ServerBuild>), mode: Mode): RequestHandler {
  const handleRequest = createRequestHandler(build, mode);
  return async (req, res, next) => {
    try {
      const controller = new AbortController();
      res.once("close", () => controller.abort());
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        // The guard judged the origin; Remix's older check would answer an empty 500 to Origin: null.
        if (name === "origin") continue;
        for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value])
          headers.append(name, item);
      }
      const hasBody = req.method !== "GET" && req.method !== "HEAD";
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

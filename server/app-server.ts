/**
 * The production HTTP server: what @remix-run/serve does (express, compression, long-cached
 * assets), plus the guards that must run before Remix. See docs/decisions/0010-own-server.md.
 */
import { createRequestHandler } from "@remix-run/express";
import type { ServerBuild } from "@remix-run/node";
import compression from "compression";
import express, { type ErrorRequestHandler, type RequestHandler } from "express";

/** Form posts in this app are a few hundred bytes; anything near this is not a person. */
export const MAX_BODY_BYTES = 64 * 1024;
const ALLOWED_METHODS = ["GET", "HEAD", "POST"];

export interface AppServerOptions {
  build: ServerBuild;
  mode: string;
  log?: (line: string) => void;
}

function page(title: string, message: string): string {
  const escape = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title></head><body><main><h1>${escape(title)}</h1><p>${escape(message)}</p><p><a href="/">Go to the home page</a></p></main></body></html>`;
}

function refuse(
  res: express.Response,
  status: number,
  title: string,
  message: string,
  headers: Record<string, string> = {},
) {
  res.status(status).set({
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    ...headers,
  });
  res.send(page(title, message));
}

/** One line per request, without the query string: callbacks carry authorization codes. */
function requestLog(log: (line: string) => void): RequestHandler {
  return (req, res, next) => {
    const start = performance.now();
    res.on("finish", () => {
      const path = req.originalUrl.split("?")[0] ?? "";
      log(`${req.method} ${path.slice(0, 200)} ${res.statusCode} ${(performance.now() - start).toFixed(1)}ms`);
    });
    next();
  };
}

/**
 * Requests Remix would answer with a 500 or handle badly: odd methods, bodies too large to
 * be a form, paths that are not valid percent-encoding, and cross-site form posts (Remix
 * aborts those with an empty 500; here they get a 403 that says why).
 */
const guard: RequestHandler = (req, res, next) => {
  if (!ALLOWED_METHODS.includes(req.method)) {
    return refuse(res, 405, "Method not allowed", "This site only answers GET and POST requests.", {
      Allow: ALLOWED_METHODS.join(", "),
    });
  }
  try {
    decodeURIComponent(req.path);
  } catch {
    return refuse(res, 400, "Bad request", "The address is not valid.");
  }
  if (req.method === "POST") {
    const length = Number(req.headers["content-length"] ?? 0);
    if (!Number.isFinite(length) || length > MAX_BODY_BYTES) {
      return refuse(res, 413, "Request too large", "That form submission is larger than this site accepts.");
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== "null") {
      let originHost: string | null = null;
      try {
        originHost = new URL(origin).host;
      } catch {
        originHost = null;
      }
      const host = (req.headers["x-forwarded-host"] as string | undefined)?.split(",")[0]?.trim() || req.headers.host;
      if (!originHost || originHost !== host) {
        return refuse(res, 403, "Not allowed", "This form can only be sent from this site.");
      }
    }
  }
  next();
};

/** Counts the bytes of bodies sent without a Content-Length, and stops at the limit. */
const limitStreamedBody: RequestHandler = (req, res, next) => {
  if (req.method !== "POST" || req.headers["content-length"] !== undefined) return next();
  let received = 0;
  req.on("data", (chunk: Buffer) => {
    received += chunk.length;
    if (received > MAX_BODY_BYTES && !res.headersSent) {
      refuse(res, 413, "Request too large", "That form submission is larger than this site accepts.", {
        Connection: "close",
      });
      req.destroy();
    }
  });
  next();
};

export function createAppServer({ build, mode, log = console.log }: AppServerOptions): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(compression());
  // Remix sets the security headers on what it renders (app/entry.server.tsx); files get these.
  const setHeaders = (res: express.Response) => res.setHeader("X-Content-Type-Options", "nosniff");
  app.use(build.publicPath, express.static(build.assetsBuildDirectory, { immutable: true, maxAge: "1y", setHeaders }));
  // public/ holds files (favicon...): only paths that look like one are looked up on disk,
  // so page requests do not pay a failed stat each.
  const publicFiles = express.static("public", { maxAge: "1h", setHeaders });
  app.use((req, res, next) => (/\.[a-z0-9]+$/i.test(req.path) ? publicFiles(req, res, next) : next()));
  app.use(requestLog(log));
  app.use(guard);
  app.use(limitStreamedBody);
  app.all("*", createRequestHandler({ build, mode }));
  const onError: ErrorRequestHandler = (error, req, res, _next) => {
    log(
      `[server] ${req.method} ${req.path.slice(0, 200)} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    if (res.headersSent) return res.end();
    refuse(res, 500, "Something went wrong", "An unexpected error happened on our side. Please try again in a moment.");
  };
  app.use(onError);
  return app;
}

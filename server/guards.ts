/** What runs before Remix in both modes: docs/decisions/0010-own-server.md. */
import type express from "express";
import type { ErrorRequestHandler, RequestHandler } from "express";
import { isCrossSiteRequest, requestHost } from "../common/cross-site.ts";

export const MAX_BODY_BYTES = 64 * 1024;
const DRAIN_LIMIT_BYTES = 1024 * 1024;
const ALLOWED_METHODS = ["GET", "HEAD", "POST"];

function page(title: string, message: string): string {
  const escape = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title></head><body><main><h1>${escape(title)}</h1><p>${escape(message)}</p><p><a href="/">Go to the home page</a></p></main></body></html>`;
}

export function refuse(
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

/** Odd methods, bodies too large for a form, bad percent-encoding, cross-site posts: the one CSRF check. */
export const guard: RequestHandler = (req, res, next) => {
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
      // Node drains an unread body to reuse the connection; past DRAIN_LIMIT_BYTES it is closed instead.
      const headers: Record<string, string> = length > DRAIN_LIMIT_BYTES ? { Connection: "close" } : {};
      return refuse(res, 413, "Request too large", "That form submission is larger than this site accepts.", headers);
    }
    const host = requestHost(req.headers.host, req.get("X-Forwarded-Host"));
    const facts = { method: req.method, secFetchSite: req.get("Sec-Fetch-Site"), origin: req.get("Origin"), host };
    if (isCrossSiteRequest(facts)) {
      return refuse(res, 403, "Not allowed", "This form can only be sent from this site.");
    }
  }
  next();
};

export const limitStreamedBody: RequestHandler = (req, res, next) => {
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

export function onError(log: (line: string) => void): ErrorRequestHandler {
  return (error, req, res, _next) => {
    log(
      `[server] ${req.method} ${req.path.slice(0, 200)} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    if (res.headersSent) return res.end();
    refuse(res, 500, "Something went wrong", "An unexpected error happened on our side. Please try again in a moment.");
  };
}

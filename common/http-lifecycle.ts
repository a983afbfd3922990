import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";

const MAX_LOGGED_PATH = 200;

/** The path alone: a query string can carry an authorization code. */
export function loggablePath(target: string | undefined): string {
  const path = (target ?? "-").split("?")[0]!.replace(/[^\x21-\x7e]/g, "?");
  return path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}...` : path;
}

export function logRequest(request: IncomingMessage, response: ServerResponse, log: (line: string) => void): void {
  const started = performance.now();
  // Express rewrites request.url inside mounted middleware; originalUrl is what was asked.
  const target = (request as { originalUrl?: string }).originalUrl ?? request.url;
  response.once("close", () => {
    const ms = Math.round(performance.now() - started);
    log(`${request.method ?? "-"} ${loggablePath(target)} ${response.statusCode} ${ms}ms`);
  });
}

export interface GracefulCloseOptions {
  graceMs: number;
  onGraceExpired?: () => void;
}

/** Call it right after creating the server: close() has to see every connection. */
export function gracefulClose(server: Server, options: GracefulCloseOptions): () => Promise<void> {
  // Not Node's closeIdleConnections(): it counts a connection that has sent nothing yet as busy, holding close() open.
  const connections = new Map<Socket, number>();
  const inFlight = new Set<ServerResponse>();
  let closing: Promise<void> | undefined;
  let stopping = false;
  const endIfIdle = (socket: Socket) => {
    if (stopping && connections.get(socket) === 0) socket.end(() => socket.destroy());
  };
  server.on("connection", (socket: Socket) => {
    if (stopping) return void socket.destroy();
    connections.set(socket, 0);
    socket.once("close", () => connections.delete(socket));
  });
  server.prependListener("request", (request: IncomingMessage, response: ServerResponse) => {
    const { socket } = request;
    connections.set(socket, (connections.get(socket) ?? 0) + 1);
    inFlight.add(response);
    if (stopping) response.setHeader("Connection", "close");
    response.once("close", () => {
      inFlight.delete(response);
      if (connections.has(socket)) connections.set(socket, connections.get(socket)! - 1);
      endIfIdle(socket);
    });
  });
  return () =>
    (closing ??= new Promise<void>((resolve) => {
      stopping = true;
      const forceTimer = setTimeout(() => {
        options.onGraceExpired?.();
        server.closeAllConnections();
      }, options.graceMs);
      forceTimer.unref();
      server.close(() => {
        clearTimeout(forceTimer);
        resolve();
      });
      for (const response of inFlight) if (!response.headersSent) response.setHeader("Connection", "close");
      for (const socket of connections.keys()) endIfIdle(socket);
    }));
}

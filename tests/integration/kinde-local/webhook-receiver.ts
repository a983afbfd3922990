/**
 * A stand-in for the app's webhook route: records every delivery and answers with whatever
 * status the test chooses (or holds the request open). Tests wait on deliveries, never on time.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from "jose";

export interface ReceivedWebhook {
  /** 1-based position among all requests this receiver saw. */
  index: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The payload, decoded without verification (use verifyWebhook for the real check). */
  payload: Record<string, unknown>;
  /** What the receiver answered: a status, or "held" while the request is kept open. */
  answer: number | "held";
}

type Answer = number | "hold";

export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** Decides each answer; 200 by default. */
  answer: (request: ReceivedWebhook) => Answer = () => 200;
  private readonly held: { response: ServerResponse; request: ReceivedWebhook }[] = [];
  private waiters: { predicate: (request: ReceivedWebhook) => boolean; resolve: (r: ReceivedWebhook) => void }[] = [];

  private constructor(
    private server: Server,
    readonly port: number,
  ) {}

  /** Listens on 127.0.0.1; port 0 picks one. */
  static async start(port = 0): Promise<WebhookReceiver> {
    const server = createServer();
    const actual = await listen(server, port);
    const receiver = new WebhookReceiver(server, actual);
    receiver.attach(server);
    return receiver;
  }

  url(path = "/webhooks/kinde"): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The first request (already received or still to come) that matches. */
  waitFor(predicate: (request: ReceivedWebhook) => boolean): Promise<ReceivedWebhook> {
    const found = this.received.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ predicate, resolve }));
  }

  /** The first delivery of an event of this type after the given position. */
  event(type: string, after = 0): Promise<ReceivedWebhook> {
    return this.waitFor((request) => request.index > after && request.payload.type === type);
  }

  /** Answers every held request with this status. */
  release(status = 200): void {
    for (const { response, request } of this.held.splice(0)) {
      request.answer = status;
      response.writeHead(status).end();
    }
  }

  /** Stops listening (held requests are answered 503 first); `reopen` listens on the same port again. */
  async stop(): Promise<void> {
    this.release(503);
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  async reopen(): Promise<void> {
    const server = createServer();
    await listen(server, this.port);
    this.server = server;
    this.attach(server);
  }

  private attach(server: Server): void {
    server.on("request", (request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const received: ReceivedWebhook = {
          index: this.received.length + 1,
          path: request.url ?? "",
          headers: request.headers,
          body,
          payload: decodePayload(body),
          answer: "held",
        };
        this.received.push(received);
        const answer = this.answer(received);
        if (answer === "hold") this.held.push({ response, request: received });
        else {
          received.answer = answer;
          response.writeHead(answer).end();
        }
        const ready = this.waiters.filter((waiter) => waiter.predicate(received));
        this.waiters = this.waiters.filter((waiter) => !ready.includes(waiter));
        for (const waiter of ready) waiter.resolve(received);
      });
    });
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

function decodePayload(body: string): Record<string, unknown> {
  try {
    return decodeJwt(body);
  } catch {
    return {};
  }
}

/** Verifies a delivery as an app should: RS256 only, against the issuer's published JWKS. */
export async function verifyWebhook(
  issuer: string,
  token: string,
): Promise<{ payload: JWTPayload; header: ReturnType<typeof decodeProtectedHeader> }> {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
  const { payload } = await jwtVerify(token, jwks, { algorithms: ["RS256"] });
  return { payload, header: decodeProtectedHeader(token) };
}

/** Collects a server's log lines and lets a test wait for one. */
export class LogWatcher {
  readonly lines: string[] = [];
  private waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];

  readonly log = (line: string): void => {
    this.lines.push(line);
    const ready = this.waiters.filter((waiter) => waiter.pattern.test(line));
    this.waiters = this.waiters.filter((waiter) => !ready.includes(waiter));
    for (const waiter of ready) waiter.resolve(line);
  };

  /** The first line (already logged or still to come) that matches. */
  waitFor(pattern: RegExp): Promise<string> {
    const found = this.lines.find((line) => pattern.test(line));
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ pattern, resolve }));
  }
}

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { ClaimsConfigSource } from "./config.ts";
import type { AppContext, Handler } from "./context.ts";
import { acquireDataDirLock, ensureDirectory, isErrnoException } from "./files.ts";
import { ExpiringMap, type AuthorizationCode, type AuthorizationRequest } from "./flows.ts";
import { HttpError, Params, parseCookies, sendHtml, sendJson, splitTarget } from "./http.ts";
import { loadOrCreateSigningKey } from "./keys.ts";
import { messagePage } from "./pages.ts";
import { accountRoutes } from "./routes/account.ts";
import { authorizationRoutes } from "./routes/authorize.ts";
import { discoveryRoutes } from "./routes/discovery.ts";
import { logoutRoute } from "./routes/logout.ts";
import { managementRoutes } from "./routes/management.ts";
import { tokenRoutes } from "./routes/token.ts";
import { userProfileRoute } from "./routes/user-profile.ts";
import { Store } from "./store.ts";
import { DEFAULT_LIFETIMES, type TokenLifetimes } from "./tokens.ts";

export interface KindeLocalServerOptions {
  /** Goes into every token's iss. With port 0 its port is replaced by the one picked. */
  issuer: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default: the issuer's port. 0 picks a free port. */
  port?: number;
  clientId: string;
  clientSecret: string;
  /** The app; the allowed redirect_uri is `${siteUrl}/kinde-auth/callback`. */
  siteUrl: string;
  dataDir: string;
  configPath: string;
  /** Token lifetimes in seconds. */
  ttl?: Partial<TokenLifetimes>;
  /** One line per request and a few events; never tokens, codes, passwords or secrets. */
  log?: (line: string) => void;
  /** Milliseconds since the epoch; tests move time forward with it. */
  clock?: () => number;
}

export interface KindeLocalServer {
  /** The issuer, e.g. http://127.0.0.1:3001 (no trailing slash). */
  url: string;
  port: number;
  /** Stops accepting connections, lets requests in flight finish, then saves the store. */
  close(): Promise<void>;
}

const httpUrl = (what: string) =>
  z.string().refine((value) => {
    if (!URL.canParse(value)) return false;
    return ["http:", "https:"].includes(new URL(value).protocol);
  }, `${what} must be an absolute http(s) URL`);

const seconds = z
  .number()
  .int()
  .min(1)
  .max(10 * 365 * 86_400);

const optionsSchema = z.object({
  issuer: httpUrl("issuer").refine((value) => {
    // zod runs this even when httpUrl failed, so it must not assume a parsable URL.
    if (!URL.canParse(value)) return true;
    const url = new URL(value);
    return url.pathname === "/" && url.search === "" && url.hash === "" && !value.endsWith("/");
  }, "issuer must be an origin such as http://localhost:3001, without a path or trailing slash"),
  host: z.string().min(1).default("127.0.0.1"),
  port: z.number().int().min(0).max(65_535).optional(),
  clientId: z.string().regex(/^[A-Za-z0-9._~-]{1,200}$/, "clientId must be 1-200 letters, digits or ._~-"),
  clientSecret: z.string().min(1).max(500),
  siteUrl: httpUrl("siteUrl"),
  dataDir: z.string().min(1),
  configPath: z.string().min(1),
  ttl: z.object({ access: seconds, id: seconds, refresh: seconds }).partial().optional(),
  log: z.custom<(line: string) => void>((value) => typeof value === "function").optional(),
  clock: z.custom<() => number>((value) => typeof value === "function").optional(),
});

type ErrorFormat = "page" | "oauth" | "api";

interface Route {
  format: ErrorFormat;
  methods: Partial<Record<string, Handler>>;
}

const PRUNE_INTERVAL_MS = 10 * 60_000;
const SHUTDOWN_GRACE_MS = 5_000;

export async function createKindeLocalServer(input: KindeLocalServerOptions): Promise<KindeLocalServer> {
  const parsed = optionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `Invalid local Kinde server options: ${issue?.path.join(".") ?? ""} ${issue?.message ?? ""}`.trim(),
    );
  }
  const options = parsed.data;
  const log = options.log ?? (() => {});
  const clock = options.clock ?? Date.now;
  const lifetimes: TokenLifetimes = { ...DEFAULT_LIFETIMES, ...options.ttl };
  const issuerUrl = new URL(options.issuer);
  const port =
    options.port ?? (issuerUrl.port === "" ? (issuerUrl.protocol === "https:" ? 443 : 80) : Number(issuerUrl.port));

  await ensureDirectory(options.dataDir);
  const releaseLock = await acquireDataDirLock(options.dataDir);
  let listening: { server: ReturnType<typeof createServer>; port: number };
  let app: AppContext;
  try {
    const config = await ClaimsConfigSource.load(options.configPath, log);
    const key = await loadOrCreateSigningKey(options.dataDir);
    const store = await Store.open(options.dataDir, clock, {
      refreshMs: lifetimes.refresh * 1000,
      sessionMs: lifetimes.refresh * 1000,
    });
    const server = createServer({ requestTimeout: 30_000, headersTimeout: 20_000 });
    listening = { server, port: await listen(server, options.host, port) };
    if (port === 0) issuerUrl.port = String(listening.port);
    app = {
      issuer: issuerUrl.origin,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      siteUrl: options.siteUrl,
      siteOrigin: new URL(options.siteUrl).origin,
      // Built the way the Kinde SDK builds it, so the two strings match exactly.
      redirectUri: `${options.siteUrl}/kinde-auth/callback`,
      lifetimes,
      key,
      store,
      config,
      authorizationRequests: new ExpiringMap<AuthorizationRequest>(clock),
      codes: new ExpiringMap<AuthorizationCode>(clock),
      clock,
      log,
    };
  } catch (error) {
    await releaseLock();
    throw error;
  }

  const { server } = listening;
  const routes = buildRoutes(app);
  const securityHeaders = {
    "Content-Security-Policy": `default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self' ${app.siteOrigin}; frame-ancestors 'none'; base-uri 'none'`,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
  };
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    const started = performance.now();
    let logPath = "-";
    response.on("close", () => {
      const ms = Math.round(performance.now() - started);
      log(`${request.method ?? "-"} ${logPath} ${response.statusCode} ${ms}ms`);
    });
    for (const [name, value] of Object.entries(securityHeaders)) response.setHeader(name, value);
    let format: ErrorFormat = "page";
    void (async () => {
      try {
        const { path, query } = splitTarget(request.url);
        logPath = printable(path);
        const route = routes.get(path);
        format = route?.format ?? formatForUnknownPath(path);
        if (!route) throw new HttpError(404, "not_found", "There is nothing at this address");
        const handler = route.methods[request.method === "HEAD" ? "GET" : (request.method ?? "")];
        if (!handler) {
          const allowed = Object.keys(route.methods);
          if (allowed.includes("GET")) allowed.push("HEAD");
          throw new HttpError(405, "method_not_allowed", "Method not allowed", { Allow: allowed.join(", ") });
        }
        await handler({
          request,
          response,
          path,
          rawQuery: query,
          query: Params.parse(query),
          cookies: parseCookies(request.headers.cookie),
        });
      } catch (error) {
        respondWithError(response, format, error, (line) => log(`${request.method ?? "-"} ${logPath}: ${line}`));
      }
    })();
  });

  const pruneTimer = setInterval(() => app.store.prune(), PRUNE_INTERVAL_MS);
  pruneTimer.unref();

  let closing: Promise<void> | undefined;
  return {
    url: app.issuer,
    port: listening.port,
    close() {
      closing ??= (async () => {
        clearInterval(pruneTimer);
        const forceTimer = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
        // A keep-alive connection whose request finishes after close() would otherwise stay
        // open until its idle timeout.
        const idleSweep = setInterval(() => server.closeIdleConnections(), 25);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        clearTimeout(forceTimer);
        clearInterval(idleSweep);
        try {
          await app.store.flush();
        } finally {
          await releaseLock();
        }
      })();
      return closing;
    },
  };
}

function buildRoutes(app: AppContext): Map<string, Route> {
  const discovery = discoveryRoutes(app);
  const authorization = authorizationRoutes(app);
  const tokens = tokenRoutes(app);
  const account = accountRoutes(app);
  const management = managementRoutes(app);
  return new Map<string, Route>([
    ["/", { format: "page", methods: { GET: discovery.home } }],
    ["/.well-known/jwks.json", { format: "oauth", methods: { GET: discovery.jwks } }],
    ["/.well-known/jwks", { format: "oauth", methods: { GET: discovery.jwks } }],
    ["/.well-known/openid-configuration", { format: "oauth", methods: { GET: discovery.openidConfiguration } }],
    ["/oauth2/auth", { format: "page", methods: { GET: authorization.authorize } }],
    ["/auth/sign-in", { format: "page", methods: { GET: authorization.showSignIn, POST: authorization.submitSignIn } }],
    ["/auth/sign-up", { format: "page", methods: { GET: authorization.showSignUp, POST: authorization.submitSignUp } }],
    ["/auth/cancel", { format: "page", methods: { GET: authorization.cancel } }],
    ["/oauth2/token", { format: "oauth", methods: { POST: tokens.token } }],
    ["/oauth2/revoke", { format: "oauth", methods: { POST: tokens.revoke } }],
    ["/oauth2/v2/user_profile", { format: "oauth", methods: { GET: userProfileRoute(app) } }],
    ["/logout", { format: "page", methods: { GET: logoutRoute(app) } }],
    ["/account", { format: "page", methods: { GET: account.show, POST: account.save } }],
    ["/api/v1/users", { format: "api", methods: { GET: management.listUsers } }],
    [
      "/api/v1/user",
      {
        format: "api",
        methods: { GET: management.getUser, PATCH: management.updateUser, DELETE: management.deleteUser },
      },
    ],
  ]);
}

function formatForUnknownPath(path: string): ErrorFormat {
  if (path.startsWith("/api/")) return "api";
  if (path.startsWith("/oauth2/") || path.startsWith("/.well-known/")) return "oauth";
  return "page";
}

const PAGE_TITLES: Record<number, string> = {
  400: "Bad request",
  403: "Not allowed",
  404: "Page not found",
  405: "Method not allowed",
  413: "Too much data",
  414: "Address too long",
  415: "Unsupported form",
  500: "Something went wrong",
};

function respondWithError(response: ServerResponse, format: ErrorFormat, error: unknown, log: (line: string) => void) {
  let failure: HttpError;
  if (error instanceof HttpError) {
    failure = error;
  } else {
    // The stack is for the developer running the server; the client only learns that it failed.
    log(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    failure = new HttpError(500, "server_error", "The local Kinde server failed to handle this request");
  }
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const { status, code, message, headers } = failure;
  if (format === "oauth") sendJson(response, status, { error: code, error_description: message }, headers);
  else if (format === "api") sendJson(response, status, { errors: [{ code: code.toUpperCase(), message }] }, headers);
  else
    sendHtml(response, status, messagePage({ title: PAGE_TITLES[status] ?? "Error", message, role: "alert" }), headers);
}

function printable(path: string): string {
  const clean = path.replace(/[^\x21-\x7e]/g, "?");
  return clean.length > 200 ? `${clean.slice(0, 200)}...` : clean;
}

function listen(server: ReturnType<typeof createServer>, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off("listening", onListening);
      if (isErrnoException(error) && error.code === "EADDRINUSE") {
        reject(new Error(`Port ${port} on ${host} is already in use (is another local Kinde server running?)`));
      } else {
        reject(error);
      }
    };
    const onListening = () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { ApplicationRegistry, CLIENT_ID_PATTERN, defaultCallbackUrls, type Application } from "./applications.ts";
import { ClaimsConfigSource } from "./config.ts";
import type { AppContext, Handler } from "./context.ts";
import { acquireDataDirLock, ensureDirectory, isErrnoException } from "./files.ts";
import { ExpiringMap, type AuthorizationCode, type AuthorizationRequest, type PasswordSetup } from "./flows.ts";
import { parseCookies } from "./cookies.ts";
import { gracefulClose, loggablePath, logRequest } from "../common/http-lifecycle.ts";
import { HttpError, Params, sendJson, splitTarget } from "./http.ts";
import { loadOrCreateSigningKey } from "./keys.ts";
import { sendMessage } from "./pages.ts";
import { accountRoutes } from "./routes/account.ts";
import { authorizationRoutes } from "./routes/authorize.ts";
import { discoveryRoutes } from "./routes/discovery.ts";
import { logoutRoute } from "./routes/logout.ts";
import { managementRoutes } from "./routes/management.ts";
import { organizationRoutes } from "./routes/organizations.ts";
import { tokenRoutes } from "./routes/token.ts";
import { userProfileRoute } from "./routes/user-profile.ts";
import { DEFAULT_API_RATE_LIMIT, RateLimiter } from "./rate-limit.ts";
import { Store } from "./store.ts";
import { DEFAULT_LIFETIMES, MANAGEMENT_SCOPES, type TokenLifetimes } from "./tokens.ts";
import { httpUrl, redirectUrl, webhookUrl } from "./validation.ts";
import { webhookEndpointSchema, type WebhookEndpoint } from "./webhook-events.ts";
import { DEFAULT_WEBHOOK_POLICY, WebhookOutbox } from "./webhooks.ts";

/** With port 0, the issuer's port is replaced by the one picked. `log` never gets tokens, codes, passwords or secrets. */
export type KindeLocalServerOptions = z.input<typeof optionsSchema>;

export interface KindeLocalServer {
  url: string;
  port: number;
  /** For tests and tools that must know the app has heard of a change before they look. */
  webhooksSettled(): Promise<void>;
  close(): Promise<void>;
}

const TEN_YEARS_S = 10 * 365 * 86_400;
const seconds = z.number().int().min(1).max(TEN_YEARS_S);

const applicationSchema = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    clientId: z.string().regex(CLIENT_ID_PATTERN, "must be 1-200 letters, digits or ._~-"),
    clientSecret: z.string().min(1).max(500),
    type: z.enum(["regular", "m2m"]).default("regular"),
    callbackUrls: z.array(redirectUrl).max(50).default([]),
    logoutUrls: z.array(redirectUrl).max(50).default([]),
    managementApi: z.boolean().optional(),
    scopes: z.array(z.enum(MANAGEMENT_SCOPES)).optional(),
  })
  .refine((entry) => entry.type === "m2m" || entry.callbackUrls.length > 0, "a regular application needs callbackUrls");

const WEEK_MS = 7 * 86_400_000;
const milliseconds = z.number().int().min(1).max(WEEK_MS);

const webhookOptionsSchema = z.strictObject({
  endpoints: z
    .array(z.union([webhookUrl, webhookEndpointSchema]))
    .max(20)
    .default([]),
  retryDelaysMs: z.array(milliseconds).min(1).max(50).default(DEFAULT_WEBHOOK_POLICY.retryDelaysMs),
  giveUpAfterMs: milliseconds.default(DEFAULT_WEBHOOK_POLICY.giveUpAfterMs),
  timeoutMs: milliseconds.default(DEFAULT_WEBHOOK_POLICY.timeoutMs),
});

const optionsSchema = z.object({
  issuer: httpUrl("issuer must be an absolute http(s) URL").refine((value) => {
    // zod runs this even when httpUrl failed, so it must not assume a parsable URL.
    if (!URL.canParse(value)) return true;
    const url = new URL(value);
    return url.pathname === "/" && url.search === "" && url.hash === "" && !value.endsWith("/");
  }, "issuer must be an origin such as http://localhost:3001, without a path or trailing slash"),
  host: z.string().min(1).default("127.0.0.1"),
  port: z.number().int().min(0).max(65_535).optional(),
  clientId: z.string().regex(CLIENT_ID_PATTERN, "clientId must be 1-200 letters, digits or ._~-"),
  clientSecret: z.string().min(1).max(500),
  siteUrl: httpUrl("siteUrl must be an absolute http(s) URL"),
  callbackUrls: z.array(redirectUrl).min(1).max(50).optional(),
  logoutUrls: z.array(redirectUrl).max(50).optional(),
  applications: z.array(applicationSchema).max(50).optional(),
  webhooks: webhookOptionsSchema.prefault({}),
  apiRateLimit: z
    .union([
      z.literal(false),
      z.strictObject({
        requests: z.number().int().min(1).max(1_000_000),
        windowSeconds: z.number().int().min(1).max(86_400),
      }),
    ])
    .optional(),
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

/** Organization endpoints with the code (and a user id) in the path, dispatched by routes/organizations.ts. */
const ORGANIZATION_PATH = /^\/api\/v1\/organizations?\/[^/]/;
const ORGANIZATION_ROUTE = "/api/v1/organization/{org_code}";

const PRUNE_INTERVAL_MS = 10 * 60_000;
const SHUTDOWN_GRACE_MS = 5_000;

export async function createKindeLocalServer(input: KindeLocalServerOptions): Promise<KindeLocalServer> {
  const settings = resolveSettings(input);
  const { options, log, defaultApplication } = settings;
  await ensureDirectory(options.dataDir);
  const releaseLock = await acquireDataDirLock(options.dataDir);
  const { listening, app } = await openApp(settings).catch(async (error: unknown) => {
    await releaseLock();
    throw error;
  });

  const { server } = listening;
  const routes = buildRoutes(app);
  const securityHeaders = {
    "Content-Security-Policy": contentSecurityPolicy([defaultApplication]),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
  };
  const close = gracefulClose(server, { graceMs: SHUTDOWN_GRACE_MS });
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    logRequest(request, response, log);
    const logPath = loggablePath(request.url);
    for (const [name, value] of Object.entries(securityHeaders)) response.setHeader(name, value);
    let format: ErrorFormat = "page";
    void (async () => {
      try {
        // A sign-in form's answer redirects to a callback URL, which form-action must allow
        // (Chrome applies it to redirects): so every application's callback origins.
        response.setHeader("Content-Security-Policy", contentSecurityPolicy(await app.applications.all()));
        const { path, query } = splitTarget(request.url);
        const route = routes.get(path) ?? (ORGANIZATION_PATH.test(path) ? routes.get(ORGANIZATION_ROUTE) : undefined);
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
  app.webhooks.start();

  let closing: Promise<void> | undefined;
  return {
    url: app.issuer,
    port: listening.port,
    webhooksSettled: () => app.webhooks.settled(),
    close() {
      closing ??= (async () => {
        clearInterval(pruneTimer);
        await close();
        try {
          // Requests are done, so no new events; pending deliveries stay in the store.
          await app.webhooks.stop();
          await app.store.flush();
        } finally {
          await releaseLock();
        }
      })();
      return closing;
    },
  };
}

type Settings = ReturnType<typeof resolveSettings>;

function resolveSettings(input: KindeLocalServerOptions) {
  const parsed = optionsSchema.safeParse(input);
  if (!parsed.success) {
    const { path, message } = parsed.error.issues[0] ?? { path: [], message: "" };
    throw new Error(`Invalid local Kinde server options: ${path.join(".")} ${message}`.trim());
  }
  const options = parsed.data;
  const defaultApplication: Application = {
    name: "Default application (KINDE_CLIENT_ID)",
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    type: "regular",
    // Built the way the Kinde SDK builds it, so the strings match exactly.
    callbackUrls: options.callbackUrls ?? defaultCallbackUrls(options.siteUrl),
    logoutUrls: options.logoutUrls ?? [options.siteUrl],
    // A local convenience: on Kinde only an m2m application gets Management API tokens.
    managementApi: true,
    scopes: [...MANAGEMENT_SCOPES],
  };
  const extraApplications: Application[] = (options.applications ?? []).map((entry) => ({
    ...entry,
    name: entry.name ?? entry.clientId,
    managementApi: entry.type === "m2m" || (entry.managementApi ?? false),
    scopes: entry.scopes ?? [...MANAGEMENT_SCOPES],
  }));
  const issuerUrl = new URL(options.issuer);
  const defaultPort = issuerUrl.protocol === "https:" ? 443 : 80;
  return {
    options,
    log: options.log ?? (() => {}),
    clock: options.clock ?? Date.now,
    lifetimes: { ...DEFAULT_LIFETIMES, ...options.ttl } satisfies TokenLifetimes,
    issuerUrl,
    port: options.port ?? (issuerUrl.port === "" ? defaultPort : Number(issuerUrl.port)),
    defaultApplication,
    applications: [defaultApplication, ...extraApplications],
    fixedWebhookEndpoints: options.webhooks.endpoints.map((entry) =>
      typeof entry === "string" ? { url: entry } : entry,
    ) satisfies WebhookEndpoint[],
  };
}

async function openApp(settings: Settings) {
  const { options, log, clock, lifetimes, issuerUrl, port } = settings;
  const config = await ClaimsConfigSource.load(options.configPath, log);
  const applications = new ApplicationRegistry(settings.applications, config, log);
  await applications.assertNoClashes();
  const key = await loadOrCreateSigningKey(options.dataDir);
  const store = await Store.open(options.dataDir, clock, {
    refreshMs: lifetimes.refresh * 1000,
    sessionMs: lifetimes.refresh * 1000,
  });
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 20_000 });
  const listening = { server, port: await listen(server, options.host, port) };
  if (port === 0) issuerUrl.port = String(listening.port);
  const app: AppContext = {
    issuer: issuerUrl.origin,
    siteUrl: options.siteUrl,
    applications,
    lifetimes,
    key,
    store,
    config,
    authorizationRequests: new ExpiringMap<AuthorizationRequest>(clock),
    codes: new ExpiringMap<AuthorizationCode>(clock),
    passwordSetups: new ExpiringMap<PasswordSetup>(clock),
    webhooks: new WebhookOutbox({
      store,
      key,
      clock,
      log,
      policy: options.webhooks,
      endpoints: async () => mergeEndpoints(settings.fixedWebhookEndpoints, (await config.current()).webhooks),
    }),
    apiRateLimiter: new RateLimiter(options.apiRateLimit ?? DEFAULT_API_RATE_LIMIT, clock),
    clock,
    log,
  };
  return { listening, app };
}

function buildRoutes(app: AppContext): Map<string, Route> {
  const discovery = discoveryRoutes(app);
  const authorization = authorizationRoutes(app);
  const tokens = tokenRoutes(app);
  const account = accountRoutes(app);
  const { listUsers, getUser, createUser, updateUser, deleteUser } = managementRoutes(app);
  const organizations = organizationRoutes(app);
  const byPath = organizations.byPath;
  return new Map<string, Route>([
    ["/", { format: "page", methods: { GET: discovery.home } }],
    ["/.well-known/jwks.json", { format: "oauth", methods: { GET: discovery.jwks } }],
    ["/.well-known/jwks", { format: "oauth", methods: { GET: discovery.jwks } }],
    ["/.well-known/openid-configuration", { format: "oauth", methods: { GET: discovery.openidConfiguration } }],
    ["/oauth2/auth", { format: "page", methods: { GET: authorization.authorize } }],
    ["/auth/sign-in", { format: "page", methods: { GET: authorization.showSignIn, POST: authorization.submitSignIn } }],
    ["/auth/sign-up", { format: "page", methods: { GET: authorization.showSignUp, POST: authorization.submitSignUp } }],
    ["/auth/set-password", { format: "page", methods: { POST: authorization.submitSetPassword } }],
    ["/auth/cancel", { format: "page", methods: { GET: authorization.cancel } }],
    ["/oauth2/token", { format: "oauth", methods: { POST: tokens.token } }],
    ["/oauth2/revoke", { format: "oauth", methods: { POST: tokens.revoke } }],
    ["/oauth2/v2/user_profile", { format: "oauth", methods: { GET: userProfileRoute(app) } }],
    ["/logout", { format: "page", methods: { GET: logoutRoute(app) } }],
    ["/account", { format: "page", methods: { GET: account.show, POST: account.save } }],
    ["/api/v1/users", { format: "api", methods: { GET: listUsers } }],
    [
      "/api/v1/user",
      { format: "api", methods: { GET: getUser, POST: createUser, PATCH: updateUser, DELETE: deleteUser } },
    ],
    [
      "/api/v1/organization",
      { format: "api", methods: { GET: organizations.getOrganization, POST: organizations.createOrganization } },
    ],
    ["/api/v1/organizations", { format: "api", methods: { GET: organizations.listOrganizations } }],
    [ORGANIZATION_ROUTE, { format: "api", methods: { GET: byPath, POST: byPath, PATCH: byPath, DELETE: byPath } }],
  ]);
}

function contentSecurityPolicy(applications: readonly Application[]): string {
  const origins = new Set(
    applications.flatMap((application) => application.callbackUrls.map((url) => new URL(url).origin)),
  );
  return `default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self' ${[...origins].join(" ")}; frame-ancestors 'none'; base-uri 'none'`;
}

/** One delivery per URL (event filters merge). */
function mergeEndpoints(fixed: WebhookEndpoint[], fromFile: WebhookEndpoint[]): WebhookEndpoint[] {
  const byUrl = new Map<string, WebhookEndpoint>();
  for (const endpoint of [...fixed, ...fromFile]) {
    const known = byUrl.get(endpoint.url);
    if (!known) byUrl.set(endpoint.url, endpoint);
    else if (known.events !== undefined) {
      byUrl.set(endpoint.url, {
        url: endpoint.url,
        events: endpoint.events === undefined ? undefined : [...new Set([...known.events, ...endpoint.events])],
      });
    }
  }
  return [...byUrl.values()];
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
  409: "Conflict",
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
  else sendMessage(response, status, { title: PAGE_TITLES[status] ?? "Error", message, role: "alert" }, headers);
}

async function listen(server: ReturnType<typeof createServer>, host: string, port: number): Promise<number> {
  server.listen(port, host);
  try {
    await once(server, "listening");
  } catch (error) {
    if (!isErrnoException(error) || error.code !== "EADDRINUSE") throw error;
    throw new Error(`Port ${port} on ${host} is already in use (is another local Kinde server running?)`);
  }
  return (server.address() as AddressInfo).port;
}

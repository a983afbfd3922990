import { z } from "zod";
import { allows, type Application } from "../applications.ts";
import {
  clientAddress,
  currentSession,
  emitOrganizationEvent,
  emitUserEvent,
  type AppContext,
  type Handler,
  type RequestContext,
} from "../context.ts";
import { sessionCookie } from "../cookies.ts";
import {
  AUTHORIZATION_REQUEST_TTL_MS,
  CODE_TTL_MS,
  PASSWORD_SETUP_TTL_MS,
  type AuthorizationRequest,
  type PasswordSetup,
} from "../flows.ts";
import { assertSameOriginPost, describeIssue, HttpError, readForm, redirect, sendHtml, type Params } from "../http.ts";
import { sendMessage, setPasswordPage, signInPage, signUpPage, type SignUpErrors } from "../pages.ts";
import {
  burnPasswordCheck,
  hashPassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  verifyPassword,
} from "../passwords.ts";
import { addMember, claimsFor, createOrganization, creatorAccess, orgNameError } from "../organizations.ts";
import { EmailTakenError, randomToken, type StoredUser } from "../store.ts";
import { isValidEmail, nameError, normalizeEmail, normalizeName } from "../validation.ts";

/** Shown on the sign-in page to a suspended user who entered the right password. */
export const SUSPENDED_MESSAGE = "Your account has been suspended. Contact the app's administrator to restore access.";

const DEFAULT_SCOPE = ["openid", "profile", "email", "offline"];
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,100}$/; // RFC 6749 section 3.3
const PRINTABLE_STATE = /^[\x20-\x7e]{1,1024}$/;
/** A shorter state could be guessed; Kinde refuses one too (see README.md). */
const MIN_STATE_LENGTH = 8;
const INCORRECT_SIGN_IN = "Incorrect email or password.";
const EMAIL_TAKEN = "An account with this email already exists. Sign in instead.";

const authorizeQuery = z.object({
  response_type: z.string().max(100).optional(),
  state: z.string().regex(PRINTABLE_STATE, "must be 1-1024 printable ASCII characters").optional(),
  scope: z.string().max(2000).optional(),
  start_page: z.string().max(100).optional(),
  prompt: z.string().max(100).optional(),
  login_hint: z.string().max(1000).optional(),
  nonce: z.string().min(1).max(1024).optional(),
  audience: z.array(z.string().min(1).max(500)).max(10).optional(),
  code_challenge: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, "must be a base64url SHA-256 digest")
    .optional(),
  code_challenge_method: z.literal("S256", "only S256 is supported").optional(),
  org_code: z.string().max(1000).optional(),
  is_create_org: z.string().max(100).optional(),
  org_name: z.string().max(10_000).optional(),
});
const AUTHORIZE_PARAMETERS = Object.keys(authorizeQuery.shape);

/** Shown on this server: the app cannot fix what the person typed. */
class OrgNameError extends Error {}

/** An authorization request that fails after its redirect_uri was checked: told to the app. */
class RedirectableError extends Error {
  constructor(
    readonly error: string,
    description: string,
    readonly state: string | undefined,
  ) {
    super(description);
  }
}

interface Pending {
  id: string;
  request: AuthorizationRequest;
}

export function authorizationRoutes(app: AppContext) {
  /** The pages linked from a sign-in form carry its request id. */
  const withPending =
    (handle: (context: RequestContext, pending: Pending) => void): Handler =>
    async (context) => {
      const pending = pendingFrom(app, context.query.get("request"));
      if (!pending) return showExpired(app, context);
      handle(context, pending);
    };
  return {
    authorize: (context) => authorize(app, context),
    showSignIn: withPending((context, pending) => showSignInForm(context, pending, 200)),
    showSignUp: withPending(showSignUpForm),
    cancel: withPending((context, pending) => {
      app.authorizationRequests.delete(pending.id);
      const { redirectUri, state } = pending.request;
      redirect(context.response, errorRedirect(redirectUri, "access_denied", "The user cancelled signing in", state));
    }),
    submitSignIn: (context) => submitSignIn(app, context),
    submitSetPassword: (context) => submitSetPassword(app, context),
    submitSignUp: (context) => submitSignUp(app, context),
  } satisfies Record<string, Handler>;
}

async function authorize(app: AppContext, context: RequestContext): Promise<void> {
  const { query, response } = context;
  // Until client_id and redirect_uri are known to be good, errors stay on this server:
  // redirecting to an unvalidated redirect_uri would make this an open redirector.
  const client = await requestedClient(app, query);
  if (typeof client === "string")
    return sendMessage(response, 400, { title: "Unknown app", message: client, role: "alert" });
  const redirectUris = query.all("redirect_uri");
  const redirectUri = redirectUris.length === 1 ? (redirectUris[0] ?? "") : "";
  if (!allows(client.callbackUrls, redirectUri)) {
    const message = `The app asked to send you back to an address that is not one of its allowed callback URLs: ${client.callbackUrls.join(", ")} (set with KINDE_LOCAL_CALLBACK_URLS, or the application's callback_urls).`;
    return sendMessage(response, 400, { title: "Return address not allowed", message, role: "alert" });
  }
  let parsed: ReturnType<typeof parseAuthorizationRequest>;
  try {
    parsed = parseAuthorizationRequest(app, query, client, redirectUri);
  } catch (error) {
    if (error instanceof OrgNameError) {
      const link = { href: new URL(redirectUri).origin, text: "Go back to the app" };
      return sendMessage(response, 400, {
        title: "Check the organization's name",
        message: error.message,
        link,
        role: "alert",
      });
    }
    if (!(error instanceof RedirectableError)) throw error;
    return redirect(response, errorRedirect(redirectUri, error.error, error.message, error.state));
  }
  const { request, prompts } = parsed;
  // Single sign-on, as on Kinde: a live session here skips the form. A signed-in person
  // creating an organization (register with is_create_org) needs no new account either.
  const session = currentSession(app, context);
  const creating = request.createOrgName !== null;
  if (session && !prompts.has("login") && (creating || !prompts.has("create"))) {
    return finishSignIn(app, context, request, session.session.userId, session.session.authTime);
  }
  if (prompts.has("none")) {
    return redirect(response, errorRedirect(redirectUri, "login_required", "The user is not signed in", request.state));
  }
  const pending = { id: randomToken(24), request };
  app.authorizationRequests.set(pending.id, request);
  if (parsed.wantsSignUp) return showSignUpForm(context, pending);
  showSignInForm(context, pending, 200);
}

/** The regular application, or the error message to show instead. */
async function requestedClient(app: AppContext, query: Params): Promise<Application | string> {
  const clientIds = query.all("client_id");
  const client = clientIds.length === 1 ? await app.applications.find(clientIds[0] ?? "") : undefined;
  if (client?.type === "regular") return client;
  return client
    ? "The app that sent you here is a machine-to-machine application: people cannot sign in to it."
    : "The app that sent you here is not registered with this server. Check that KINDE_CLIENT_ID is the same for the app and for the local Kinde server (or add the app to the config file's applications).";
}

function parseAuthorizationRequest(app: AppContext, query: Params, client: Application, redirectUri: string) {
  const states = query.all("state");
  const echoState = states.length === 1 && PRINTABLE_STATE.test(states[0] ?? "") ? states[0] : undefined;
  let picked: Record<string, string | string[]>;
  try {
    picked = query.pick(AUTHORIZE_PARAMETERS, ["audience"]);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    throw new RedirectableError("invalid_request", error.message, echoState);
  }
  const parsed = authorizeQuery.safeParse(picked);
  if (!parsed.success) {
    throw new RedirectableError("invalid_request", `Invalid ${describeIssue(parsed.error.issues[0])}`, echoState);
  }
  const params = parsed.data;
  if (params.response_type !== "code") {
    throw new RedirectableError("unsupported_response_type", "Only response_type=code is supported", echoState);
  }
  const { state } = params;
  if (state === undefined) throw new RedirectableError("invalid_request", "The state parameter is required", undefined);
  if (state.length < MIN_STATE_LENGTH) {
    const description = `The state parameter must be at least ${MIN_STATE_LENGTH} characters`;
    throw new RedirectableError("invalid_request", description, state);
  }
  const scope = params.scope === undefined ? DEFAULT_SCOPE : params.scope.split(" ").filter(Boolean);
  if (scope.length === 0 || scope.length > 30 || !scope.every((token) => SCOPE_TOKEN.test(token))) {
    throw new RedirectableError("invalid_scope", "The scope parameter is malformed", state);
  }
  if (params.code_challenge_method !== undefined && params.code_challenge === undefined) {
    throw new RedirectableError("invalid_request", "code_challenge_method without code_challenge", state);
  }
  const request: AuthorizationRequest = {
    clientId: client.clientId,
    redirectUri,
    state,
    scope: [...new Set(scope)],
    audience: params.audience ?? [],
    loginHint: params.login_hint,
    codeChallenge: params.code_challenge,
    nonce: params.nonce,
    orgCode: params.org_code ?? null,
    createOrgName: null,
    expiresAt: app.clock() + AUTHORIZATION_REQUEST_TTL_MS,
  };
  if (params.is_create_org === "true") {
    const orgName = normalizeName(params.org_name ?? "");
    const problem = orgNameError(orgName);
    if (problem) throw new OrgNameError(problem);
    request.createOrgName = orgName;
    request.orgCode = null;
  }
  const prompts = new Set((params.prompt ?? "").split(" ").filter(Boolean));
  return { request, prompts, wantsSignUp: params.start_page === "registration" || prompts.has("create") };
}

async function submitSignIn(app: AppContext, context: RequestContext): Promise<void> {
  const fields = await formFields(context, ["request_id", "p_email", "p_password"]);
  const pending = pendingFrom(app, fields.request_id);
  if (!pending) return showExpired(app, context);
  const email = normalizeEmail(fields.p_email ?? "").slice(0, 254);
  const password = fields.p_password ?? "";
  const showForm = (status: number, error: string) => showSignInForm(context, pending, status, email, error);
  if (email === "" || password === "") return showForm(400, "Enter your email address and your password.");
  // One message for an unknown email and a wrong password: no account enumeration.
  if (password.length > MAX_PASSWORD_LENGTH * 4) return showForm(401, INCORRECT_SIGN_IN);
  const user = app.store.findUserByEmail(email);
  if (!user) {
    await burnPasswordCheck(password);
    return showForm(401, INCORRECT_SIGN_IN);
  }
  // A user created through the Management API has no password: whoever knows the email
  // chooses one (this server counts every email as verified; Kinde would send a code).
  if (user.passwordHash !== null && !(await verifyPassword(password, user.passwordHash))) {
    await app.store.recordSignIn(user.id, false);
    return showForm(401, INCORRECT_SIGN_IN);
  }
  if (user.isSuspended) return showForm(403, SUSPENDED_MESSAGE);
  if (user.passwordHash !== null && !user.isPasswordResetRequested) return startSession(app, context, pending, user);
  const setup: PasswordSetup = {
    userId: user.id,
    requestId: pending.id,
    reason: user.passwordHash === null ? "no_password" : "reset_requested",
    expiresAt: app.clock() + PASSWORD_SETUP_TTL_MS,
  };
  const setupId = randomToken();
  app.passwordSetups.set(setupId, setup);
  showSetPasswordForm(context, pending, setupId, setup, user);
}

async function submitSetPassword(app: AppContext, context: RequestContext): Promise<void> {
  const fields = await formFields(context, ["request_id", "setup_id", "p_password"]);
  const pending = pendingFrom(app, fields.request_id);
  const setupId = fields.setup_id !== undefined && fields.setup_id.length <= 100 ? fields.setup_id : "";
  const setup = setupId === "" ? undefined : app.passwordSetups.get(setupId);
  if (!pending || !setup || setup.requestId !== pending.id) return showExpired(app, context);
  const user = app.store.getUser(setup.userId);
  // The account may have changed since the page was shown (suspended, deleted, or a
  // password set in another tab): start again from the sign-in page.
  const stillNeeded =
    user !== undefined && (setup.reason === "no_password" ? user.passwordHash === null : user.isPasswordResetRequested);
  if (!user || user.isSuspended || !stillNeeded) {
    app.passwordSetups.delete(setupId);
    const error = user?.isSuspended ? SUSPENDED_MESSAGE : "Sign in again.";
    return showSignInForm(context, pending, 409, user?.email ?? "", error);
  }
  const password = fields.p_password ?? "";
  const error = passwordError(password);
  if (error) return showSetPasswordForm(context, pending, setupId, setup, user, error);
  app.passwordSetups.delete(setupId);
  const updated = await app.store.updateUser(user.id, {
    passwordHash: await hashPassword(password),
    isPasswordResetRequested: false,
  });
  if (!updated) return showExpired(app, context);
  if (setup.reason === "reset_requested") await emitUserEvent(app, "user.updated", "user", updated);
  await startSession(app, context, pending, updated);
}

async function submitSignUp(app: AppContext, context: RequestContext): Promise<void> {
  const fields = await formFields(context, ["request_id", "p_first_name", "p_last_name", "p_email", "p_password"]);
  const pending = pendingFrom(app, fields.request_id);
  if (!pending) return showExpired(app, context);
  const values = {
    firstName: normalizeName((fields.p_first_name ?? "").slice(0, 1000)),
    lastName: normalizeName((fields.p_last_name ?? "").slice(0, 1000)),
    email: normalizeEmail(fields.p_email ?? "").slice(0, 1000),
  };
  const password = fields.p_password ?? "";
  const found = {
    firstName: nameError(values.firstName),
    lastName: nameError(values.lastName),
    email: signUpEmailError(app, values.email),
    password: passwordError(password),
  };
  const errors: SignUpErrors = Object.fromEntries(Object.entries(found).filter(([, error]) => error !== undefined));
  const showErrors = (shown: SignUpErrors) =>
    sendHtml(context.response, 400, signUpPage({ ...formBasics(pending), values, errors: shown }));
  if (Object.keys(errors).length > 0) return showErrors(errors);
  const user = await app.store
    .createUser({
      email: values.email,
      givenName: values.firstName || null,
      familyName: values.lastName || null,
      passwordHash: await hashPassword(password),
    })
    .catch((error: unknown) => {
      if (error instanceof EmailTakenError) return undefined;
      throw error;
    });
  if (!user) return showErrors({ email: EMAIL_TAKEN });
  app.log(`created user ${user.id}`);
  await emitUserEvent(app, "user.created", "user", user);
  await startSession(app, context, pending, user);
}

function signUpEmailError(app: AppContext, email: string): string | undefined {
  if (email === "") return "Enter your email address.";
  if (!isValidEmail(email)) return "Enter an email address like name@example.com.";
  return app.store.findUserByEmail(email) ? EMAIL_TAKEN : undefined;
}

function passwordError(password: string): string | undefined {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return `Use at least ${MIN_PASSWORD_LENGTH} characters.`;
  if (length > MAX_PASSWORD_LENGTH) return `Use at most ${MAX_PASSWORD_LENGTH} characters.`;
  return undefined;
}

async function startSession(app: AppContext, context: RequestContext, pending: Pending, user: StoredUser) {
  const previous = currentSession(app, context);
  if (previous) await app.store.deleteSession(previous.id);
  const now = app.clock();
  const { id } = await app.store.createSession(user.id, now);
  await app.store.recordSignIn(user.id);
  // Single sign-on from an existing session is not an authentication, so it sends none.
  await app.webhooks.emit("user.authenticated", "user", {
    ip_address: clientAddress(context.request),
    user: { id: user.id },
  });
  const cookie = sessionCookie(id, Math.floor(app.lifetimes.refresh));
  await finishSignIn(app, context, pending.request, user.id, now, [cookie]);
}

/**
 * Creates the organization asked for (the person is its first member, with the creator's role)
 * or checks org_code: a person who is not a member of it is refused, never signed in to another.
 */
async function finishSignIn(
  app: AppContext,
  context: RequestContext,
  request: AuthorizationRequest,
  userId: string,
  authTime: number,
  setCookie?: string[],
) {
  const config = await app.config.current();
  const user = app.store.getUser(userId);
  let orgCode = request.orgCode;
  if (user && request.createOrgName !== null) {
    const organization = await createOrganization(app.store, request.createOrgName, app.clock());
    await addMember(app.store, organization.code, user.id, creatorAccess(config));
    app.log(`created organization ${organization.code}`);
    await emitOrganizationEvent(app, "organization.created", "user", organization);
    orgCode = organization.code;
  } else if (user && orgCode !== null && !claimsFor(config, app.store, user, orgCode)) {
    const link = { href: new URL(request.redirectUri).origin, text: "Go back to the app" };
    const message =
      "You are not a member of the organization you tried to sign in to. Ask one of its administrators to add you.";
    const headers = setCookie ? { "Set-Cookie": setCookie } : {};
    return sendMessage(context.response, 403, { title: "Not a member", message, link, role: "alert" }, headers);
  }
  const code = randomToken();
  const { state, loginHint, createOrgName, ...kept } = request;
  app.codes.set(code, {
    ...kept,
    orgCode,
    userId,
    authTime,
    familyId: randomToken(16),
    used: false,
    expiresAt: app.clock() + CODE_TTL_MS,
  });
  const url = new URL(request.redirectUri);
  url.searchParams.set("code", code);
  url.searchParams.set("scope", request.scope.join(" "));
  url.searchParams.set("state", request.state);
  redirect(context.response, url.href, setCookie ? { "Set-Cookie": setCookie } : {});
}

function errorRedirect(redirectUri: string, error: string, description: string, state: string | undefined) {
  const url = new URL(redirectUri);
  url.searchParams.set("error", error);
  url.searchParams.set("error_description", description);
  if (state !== undefined) url.searchParams.set("state", state);
  return url.href;
}

async function formFields<Name extends string>(context: RequestContext, names: readonly Name[]) {
  assertSameOriginPost(context.request);
  return (await readForm(context.request)).pick(names);
}

function pendingFrom(app: AppContext, id: string | undefined): Pending | undefined {
  const request = id === undefined || id.length > 100 ? undefined : app.authorizationRequests.get(id);
  return id !== undefined && request ? { id, request } : undefined;
}

function formBasics({ id, request }: Pending) {
  return { requestId: id, appOrigin: new URL(request.redirectUri).origin, createOrgName: request.createOrgName };
}

function hintedEmail(request: AuthorizationRequest): string {
  const email = normalizeEmail(request.loginHint ?? "");
  return isValidEmail(email) ? email : "";
}

function showSignInForm(
  context: RequestContext,
  pending: Pending,
  status: number,
  email = hintedEmail(pending.request),
  error?: string,
) {
  sendHtml(context.response, status, signInPage({ ...formBasics(pending), email, error }));
}

function showSignUpForm(context: RequestContext, pending: Pending) {
  const values = { firstName: "", lastName: "", email: hintedEmail(pending.request) };
  sendHtml(context.response, 200, signUpPage({ ...formBasics(pending), values }));
}

function showSetPasswordForm(
  context: RequestContext,
  pending: Pending,
  setupId: string,
  setup: PasswordSetup,
  user: StoredUser,
  error?: string,
) {
  const page = setPasswordPage({ ...formBasics(pending), setupId, email: user.email, reason: setup.reason, error });
  sendHtml(context.response, error ? 400 : 200, page);
}

function showExpired(app: AppContext, context: RequestContext) {
  const message =
    "Sign-in links last 30 minutes and do not survive a restart of this server. Go back to the app and sign in again.";
  const link = { href: app.siteUrl, text: "Go to the app" };
  sendMessage(context.response, 400, { title: "This sign-in link has expired", message, link, role: "alert" });
}

import { z } from "zod";
import { allows } from "../applications.ts";
import {
  clientAddress,
  currentSession,
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
import { assertSameOriginPost, HttpError, readForm, redirect, sendHtml } from "../http.ts";
import {
  messagePage,
  setPasswordPage,
  signInPage,
  signUpPage,
  type SignUpErrors,
  type SignUpValues,
} from "../pages.ts";
import {
  burnPasswordCheck,
  hashPassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  verifyPassword,
} from "../passwords.ts";
import { EmailTakenError, randomToken, type StoredUser } from "../store.ts";
import { isValidEmail, nameError, normalizeEmail, normalizeName } from "../validation.ts";

/** Shown on the sign-in page to a suspended user who entered the right password. */
export const SUSPENDED_MESSAGE = "Your account has been suspended. Contact the app's administrator to restore access.";

const DEFAULT_SCOPE = ["openid", "profile", "email", "offline"];
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,100}$/; // RFC 6749 section 3.3

const authorizeQuery = z.object({
  response_type: z.string().max(100).optional(),
  state: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[\x20-\x7e]+$/, "must be printable ASCII")
    .optional(),
  scope: z.string().max(2000).optional(),
  start_page: z.string().max(100).optional(),
  prompt: z.string().max(100).optional(),
  login_hint: z.string().max(1000).optional(),
  audience: z.array(z.string().min(1).max(500)).max(10).optional(),
  code_challenge: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, "must be a base64url SHA-256 digest")
    .optional(),
  code_challenge_method: z.literal("S256", "only S256 is supported").optional(),
});
const AUTHORIZE_PARAMETERS = Object.keys(authorizeQuery.shape);

/** GET /oauth2/auth, the sign-in and sign-up pages and their forms, and Cancel. */
export function authorizationRoutes(app: AppContext) {
  const errorRedirect = (redirectUri: string, error: string, description: string, state: string | undefined) => {
    const url = new URL(redirectUri);
    url.searchParams.set("error", error);
    url.searchParams.set("error_description", description);
    if (state !== undefined) url.searchParams.set("state", state);
    return url.href;
  };

  const expired = (context: RequestContext) =>
    sendHtml(
      context.response,
      400,
      messagePage({
        title: "This sign-in link has expired",
        message:
          "Sign-in links last 30 minutes and do not survive a restart of this server. Go back to the app and sign in again.",
        link: { href: app.siteUrl, text: "Go to the app" },
        role: "alert",
      }),
    );

  /** Issues a single-use code for the request and sends the browser back to the app. */
  const completeWithCode = (
    context: RequestContext,
    request: AuthorizationRequest,
    userId: string,
    authTime: number,
    setCookie?: string[],
  ) => {
    const code = randomToken();
    app.codes.set(code, {
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      userId,
      scope: request.scope,
      audience: request.audience,
      authTime,
      codeChallenge: request.codeChallenge,
      familyId: randomToken(16),
      used: false,
      expiresAt: app.clock() + CODE_TTL_MS,
    });
    const url = new URL(request.redirectUri);
    url.searchParams.set("code", code);
    url.searchParams.set("scope", request.scope.join(" "));
    url.searchParams.set("state", request.state);
    redirect(context.response, url.href, setCookie ? { "Set-Cookie": setCookie } : {});
  };

  /** Starts the provider session for a user who just proved who they are. */
  const signedIn = async (context: RequestContext, request: AuthorizationRequest, user: StoredUser) => {
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
    const maxAge = Math.floor(app.lifetimes.refresh);
    completeWithCode(context, request, user.id, now, [sessionCookie(id, maxAge)]);
  };

  const appOrigin = (request: AuthorizationRequest) => new URL(request.redirectUri).origin;

  const pendingRequest = (id: string | undefined) =>
    id === undefined || id.length > 100 ? undefined : app.authorizationRequests.get(id);

  const renderSignIn = (
    context: RequestContext,
    status: number,
    id: string,
    request: AuthorizationRequest,
    email: string,
    error?: string,
  ) =>
    sendHtml(
      context.response,
      status,
      signInPage({ requestId: id, appOrigin: appOrigin(request), email, ...(error ? { error } : {}) }),
    );

  const renderSignUp = (
    context: RequestContext,
    status: number,
    id: string,
    request: AuthorizationRequest,
    values: SignUpValues,
    errors?: SignUpErrors,
  ) =>
    sendHtml(
      context.response,
      status,
      signUpPage({ requestId: id, appOrigin: appOrigin(request), values, ...(errors ? { errors } : {}) }),
    );

  const renderSetPassword = (
    context: RequestContext,
    status: number,
    setupId: string,
    setup: PasswordSetup,
    request: AuthorizationRequest,
    user: StoredUser,
    error?: string,
  ) =>
    sendHtml(
      context.response,
      status,
      setPasswordPage({
        requestId: setup.requestId,
        setupId,
        appOrigin: appOrigin(request),
        email: user.email,
        reason: setup.reason,
        ...(error ? { error } : {}),
      }),
    );

  const passwordError = (password: string) => {
    const length = [...password].length;
    if (length < MIN_PASSWORD_LENGTH) return `Use at least ${MIN_PASSWORD_LENGTH} characters.`;
    if (length > MAX_PASSWORD_LENGTH) return `Use at most ${MAX_PASSWORD_LENGTH} characters.`;
    return undefined;
  };

  const hintedEmail = (request: AuthorizationRequest) =>
    request.loginHint !== undefined && isValidEmail(normalizeEmail(request.loginHint))
      ? normalizeEmail(request.loginHint)
      : "";

  return {
    async authorize(context) {
      const { query, response } = context;
      // Until client_id and redirect_uri are known to be good, errors stay on this server:
      // redirecting to an unvalidated redirect_uri would make this an open redirector.
      const clientIds = query.all("client_id");
      const client = clientIds.length === 1 ? await app.applications.find(clientIds[0] ?? "") : undefined;
      if (!client || client.type !== "regular") {
        return sendHtml(
          response,
          400,
          messagePage({
            title: "Unknown app",
            message: client
              ? "The app that sent you here is a machine-to-machine application: people cannot sign in to it."
              : "The app that sent you here is not registered with this server. Check that KINDE_CLIENT_ID is the same for the app and for the local Kinde server (or add the app to the config file's applications).",
            role: "alert",
          }),
        );
      }
      const redirectUris = query.all("redirect_uri");
      const redirectUri = redirectUris.length === 1 ? (redirectUris[0] ?? "") : "";
      if (!allows(client.callbackUrls, redirectUri)) {
        return sendHtml(
          response,
          400,
          messagePage({
            title: "Return address not allowed",
            message: `The app asked to send you back to an address that is not one of its allowed callback URLs: ${client.callbackUrls.join(", ")} (set with KINDE_LOCAL_CALLBACK_URLS, or the application's callback_urls).`,
            role: "alert",
          }),
        );
      }
      const states = query.all("state");
      const echoState = states.length === 1 && /^[\x20-\x7e]{1,1024}$/.test(states[0] ?? "") ? states[0] : undefined;
      let picked: Record<string, string | string[]>;
      try {
        picked = query.pick(AUTHORIZE_PARAMETERS, ["audience"]);
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        return redirect(response, errorRedirect(redirectUri, "invalid_request", error.message, echoState));
      }
      const parsed = authorizeQuery.safeParse(picked);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue?.path.map(String).join(".") || "request";
        return redirect(
          response,
          errorRedirect(
            redirectUri,
            "invalid_request",
            `Invalid ${where}: ${issue?.message ?? "malformed"}`,
            echoState,
          ),
        );
      }
      const params = parsed.data;
      if (params.response_type !== "code") {
        return redirect(
          response,
          errorRedirect(redirectUri, "unsupported_response_type", "Only response_type=code is supported", echoState),
        );
      }
      if (params.state === undefined) {
        return redirect(
          response,
          errorRedirect(redirectUri, "invalid_request", "The state parameter is required", undefined),
        );
      }
      const scope = params.scope === undefined ? DEFAULT_SCOPE : params.scope.split(" ").filter(Boolean);
      if (scope.length === 0 || scope.length > 30 || !scope.every((token) => SCOPE_TOKEN.test(token))) {
        return redirect(
          response,
          errorRedirect(redirectUri, "invalid_scope", "The scope parameter is malformed", params.state),
        );
      }
      if (params.code_challenge_method !== undefined && params.code_challenge === undefined) {
        return redirect(
          response,
          errorRedirect(redirectUri, "invalid_request", "code_challenge_method without code_challenge", params.state),
        );
      }
      const request: AuthorizationRequest = {
        clientId: client.clientId,
        redirectUri,
        state: params.state,
        scope: [...new Set(scope)],
        audience: params.audience ?? [],
        loginHint: params.login_hint,
        codeChallenge: params.code_challenge,
        expiresAt: app.clock() + AUTHORIZATION_REQUEST_TTL_MS,
      };
      const prompts = new Set((params.prompt ?? "").split(" ").filter(Boolean));
      const wantsSignUp = params.start_page === "registration" || prompts.has("create");

      // Single sign-on, as on Kinde: a live session here skips the form.
      const session = currentSession(app, context);
      if (session && !prompts.has("login") && !prompts.has("create")) {
        return completeWithCode(context, request, session.session.userId, session.session.authTime);
      }
      if (prompts.has("none")) {
        return redirect(
          response,
          errorRedirect(redirectUri, "login_required", "The user is not signed in", request.state),
        );
      }
      const id = randomToken(24);
      app.authorizationRequests.set(id, request);
      const email = hintedEmail(request);
      if (wantsSignUp) return renderSignUp(context, 200, id, request, { firstName: "", lastName: "", email });
      return renderSignIn(context, 200, id, request, email);
    },

    async showSignIn(context) {
      const id = context.query.get("request");
      const request = pendingRequest(id);
      if (!id || !request) return expired(context);
      renderSignIn(context, 200, id, request, hintedEmail(request));
    },

    async showSignUp(context) {
      const id = context.query.get("request");
      const request = pendingRequest(id);
      if (!id || !request) return expired(context);
      renderSignUp(context, 200, id, request, { firstName: "", lastName: "", email: hintedEmail(request) });
    },

    async cancel(context) {
      const id = context.query.get("request");
      const request = pendingRequest(id);
      if (!id || !request) return expired(context);
      app.authorizationRequests.delete(id);
      redirect(
        context.response,
        errorRedirect(request.redirectUri, "access_denied", "The user cancelled signing in", request.state),
      );
    },

    async submitSignIn(context) {
      assertSameOriginPost(context.request);
      const form = await readForm(context.request);
      const fields = form.pick(["request_id", "p_email", "p_password"]);
      const id = typeof fields.request_id === "string" ? fields.request_id : undefined;
      const request = pendingRequest(id);
      if (!id || !request) return expired(context);
      const email = normalizeEmail(typeof fields.p_email === "string" ? fields.p_email : "").slice(0, 254);
      const password = typeof fields.p_password === "string" ? fields.p_password : "";
      if (email === "" || password === "") {
        return renderSignIn(context, 400, id, request, email, "Enter your email address and your password.");
      }
      // One message for an unknown email and a wrong password: no account enumeration.
      const failure = "Incorrect email or password.";
      if (password.length > MAX_PASSWORD_LENGTH * 4) return renderSignIn(context, 401, id, request, email, failure);
      const user = app.store.findUserByEmail(email);
      if (!user) {
        await burnPasswordCheck(password);
        return renderSignIn(context, 401, id, request, email, failure);
      }
      // A user created through the Management API has no password: whoever knows the email
      // chooses one (this server counts every email as verified; Kinde would send a code).
      if (user.passwordHash !== null && !(await verifyPassword(password, user.passwordHash))) {
        await app.store.recordFailedSignIn(user.id);
        return renderSignIn(context, 401, id, request, email, failure);
      }
      if (user.isSuspended) return renderSignIn(context, 403, id, request, email, SUSPENDED_MESSAGE);
      if (user.passwordHash === null || user.isPasswordResetRequested) {
        const setup: PasswordSetup = {
          userId: user.id,
          requestId: id,
          reason: user.passwordHash === null ? "no_password" : "reset_requested",
          expiresAt: app.clock() + PASSWORD_SETUP_TTL_MS,
        };
        const setupId = randomToken();
        app.passwordSetups.set(setupId, setup);
        return renderSetPassword(context, 200, setupId, setup, request, user);
      }
      await signedIn(context, request, user);
    },

    async submitSetPassword(context) {
      assertSameOriginPost(context.request);
      const form = await readForm(context.request);
      const fields = form.pick(["request_id", "setup_id", "p_password"]);
      const id = typeof fields.request_id === "string" ? fields.request_id : undefined;
      const request = pendingRequest(id);
      const setupId = typeof fields.setup_id === "string" && fields.setup_id.length <= 100 ? fields.setup_id : "";
      const setup = setupId === "" ? undefined : app.passwordSetups.get(setupId);
      if (!id || !request || !setup || setup.requestId !== id) return expired(context);
      const user = app.store.getUser(setup.userId);
      // The account may have changed since the page was shown (suspended, deleted, or a
      // password set in another tab): start again from the sign-in page.
      const stillNeeded =
        user !== undefined &&
        (setup.reason === "no_password" ? user.passwordHash === null : user.isPasswordResetRequested);
      if (!user || user.isSuspended || !stillNeeded) {
        app.passwordSetups.delete(setupId);
        return renderSignIn(
          context,
          409,
          id,
          request,
          user?.email ?? "",
          user?.isSuspended ? SUSPENDED_MESSAGE : "Sign in again.",
        );
      }
      const password = typeof fields.p_password === "string" ? fields.p_password : "";
      const error = passwordError(password);
      if (error) return renderSetPassword(context, 400, setupId, setup, request, user, error);
      app.passwordSetups.delete(setupId);
      const updated = await app.store.updateUser(user.id, {
        passwordHash: await hashPassword(password),
        isPasswordResetRequested: false,
      });
      if (!updated) return expired(context);
      if (setup.reason === "reset_requested") await emitUserEvent(app, "user.updated", "user", updated);
      await signedIn(context, request, updated);
    },

    async submitSignUp(context) {
      assertSameOriginPost(context.request);
      const form = await readForm(context.request);
      const fields = form.pick(["request_id", "p_first_name", "p_last_name", "p_email", "p_password"]);
      const text = (name: string) => {
        const value = fields[name];
        return typeof value === "string" ? value : "";
      };
      const id = typeof fields.request_id === "string" ? fields.request_id : undefined;
      const request = pendingRequest(id);
      if (!id || !request) return expired(context);

      const values: SignUpValues = {
        firstName: normalizeName(text("p_first_name").slice(0, 1000)),
        lastName: normalizeName(text("p_last_name").slice(0, 1000)),
        email: normalizeEmail(text("p_email")).slice(0, 1000),
      };
      const password = text("p_password");
      const errors: SignUpErrors = {};
      const firstNameError = nameError(values.firstName);
      const lastNameError = nameError(values.lastName);
      if (firstNameError) errors.firstName = firstNameError;
      if (lastNameError) errors.lastName = lastNameError;
      if (values.email === "") errors.email = "Enter your email address.";
      else if (!isValidEmail(values.email)) errors.email = "Enter an email address like name@example.com.";
      const badPassword = passwordError(password);
      if (badPassword) errors.password = badPassword;
      const taken = "An account with this email already exists. Sign in instead.";
      if (!errors.email && app.store.findUserByEmail(values.email)) errors.email = taken;
      if (Object.keys(errors).length > 0) return renderSignUp(context, 400, id, request, values, errors);

      const passwordHash = await hashPassword(password);
      let user: StoredUser;
      try {
        user = await app.store.createUser({
          email: values.email,
          givenName: values.firstName || null,
          familyName: values.lastName || null,
          passwordHash,
        });
      } catch (error) {
        if (error instanceof EmailTakenError) return renderSignUp(context, 400, id, request, values, { email: taken });
        throw error;
      }
      app.log(`created user ${user.id}`);
      await emitUserEvent(app, "user.created", "user", user);
      await signedIn(context, request, user);
    },
  } satisfies Record<string, Handler>;
}

import { z } from "zod";
import { emitUserEvent, type AppContext, type Handler, type RequestContext } from "../context.ts";
import { bearerToken, HttpError, parseWith, readJson, sendJson } from "../http.ts";
import { membershipsOf } from "../organizations.ts";
import { EmailTakenError, type StoredUser, type UserChanges } from "../store.ts";
import { managementAudience, verifyToken } from "../tokens.ts";
import { emailSchema, NAME_MAX_LENGTH, nameError, normalizeEmail, normalizeName } from "../validation.ts";

const USER_ID = /^kp_[0-9a-f]{32}$/;

/** page_size and next_token, as every Kinde listing takes them. */
export const pageQuery = z.object({
  page_size: z
    .string()
    .regex(/^\d{1,3}$/, "must be a number from 1 to 500")
    .optional(),
  next_token: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, "is not a token from a previous page")
    .optional(),
});

const listQuery = pageQuery.extend({ email: z.string().max(254).optional() });

const name = z
  .string()
  .max(1000)
  .transform(normalizeName)
  .refine(
    (value) => nameError(value) === undefined,
    `must be at most ${NAME_MAX_LENGTH} characters without control or invisible formatting characters`,
  );

const picture = z
  .string()
  .max(2000)
  .refine(
    (value) => value === "" || (URL.canParse(value) && ["http:", "https:"].includes(new URL(value).protocol)),
    "must be an absolute http(s) URL",
  );

const updateBody = z.object({
  given_name: name.nullable().optional(),
  family_name: name.nullable().optional(),
  picture: picture.nullable().optional(),
  is_suspended: z.boolean().optional(),
  is_password_reset_requested: z.boolean().optional(),
});

const createBody = z.object({
  profile: z
    .object({
      given_name: name.nullable().optional(),
      family_name: name.nullable().optional(),
      picture: picture.optional(),
    })
    .optional(),
  provided_id: z.string().max(200).optional(),
  identities: z
    .array(z.object({ type: z.string().max(50), details: z.object({ email: z.string().max(1000).optional() }) }))
    .min(1, "needs an email identity")
    .max(10),
});

/** Cut by position in the listing order, not by offset, so concurrent changes neither skip nor repeat users. */
export function encodeCursor(user: StoredUser): string {
  return Buffer.from(`${user.createdAt}|${user.id}`).toString("base64url");
}

export function decodeCursor(token: string): { createdAt: string; id: string } {
  const [createdAt, id, extra] = Buffer.from(token, "base64url").toString("utf8").split("|");
  if (!createdAt || !id || extra !== undefined || !USER_ID.test(id) || Number.isNaN(Date.parse(createdAt))) {
    throw new HttpError(400, "INVALID_REQUEST", "next_token: is not a token from a previous page");
  }
  return { createdAt, id };
}

export function after(user: StoredUser, cursor: { createdAt: string; id: string }): boolean {
  return user.createdAt > cursor.createdAt || (user.createdAt === cursor.createdAt && user.id > cursor.id);
}

/** Checks a Management API request's token: client_credentials, a live M2M application, the rate limit, the scope. */
export function managementAuthorizer(app: AppContext) {
  return async (context: RequestContext, scope: string): Promise<void> => {
    const token = bearerToken(context.request);
    if (!token) throw new HttpError(401, "TOKEN_INVALID", "A Bearer access token is required");
    const audience = managementAudience(app.issuer);
    const payload = await verifyToken(app.key, token, { issuer: app.issuer, now: app.clock(), audience }).catch(() => {
      throw new HttpError(401, "TOKEN_INVALID", "The access token is invalid, expired or not for this API");
    });
    const grantTypes = Array.isArray(payload.gty) ? payload.gty : [];
    const scopes = Array.isArray(payload.scp) ? payload.scp : [];
    if (!grantTypes.includes("client_credentials")) {
      throw new HttpError(403, "FORBIDDEN", "Use a client_credentials token for the Management API");
    }
    const clientId = typeof payload.azp === "string" ? payload.azp : "";
    const client = await app.applications.find(clientId);
    if (!client?.managementApi) {
      throw new HttpError(401, "TOKEN_INVALID", "The application this token was issued to no longer exists");
    }
    const reset = app.apiRateLimiter.take(clientId);
    if (reset !== undefined) {
      throw new HttpError(429, "TOO_MANY_REQUESTS", "Rate limit exceeded; retry after RateLimit-Reset seconds", {
        "RateLimit-Reset": String(reset),
        "Retry-After": String(reset),
      });
    }
    if (!scopes.includes(scope)) throw new HttpError(403, "FORBIDDEN", `The token lacks the ${scope} scope`);
  };
}

export function managementRoutes(app: AppContext) {
  const authorize = managementAuthorizer(app);

  const userIdParameter = (context: RequestContext): string => {
    const id = context.query.get("id");
    if (id === undefined || id === "") throw new HttpError(400, "ID_MISSING", "The id parameter is required");
    return id;
  };

  const findUser = (id: string): StoredUser => {
    const user = USER_ID.test(id) ? app.store.getUser(id) : undefined;
    if (!user) throw new HttpError(404, "USER_NOT_FOUND", "No user with this id");
    return user;
  };

  const kindeUser = (user: StoredUser, config: Awaited<ReturnType<typeof app.config.current>>) => ({
    id: user.id,
    provided_id: user.providedId,
    email: user.email,
    phone: null,
    username: null,
    last_name: user.familyName,
    first_name: user.givenName,
    is_suspended: user.isSuspended,
    picture: user.picture,
    total_sign_ins: user.signInCount,
    failed_sign_ins: user.failedSignInCount,
    last_signed_in: user.lastSignedInAt,
    created_on: user.createdAt,
    organizations: membershipsOf(config, app.store, user).map((membership) => membership.orgCode),
    identities: [{ type: "email", identity: user.email }],
  });

  return {
    async listUsers(context) {
      await authorize(context, "read:users");
      const query = parseWith(listQuery, context.query.pick(["page_size", "next_token", "email"]));
      const pageSize = query.page_size === undefined ? 10 : Number(query.page_size);
      if (pageSize < 1 || pageSize > 500)
        throw new HttpError(400, "INVALID_REQUEST", "page_size must be from 1 to 500");
      const cursor = query.next_token === undefined ? undefined : decodeCursor(query.next_token);
      const email = query.email?.trim().toLowerCase();
      const matching = app.store
        .listUsers()
        .filter((user) => (email === undefined || user.email === email) && (!cursor || after(user, cursor)));
      const page = matching.slice(0, pageSize);
      const last = page.at(-1);
      const config = await app.config.current();
      sendJson(context.response, 200, {
        code: "OK",
        message: "Success",
        users: page.map((user) => kindeUser(user, config)),
        next_token: matching.length > pageSize && last ? encodeCursor(last) : null,
      });
    },

    async getUser(context) {
      await authorize(context, "read:users");
      const user = findUser(userIdParameter(context));
      // The single-user endpoint calls the email "preferred_email", as Kinde's does.
      const { email, ...rest } = kindeUser(user, await app.config.current());
      sendJson(context.response, 200, { ...rest, preferred_email: email });
    },

    /** Kinde's body: {profile: {given_name, family_name}, identities: [{type: "email", details: {email}}]}. */
    async createUser(context) {
      await authorize(context, "create:users");
      const body = parseWith(createBody, await readJson(context.request));
      const emails = body.identities.filter((identity) => identity.type === "email");
      if (emails.length !== body.identities.length || emails.length !== 1) {
        throw new HttpError(
          400,
          "INVALID_IDENTITY",
          "The local server supports exactly one identity, of type email (phone and username identities are not implemented)",
        );
      }
      const email = normalizeEmail(emails[0]?.details.email ?? "");
      if (!emailSchema.safeParse(email).success) {
        throw new HttpError(400, "INVALID_EMAIL", "identities.0.details.email: must be an email address");
      }
      // No password: the person chooses one at their first sign-in (see README.md).
      const user = await app.store
        .createUser({
          email,
          givenName: body.profile?.given_name || null,
          familyName: body.profile?.family_name || null,
          passwordHash: null,
          picture: body.profile?.picture || null,
          providedId: body.provided_id ?? null,
        })
        .catch((error: unknown) => {
          if (!(error instanceof EmailTakenError)) throw error;
          throw new HttpError(409, "USER_ALREADY_EXISTS", "A user with this email already exists");
        });
      await emitUserEvent(app, "user.created", "api", user);
      sendJson(context.response, 200, {
        id: user.id,
        created: true,
        identities: [{ type: "email", result: { created: true } }],
      });
    },

    async updateUser(context) {
      await authorize(context, "update:users");
      const id = userIdParameter(context);
      const before = findUser(id);
      const body = parseWith(updateBody, await readJson(context.request));
      // An empty name or picture clears it.
      const cleared = (value: string | null | undefined) => (value === undefined ? undefined : value || null);
      const changes: UserChanges = {
        givenName: cleared(body.given_name),
        familyName: cleared(body.family_name),
        picture: cleared(body.picture),
        isSuspended: body.is_suspended,
        isPasswordResetRequested: body.is_password_reset_requested,
      };
      const wasSuspended = before.isSuspended;
      const changed = Object.entries(changes).some(
        ([key, value]) => value !== undefined && value !== before[key as keyof UserChanges],
      );
      let user = before;
      if (changed) {
        const updated = await app.store.updateUser(id, changes);
        if (!updated) throw new HttpError(404, "USER_NOT_FOUND", "No user with this id");
        user = updated;
        if (user.isSuspended && !wasSuspended)
          app.log(`suspended user ${id}; their sessions and refresh tokens are ended`);
        if (!user.isSuspended && wasSuspended) app.log(`un-suspended user ${id}`);
        await emitUserEvent(app, "user.updated", "api", user);
      }
      sendJson(context.response, 200, {
        id: user.id,
        given_name: user.givenName,
        family_name: user.familyName,
        email: user.email,
        is_suspended: user.isSuspended,
        is_password_reset_requested: user.isPasswordResetRequested,
        picture: user.picture,
      });
    },

    async deleteUser(context) {
      await authorize(context, "delete:users");
      const id = userIdParameter(context);
      findUser(id);
      await app.store.deleteUser(id);
      app.log(`deleted user ${id}`);
      await app.webhooks.emit("user.deleted", "api", { user: { id } });
      sendJson(context.response, 200, { code: "OK", message: "User successfully deleted" });
    },
  } satisfies Record<string, Handler>;
}

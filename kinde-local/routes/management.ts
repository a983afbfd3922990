import { z } from "zod";
import { resolveUserClaims } from "../config.ts";
import type { AppContext, Handler, RequestContext } from "../context.ts";
import { bearerToken, HttpError, parseWith, readJson, sendJson } from "../http.ts";
import type { StoredUser } from "../store.ts";
import { managementAudience, verifyToken } from "../tokens.ts";
import { nameError } from "../validation.ts";

/**
 * The part of Kinde's Management API an app typically calls about its users, with Kinde's
 * field names and error shape ({"errors":[{code, message}]}). Tokens come from the
 * client_credentials grant.
 */

const USER_ID = /^kp_[0-9a-f]{32}$/;

const listQuery = z.object({
  page_size: z
    .string()
    .regex(/^\d{1,3}$/, "must be a number from 1 to 500")
    .optional(),
  next_token: z
    .string()
    .regex(/^n_\d{1,7}$/, "is not a token from a previous page")
    .optional(),
  email: z.string().max(254).optional(),
});

const namePatch = z
  .string()
  .max(1000)
  .transform((name) => name.trim())
  .refine((name) => nameError(name) === undefined, "must be at most 100 characters without control characters")
  .nullable()
  .optional();
const updateBody = z.object({ given_name: namePatch, family_name: namePatch });

export function managementRoutes(app: AppContext) {
  const authorize = async (context: RequestContext, scope: string) => {
    const token = bearerToken(context.request);
    if (!token) throw new HttpError(401, "TOKEN_INVALID", "A Bearer access token is required");
    let payload;
    try {
      payload = await verifyToken(app.key, token, {
        issuer: app.issuer,
        now: app.clock(),
        audience: managementAudience(app.issuer),
      });
    } catch {
      throw new HttpError(401, "TOKEN_INVALID", "The access token is invalid, expired or not for this API");
    }
    const grantTypes = Array.isArray(payload.gty) ? payload.gty : [];
    const scopes = Array.isArray(payload.scp) ? payload.scp : [];
    if (!grantTypes.includes("client_credentials")) {
      throw new HttpError(403, "FORBIDDEN", "Use a client_credentials token for the Management API");
    }
    if (!scopes.includes(scope)) throw new HttpError(403, "FORBIDDEN", `The token lacks the ${scope} scope`);
  };

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

  const kindeUser = async (user: StoredUser) => {
    const claims = resolveUserClaims(await app.config.current(), user.email);
    return {
      id: user.id,
      provided_id: null,
      email: user.email,
      phone: null,
      username: null,
      last_name: user.familyName,
      first_name: user.givenName,
      is_suspended: false,
      picture: null,
      total_sign_ins: user.signInCount,
      failed_sign_ins: 0,
      last_signed_in: user.lastSignedInAt,
      created_on: user.createdAt,
      organizations: claims.orgCodes,
      identities: [{ type: "email", identity: user.email }],
    };
  };

  return {
    async listUsers(context) {
      await authorize(context, "read:users");
      const query = parseWith(listQuery, context.query.pick(["page_size", "next_token", "email"]));
      const pageSize = query.page_size === undefined ? 10 : Number(query.page_size);
      if (pageSize < 1 || pageSize > 500)
        throw new HttpError(400, "INVALID_REQUEST", "page_size must be from 1 to 500");
      const offset = query.next_token === undefined ? 0 : Number(query.next_token.slice(2));
      const email = query.email?.trim().toLowerCase();
      const matching = app.store.listUsers().filter((user) => email === undefined || user.email === email);
      const page = matching.slice(offset, offset + pageSize);
      const next = offset + pageSize < matching.length ? `n_${offset + pageSize}` : null;
      sendJson(context.response, 200, {
        code: "OK",
        message: "Success",
        users: await Promise.all(page.map(kindeUser)),
        next_token: next,
      });
    },

    async getUser(context) {
      await authorize(context, "read:users");
      const user = findUser(userIdParameter(context));
      // The single-user endpoint calls the email "preferred_email", as Kinde's does.
      const { email, ...rest } = await kindeUser(user);
      sendJson(context.response, 200, { ...rest, preferred_email: email });
    },

    async updateUser(context) {
      await authorize(context, "update:users");
      const id = userIdParameter(context);
      findUser(id);
      const body = parseWith(updateBody, await readJson(context.request));
      const names: { givenName?: string | null; familyName?: string | null } = {};
      if (body.given_name !== undefined) names.givenName = body.given_name || null;
      if (body.family_name !== undefined) names.familyName = body.family_name || null;
      const user = findUserAfter(await app.store.updateUserNames(id, names));
      sendJson(context.response, 200, {
        id: user.id,
        given_name: user.givenName,
        family_name: user.familyName,
        email: user.email,
        is_suspended: false,
        is_password_reset_requested: false,
        picture: null,
      });
    },

    async deleteUser(context) {
      await authorize(context, "delete:users");
      const id = userIdParameter(context);
      findUser(id);
      await app.store.deleteUser(id);
      app.log(`deleted user ${id}`);
      sendJson(context.response, 200, { code: "OK", message: "User successfully deleted" });
    },
  } satisfies Record<string, Handler>;
}

function findUserAfter(user: StoredUser | undefined): StoredUser {
  if (!user) throw new HttpError(404, "USER_NOT_FOUND", "No user with this id");
  return user;
}

import type { AppContext, Handler } from "../context.ts";
import { bearerToken, HttpError, sendJson } from "../http.ts";
import { displayName, verifyToken } from "../tokens.ts";

/** GET /oauth2/v2/user_profile: the signed-in user, for a user access token. */
export function userProfileRoute(app: AppContext): Handler {
  return async ({ request, response }) => {
    const refuse = (description: string) =>
      new HttpError(401, "invalid_token", description, { "WWW-Authenticate": 'Bearer error="invalid_token"' });
    const token = bearerToken(request);
    if (!token) throw refuse("A Bearer access token is required");
    const payload = await verifyToken(app.key, token, { issuer: app.issuer, now: app.clock() }).catch(() => {
      throw refuse("The access token is invalid or expired");
    });
    // ID tokens and machine tokens are signed with the same key; only user access tokens
    // carry both sub and scp.
    if (typeof payload.sub !== "string" || !Array.isArray(payload.scp)) throw refuse("Not a user access token");
    const user = app.store.getUser(payload.sub);
    if (!user) throw refuse("The user no longer exists");
    if (user.isSuspended) throw refuse("The user is suspended");
    sendJson(response, 200, {
      sub: user.id,
      id: user.id,
      provided_id: null,
      name: displayName(user),
      given_name: user.givenName,
      family_name: user.familyName,
      updated_at: Math.floor(Date.parse(user.updatedAt) / 1000),
      email: user.email,
      picture: user.picture,
    });
  };
}

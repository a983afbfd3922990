import type { AppContext, Handler } from "../context.ts";
import { bearerToken, sendJson } from "../http.ts";
import { displayName, verifyToken } from "../tokens.ts";

/** GET /oauth2/v2/user_profile: the signed-in user, for a user access token. */
export function userProfileRoute(app: AppContext): Handler {
  return async ({ request, response }) => {
    const refuse = (description: string) =>
      sendJson(
        response,
        401,
        { error: "invalid_token", error_description: description },
        { "WWW-Authenticate": 'Bearer error="invalid_token"' },
      );
    const token = bearerToken(request);
    if (!token) return refuse("A Bearer access token is required");
    let payload;
    try {
      payload = await verifyToken(app.key, token, { issuer: app.issuer, now: app.clock() });
    } catch {
      return refuse("The access token is invalid or expired");
    }
    // ID tokens and machine tokens are signed with the same key; only user access tokens
    // carry both sub and scp.
    if (typeof payload.sub !== "string" || !Array.isArray(payload.scp)) return refuse("Not a user access token");
    const user = app.store.getUser(payload.sub);
    if (!user) return refuse("The user no longer exists");
    if (user.isSuspended) return refuse("The user is suspended");
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

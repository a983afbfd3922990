import type { AppContext, Handler } from "../context.ts";
import { sendHtml, sendJson } from "../http.ts";
import { homePage } from "../pages.ts";
import { ID_TOKEN_CLAIMS } from "../tokens.ts";

// Public documents: browsers' single-page apps fetch them across origins, as from Kinde.
const PUBLIC = { "Access-Control-Allow-Origin": "*" };

export function discoveryRoutes(app: AppContext) {
  const jwks = { keys: [app.key.publicJwk] };
  const configuration = {
    issuer: app.issuer,
    authorization_endpoint: `${app.issuer}/oauth2/auth`,
    token_endpoint: `${app.issuer}/oauth2/token`,
    userinfo_endpoint: `${app.issuer}/oauth2/v2/user_profile`,
    jwks_uri: `${app.issuer}/.well-known/jwks.json`,
    end_session_endpoint: `${app.issuer}/logout`,
    revocation_endpoint: `${app.issuer}/oauth2/revoke`,
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code", "refresh_token", "client_credentials"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: ["RS256"],
    scopes_supported: ["openid", "profile", "email", "offline"],
    token_endpoint_auth_methods_supported: ["client_secret_post", "client_secret_basic"],
    code_challenge_methods_supported: ["S256"],
    claims_supported: ID_TOKEN_CLAIMS,
  };
  return {
    async home({ response }) {
      sendHtml(response, 200, homePage({ issuer: app.issuer, siteUrl: app.siteUrl }));
    },
    async jwks({ response }) {
      sendJson(response, 200, jwks, PUBLIC);
    },
    async openidConfiguration({ response }) {
      sendJson(response, 200, configuration, PUBLIC);
    },
  } satisfies Record<string, Handler>;
}

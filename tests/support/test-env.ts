/** Configuration for app code run inside a test process: valid, local, never the developer's. */
export const TEST_CLIENT_ID = "0123456789abcdef0123456789abcdef";
export const TEST_CLIENT_SECRET = "testsecret0123456789abcdefghijklmnopqrstuvwxyz";
export const TEST_SESSION_SECRET = "test-session-secret-0123456789abcdef0123456789";

export function appEnv(options: { siteUrl: string; issuerUrl: string; databaseFile: string }): Record<string, string> {
  return {
    DATABASE_URL: `file:${options.databaseFile}`,
    KINDE_CLIENT_ID: TEST_CLIENT_ID,
    KINDE_CLIENT_SECRET: TEST_CLIENT_SECRET,
    KINDE_ISSUER_URL: options.issuerUrl,
    KINDE_SITE_URL: options.siteUrl,
    KINDE_POST_LOGIN_REDIRECT_URL: `${options.siteUrl}/auth/success`,
    KINDE_POST_LOGOUT_REDIRECT_URL: options.siteUrl,
    SESSION_SECRET: TEST_SESSION_SECRET,
  };
}

// See docs/decisions/0006-csp.md.
import { randomBytes } from "node:crypto";
import { env } from "../config/env.server";

export function createNonce(): string {
  return randomBytes(16).toString("base64");
}

export function contentSecurityPolicy(nonce: string): string {
  const isDev = env.NODE_ENV === "development";
  const issuer = new URL(env.KINDE_ISSUER_URL).origin;
  return [
    "default-src 'self'",
    // Only Remix's own inline scripts carry the nonce; no 'unsafe-inline' for scripts.
    `script-src 'self' 'nonce-${nonce}'`,
    "style-src 'self'",
    // Profile pictures come from the identity provider (Gravatar, Google, ...).
    "img-src 'self' data: https:",
    // Vite's dev server pushes hot updates over a websocket.
    `connect-src 'self'${isDev ? " ws: wss:" : ""}`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    // Sign-out's POST redirects to Kinde's /logout, and form-action applies to that redirect too.
    `form-action 'self' ${issuer}`,
    "frame-ancestors 'none'",
  ].join("; ");
}

export function applySecurityHeaders(headers: Headers, nonce?: string): void {
  if (nonce) headers.set("Content-Security-Policy", contentSecurityPolicy(nonce));
  headers.set("X-Content-Type-Options", "nosniff");
  headers.set("Referrer-Policy", "strict-origin-when-cross-origin");
  headers.set("X-Frame-Options", "DENY");
  headers.set("Cross-Origin-Opener-Policy", "same-origin");
  headers.set("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
  if (env.NODE_ENV === "production") {
    headers.set("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
  }
}

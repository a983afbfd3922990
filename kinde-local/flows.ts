import type { Clock } from "./store.ts";

export const AUTHORIZATION_REQUEST_TTL_MS = 30 * 60_000;
export const CODE_TTL_MS = 10 * 60_000;
export const PASSWORD_SETUP_TTL_MS = 10 * 60_000;
/** Bounds memory if something requests /oauth2/auth in a loop. */
const MAX_ENTRIES = 10_000;

export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  state: string;
  scope: string[];
  audience: string[];
  loginHint: string | undefined;
  codeChallenge: string | undefined;
  /** Returned in the ID token exactly as sent (OIDC Core 3.1.2.1). */
  nonce: string | undefined;
  /** org_code: sign in to this organization (only if a member). */
  orgCode: string | null;
  /** is_create_org with org_name: create this organization with the person as its admin. */
  createOrgName: string | null;
  expiresAt: number;
}

export interface AuthorizationCode extends Omit<AuthorizationRequest, "state" | "loginHint" | "createOrgName"> {
  userId: string;
  authTime: number;
  familyId: string;
  /** Kept after use until expiry so a replay can be recognised (and its tokens revoked). */
  used: boolean;
  expiresAt: number;
}

export interface PasswordSetup {
  userId: string;
  requestId: string;
  reason: "no_password" | "reset_requested";
  expiresAt: number;
}

export class ExpiringMap<V extends { expiresAt: number }> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly clock: Clock) {}

  set(key: string, value: V): void {
    this.sweep();
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
  }

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value && value.expiresAt <= this.clock()) {
      this.entries.delete(key);
      return undefined;
    }
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  deleteWhere(predicate: (value: V) => boolean): void {
    for (const [key, value] of this.entries) if (predicate(value)) this.entries.delete(key);
  }

  private sweep(): void {
    const now = this.clock();
    // Insertion order is expiry order (fixed TTL), so stop at the first live entry.
    for (const [key, value] of this.entries) {
      if (value.expiresAt > now) break;
      this.entries.delete(key);
    }
  }
}

import type { Clock } from "./store.ts";

/** Requests allowed per client within a window; Kinde answers 429 with RateLimit-Reset. */
export type RateLimit = Record<"requests" | "windowSeconds", number>;

/** Generous, so a test can create thousands of users; set KINDE_LOCAL_API_RATE_LIMIT to tighten it. */
export const DEFAULT_API_RATE_LIMIT: RateLimit = { requests: 6_000, windowSeconds: 60 };

export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: RateLimit | false,
    private readonly clock: Clock,
  ) {}

  /** The seconds until the window resets, when refused. */
  take(key: string): number | undefined {
    if (this.limit === false) return undefined;
    const now = this.clock();
    const windowMs = this.limit.windowSeconds * 1000;
    let window = this.windows.get(key);
    if (!window || now - window.start >= windowMs) {
      if (this.windows.size > 1_000) this.windows.clear(); // bounded: client ids are few
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    if (window.count >= this.limit.requests) return Math.max(1, Math.ceil((window.start + windowMs - now) / 1000));
    window.count += 1;
    return undefined;
  }
}

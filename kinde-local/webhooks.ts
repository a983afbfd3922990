import { randomBytes } from "node:crypto";
import type { JWTPayload } from "jose";
import type { SigningKey } from "./keys.ts";
import type { Clock, Store, StoredDelivery } from "./store.ts";
import { signJwt } from "./tokens.ts";
import { buildEvent, type WebhookEndpoint, type WebhookEventType, type WebhookSource } from "./webhook-events.ts";

export interface WebhookRetryPolicy {
  /** The last one repeats. */
  retryDelaysMs: number[];
  giveUpAfterMs: number;
  timeoutMs: number;
}

/** Kinde's schedule (immediately, 5 s, 30 s, 2 min, 10 min, 1 h, 4 h, every 12 h to 36 h) shortened for development. */
export const DEFAULT_WEBHOOK_POLICY: WebhookRetryPolicy = {
  retryDelaysMs: [1_000, 5_000, 15_000, 30_000, 60_000, 120_000, 300_000],
  giveUpAfterMs: 60 * 60_000,
  timeoutMs: 10_000,
};

/** Attempts in flight at once, across endpoints. */
const MAX_IN_FLIGHT = 8;
/** setTimeout's limit; a later attempt is simply re-planned when this fires. */
const MAX_TIMER_MS = 2_147_483_647;

export interface WebhookOutboxDependencies {
  store: Store;
  key: SigningKey;
  clock: Clock;
  log: (line: string) => void;
  policy: WebhookRetryPolicy;
  endpoints: () => Promise<WebhookEndpoint[]>;
}

export class WebhookOutbox {
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private readonly settleWaiters = new Set<{ ids: Set<string>; resolve: () => void; reject: (error: Error) => void }>();
  private stopped = false;

  constructor(private readonly deps: WebhookOutboxDependencies) {}

  /** After a restart, pending deliveries are tried at once: whoever restarted the server is waiting for them. */
  start(): void {
    const pending = this.deps.store.listDeliveries();
    if (pending.length === 0) return;
    this.deps.log(`webhooks: ${pending.length} pending deliveries from before the restart`);
    const now = this.deps.clock();
    // Kept in memory only until the next save; a crash before it just means the same again.
    for (const delivery of pending) delivery.nextAttemptAt = Math.min(delivery.nextAttemptAt, now);
    this.plan();
  }

  /** Returns once the event is on disk; the request that caused it never waits for the sending. */
  async emit(type: WebhookEventType, source: WebhookSource, data: Record<string, unknown>): Promise<void> {
    if (this.stopped) return;
    const endpoints = (await this.deps.endpoints()).filter(
      (endpoint) => endpoint.events === undefined || endpoint.events.includes(type),
    );
    if (endpoints.length === 0) return;
    const now = this.deps.clock();
    const event = buildEvent(type, source, data, now);
    const deliveries: StoredDelivery[] = endpoints.map((endpoint) => ({
      id: `msg_${randomBytes(16).toString("hex")}`,
      url: endpoint.url,
      event: { ...event },
      createdAt: now,
      attempts: 0,
      nextAttemptAt: now,
      lastStatus: null,
    }));
    await this.deps.store.addDeliveries(deliveries);
    this.plan();
  }

  settled(): Promise<void> {
    const ids = new Set(this.deps.store.listDeliveries().map((delivery) => delivery.id));
    if (ids.size === 0) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error("webhook deliveries are stopped"));
    return new Promise((resolve, reject) => this.settleWaiters.add({ ids, resolve, reject }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const waiter of this.settleWaiters) waiter.reject(new Error("the server stopped before its webhooks settled"));
    this.settleWaiters.clear();
    clearTimeout(this.timer);
    for (const { controller } of this.inFlight.values()) controller.abort();
    await Promise.all([...this.inFlight.values()].map(({ done }) => done));
  }

  private plan(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const now = this.deps.clock();
    const waiting = this.deps.store
      .listDeliveries()
      .filter((delivery) => !this.inFlight.has(delivery.id))
      .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt);
    for (const delivery of waiting) {
      if (delivery.nextAttemptAt > now) {
        this.timer = setTimeout(() => this.plan(), Math.min(delivery.nextAttemptAt - now, MAX_TIMER_MS));
        this.timer.unref();
        break;
      }
      if (this.inFlight.size >= MAX_IN_FLIGHT) break; // a finishing attempt plans again
      this.attempt(delivery);
    }
  }

  private attempt(delivery: StoredDelivery): void {
    const controller = new AbortController();
    const done = this.send(delivery, controller.signal)
      .catch((error: unknown) => {
        this.deps.log(`webhooks: unexpected error: ${error instanceof Error ? error.message : String(error)}`);
      })
      .finally(() => {
        this.inFlight.delete(delivery.id);
        this.plan();
      });
    this.inFlight.set(delivery.id, { controller, done });
  }

  private async send(delivery: StoredDelivery, stopSignal: AbortSignal): Promise<void> {
    const { policy, log, clock, store } = this.deps;
    const attempt = delivery.attempts + 1;
    // The URL without its query: a query may carry a secret.
    const where = printableUrl(delivery.url);
    const report = (outcome: string) =>
      log(
        `webhook ${String(delivery.event.type)} ${String(delivery.event.event_id)} ${delivery.id} -> ${where} ${outcome}`,
      );
    let status: string;
    try {
      const token = await signJwt(this.deps.key, delivery.event as JWTPayload);
      const response = await fetch(delivery.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/jwt",
          "webhook-id": delivery.id,
          "User-Agent": "kinde-local-webhooks",
        },
        body: token,
        redirect: "manual",
        signal: AbortSignal.any([stopSignal, AbortSignal.timeout(policy.timeoutMs)]),
      });
      await response.body?.cancel();
      status = String(response.status);
    } catch (error) {
      if (stopSignal.aborted) return report("abandoned: the server is stopping (still pending)");
      status = failureReason(error);
    }
    if (this.stopped && status !== "200") return; // stays pending as it was
    const now = clock();
    const delay = policy.retryDelaysMs[Math.min(attempt - 1, policy.retryDelaysMs.length - 1)] ?? 0;
    const end = status === "200" ? "delivered" : now + delay > delivery.createdAt + policy.giveUpAfterMs && "giving up";
    if (end) {
      report(`${status} (attempt ${attempt}, ${end})`);
      await store.settleDelivery(delivery.id, null);
      return this.finished(delivery.id);
    }
    report(`${status} (attempt ${attempt}, next in ${formatDelay(delay)})`);
    await store.settleDelivery(delivery.id, {
      ...delivery,
      attempts: attempt,
      nextAttemptAt: now + delay,
      lastStatus: status,
    });
  }

  private finished(id: string): void {
    for (const waiter of this.settleWaiters) {
      waiter.ids.delete(id);
      if (waiter.ids.size > 0) continue;
      this.settleWaiters.delete(waiter);
      waiter.resolve();
    }
  }
}

export function printableUrl(url: string): string {
  if (!URL.canParse(url)) return "-";
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

function failureReason(error: unknown): string {
  if (error instanceof Error && error.name === "TimeoutError") return "timeout";
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === "string" ? cause.code : "network-error";
}

function formatDelay(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  if (ms < 60_000) return `${Math.round(ms / 1_000)}s`;
  return `${Math.round(ms / 60_000)}min`;
}

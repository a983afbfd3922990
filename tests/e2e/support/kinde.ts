// The local Kinde server from a test worker. It runs inside the app, so a worker learns a delivery is done
// from its store file, where each pending delivery stays until the app has answered it 200.
import { expect } from "@playwright/test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { kindeAdmin } from "../../support/kinde-session.ts";
import { e2eTarget } from "./env";

export function localKindeAdmin(kindeUrl: string) {
  return kindeAdmin({ issuerUrl: kindeUrl });
}

interface StoreFile {
  users: Record<string, { email: string }>;
  webhookDeliveries?: Record<string, { event: { data?: { user?: { id?: string } } } }>;
}

function pendingDeliveries(kindeDataDir: string, who: { email: string } | { kindeId: string }): number {
  // Written atomically (a temporary file renamed over it): never half a file.
  const store = JSON.parse(readFileSync(join(kindeDataDir, "store.json"), "utf8")) as StoreFile;
  const kindeId =
    "kindeId" in who
      ? who.kindeId
      : Object.entries(store.users).find(([, user]) => user.email === who.email.toLowerCase())?.[0];
  return Object.values(store.webhookDeliveries ?? {}).filter((delivery) => delivery.event.data?.user?.id === kindeId)
    .length;
}

/** Resolves at once against an app this suite did not start. */
export async function kindeEventsDelivered(who: { email: string } | { kindeId: string }): Promise<void> {
  const { kindeDataDir } = e2eTarget();
  if (!kindeDataDir) return;
  await expect
    .poll(() => pendingDeliveries(kindeDataDir, who), {
      message: `the local Kinde server's webhooks about ${JSON.stringify(who)} reach the app`,
      intervals: [25, 50, 100, 250],
    })
    .toBe(0);
}

// npm run users:sync. A row is tombstoned only after a complete listing and once Kinde confirms it does
// not know the id: a user missed by paging must not be deleted for good.
import { cleanKindeProfile, type KindeUserFacts } from "./user-facts.server";
import type { KindeApiUser, KindeManagementClient } from "./management-api.server";
import {
  applyKindeUserFacts,
  forgetKindeUser,
  listKindeIdsStoredBefore,
  type KindeUserOutcome,
} from "~/models/user.server";

export interface SyncSummary {
  listed: number;
  pages: number;
  created: number;
  updated: number;
  unchanged: number;
  newer: number;
  deleted: number;
  left: number;
  tombstoned: number;
  keptUnlisted: number;
  dryRun: boolean;
}

export interface SyncOptions {
  client: Pick<KindeManagementClient, "listUsers" | "userExists">;
  dryRun?: boolean;
  log?: (line: string) => void;
  now?: () => Date;
  pageSize?: number;
}

function factsFrom(user: KindeApiUser, listedAt: Date): KindeUserFacts {
  return {
    kindeId: user.id,
    observedAt: listedAt,
    source: "users:sync",
    profile: cleanKindeProfile(user),
    signedInAt: user.lastSignedIn,
    createIfMissing: true,
  };
}

// Which count each outcome adds to ("older": the row holds newer news, a webhook during the listing).
const COUNTED_AS = {
  created: "created",
  updated: "updated",
  unchanged: "unchanged",
  unknown: "unchanged",
  older: "newer",
  deleted: "deleted",
  left: "left",
} as const satisfies Record<KindeUserOutcome["outcome"], keyof SyncSummary>;

export async function syncUsersFromKinde(options: SyncOptions): Promise<SyncSummary> {
  const { client, dryRun = false, log = () => {}, now = () => new Date() } = options;
  const listedAt = now();
  const summary: SyncSummary = {
    listed: 0,
    pages: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    newer: 0,
    deleted: 0,
    left: 0,
    tombstoned: 0,
    keptUnlisted: 0,
    dryRun,
  };
  const listed = new Set<string>();
  for await (const page of client.listUsers(options.pageSize)) {
    summary.pages++;
    for (const user of page) {
      if (listed.has(user.id)) continue;
      listed.add(user.id);
      summary.listed++;
      const result = await applyKindeUserFacts(factsFrom(user, listedAt), { dryRun });
      summary[COUNTED_AS[result.outcome]]++;
      if (dryRun && result.outcome === "created") log(`would create ${user.id}`);
      if (dryRun && result.outcome === "updated") log(`would update ${user.id}: ${result.changed.join(", ")}`);
    }
    log(`page ${summary.pages}: ${page.length} users (${summary.listed} so far)`);
  }
  const unlisted = await forgetUnlisted(await listKindeIdsStoredBefore(listedAt), listed, {
    exists: (kindeId) => client.userExists(kindeId),
    forget: (kindeId) => forgetKindeUser(kindeId, listedAt),
    verb: { toDo: "tombstone", done: "tombstoned" },
    dryRun,
    log,
  });
  summary.tombstoned = unlisted.forgotten;
  summary.keptUnlisted = unlisted.kept;
  return summary;
}

/** Ids stored before a complete listing and not in it, forgotten once Kinde confirms, one by one, it lacks them. */
export async function forgetUnlisted(
  stored: string[],
  listed: Set<string>,
  options: {
    exists: (id: string) => Promise<boolean>;
    forget: (id: string) => Promise<unknown>;
    verb: { toDo: string; done: string };
    dryRun: boolean;
    log: (line: string) => void;
  },
): Promise<{ forgotten: number; kept: number }> {
  const { exists, forget, verb, dryRun, log } = options;
  const counts = { forgotten: 0, kept: 0 };
  for (const id of stored) {
    if (listed.has(id)) continue;
    if (await exists(id)) {
      counts.kept++;
      log(`${id} was not listed but Kinde still has it: kept`);
      continue;
    }
    counts.forgotten++;
    if (!dryRun) await forget(id);
    log(`${dryRun ? `would ${verb.toDo}` : verb.done} ${id} (deleted at Kinde)`);
  }
  return counts;
}

export function formatSummary(summary: SyncSummary): string {
  const changes = [
    `${summary.created} created`,
    `${summary.updated} updated`,
    `${summary.unchanged} unchanged`,
    `${summary.tombstoned} tombstoned`,
  ];
  const notes = [
    summary.newer > 0 ? `${summary.newer} kept newer data` : "",
    summary.deleted > 0 ? `${summary.deleted} listed but deleted before (not stored)` : "",
    summary.left > 0 ? `${summary.left} deleted their account here (not stored)` : "",
    summary.keptUnlisted > 0 ? `${summary.keptUnlisted} not listed but still at Kinde (kept)` : "",
  ].filter(Boolean);
  const prefix = summary.dryRun ? "Dry run, nothing written. Would have: " : "";
  return `${prefix}${summary.listed} Kinde users in ${summary.pages} page(s): ${changes.join(", ")}${notes.length ? `; ${notes.join("; ")}` : ""}.`;
}

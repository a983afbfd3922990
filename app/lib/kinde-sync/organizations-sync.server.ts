// npm run users:sync, after the users: organizations and memberships made to match Kinde's lists
// (docs/decisions/0024-organizations-from-kinde.md). Deletes as carefully as the users pass (forgetUnlisted).
import type { KindeApiMember, KindeManagementClient } from "./management-api.server";
import { forgetUnlisted } from "./users-sync.server";
import {
  forgetKindeOrganization,
  listKindeCodesStoredBefore,
  syncOrganizationFromKinde,
  type KindeOrganizationOutcome,
} from "~/models/organization.server";

export interface OrganizationsSyncSummary {
  listed: number;
  pages: number;
  created: number;
  renamed: number;
  unchanged: number;
  /** Listed, but the app holds newer news of the name. */
  newer: number;
  /** Listed, but tombstoned here before (not stored again). */
  deletedBefore: number;
  tombstoned: number;
  keptUnlisted: number;
  memberships: { added: number; removed: number; rolesChanged: number; newer: number };
  dryRun: boolean;
}

export interface OrganizationsSyncOptions {
  client: Pick<KindeManagementClient, "listOrganizations" | "listMembers" | "organizationExists">;
  dryRun?: boolean;
  log?: (line: string) => void;
  now?: () => Date;
  pageSize?: number;
}

const COUNTED_AS = {
  created: "created",
  updated: "renamed",
  unchanged: "unchanged",
  older: "newer",
  deleted: "deletedBefore",
} as const satisfies Record<KindeOrganizationOutcome, keyof OrganizationsSyncSummary>;

async function allMembers(options: OrganizationsSyncOptions, code: string): Promise<KindeApiMember[]> {
  const members: KindeApiMember[] = [];
  for await (const page of options.client.listMembers(code, options.pageSize)) members.push(...page);
  return members;
}

export async function syncOrganizationsFromKinde(options: OrganizationsSyncOptions): Promise<OrganizationsSyncSummary> {
  const { client, dryRun = false, log = () => {}, now = () => new Date() } = options;
  const listedAt = now();
  const summary: OrganizationsSyncSummary = {
    listed: 0,
    pages: 0,
    created: 0,
    renamed: 0,
    unchanged: 0,
    newer: 0,
    deletedBefore: 0,
    tombstoned: 0,
    keptUnlisted: 0,
    memberships: { added: 0, removed: 0, rolesChanged: 0, newer: 0 },
    dryRun,
  };
  const listed = new Set<string>();
  for await (const page of client.listOrganizations(options.pageSize)) {
    summary.pages++;
    for (const organization of page) {
      if (listed.has(organization.code)) continue;
      listed.add(organization.code);
      summary.listed++;
      // The memberships' Kinde time: a sign-in token issued before it no longer changes them.
      const membersListedAt = now();
      const members = await allMembers(options, organization.code);
      const result = await syncOrganizationFromKinde(organization, members, membersListedAt, { dryRun });
      summary[COUNTED_AS[result.organization]]++;
      summary.memberships.added += result.added;
      summary.memberships.removed += result.removed;
      summary.memberships.rolesChanged += result.rolesChanged;
      summary.memberships.newer += result.newer;
      const changes = [
        result.organization === "created" ? "created" : result.organization === "updated" ? "renamed" : "",
        result.added ? `${result.added} added` : "",
        result.removed ? `${result.removed} removed` : "",
        result.rolesChanged ? `${result.rolesChanged} with new roles` : "",
      ].filter(Boolean);
      if (changes.length > 0) log(`${dryRun ? "would change" : "changed"} ${organization.code}: ${changes.join(", ")}`);
    }
    log(`organizations page ${summary.pages}: ${page.length} organizations (${summary.listed} so far)`);
  }
  const unlisted = await forgetUnlisted(await listKindeCodesStoredBefore(listedAt), listed, {
    exists: (code) => client.organizationExists(code),
    forget: (code) => forgetKindeOrganization(code, listedAt),
    verb: { toDo: "delete organization", done: "deleted organization" },
    dryRun,
    log,
  });
  summary.tombstoned = unlisted.forgotten;
  summary.keptUnlisted = unlisted.kept;
  return summary;
}

export function formatOrganizationsSummary(summary: OrganizationsSyncSummary): string {
  const { memberships } = summary;
  const changes = [
    `${summary.created} created`,
    `${summary.renamed} renamed`,
    `${summary.unchanged} unchanged`,
    `${summary.tombstoned} deleted`,
  ];
  const notes = [
    summary.newer > 0 ? `${summary.newer} kept a newer name` : "",
    summary.deletedBefore > 0 ? `${summary.deletedBefore} listed but deleted before (not stored)` : "",
    summary.keptUnlisted > 0 ? `${summary.keptUnlisted} not listed but still at Kinde (kept)` : "",
    memberships.newer > 0 ? `${memberships.newer} membership changes older than a sign-in or webhook (kept)` : "",
  ].filter(Boolean);
  const prefix = summary.dryRun ? "Dry run, nothing written. Would have: " : "";
  const membershipChanges = `memberships: ${memberships.added} added, ${memberships.removed} removed, ${memberships.rolesChanged} with new roles`;
  return `${prefix}${summary.listed} Kinde organizations in ${summary.pages} page(s): ${changes.join(", ")}; ${membershipChanges}${notes.length ? `; ${notes.join("; ")}` : ""}.`;
}

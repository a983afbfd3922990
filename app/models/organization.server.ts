// Every database query about organizations and memberships: docs/decisions/0024-organizations-from-kinde.md.
import { Prisma, type Organization } from "~/generated/prisma/client";
import { retryOnConflict } from "~/lib/database/errors.server";
import { databaseProvider, prisma, transaction, type Db } from "~/lib/database/client.server";
import type {
  KindeMembershipFacts,
  KindeOrganizationFacts,
  MembershipNews,
} from "~/lib/kinde-sync/organization-facts.server";
import { isNewerThanStored, type KindeFactsSource } from "~/lib/kinde-sync/user-facts.server";

export type { Organization };

export type KindeOrganizationOutcome = "created" | "updated" | "unchanged" | "older" | "deleted";

export interface MembershipView {
  organization: { kindeCode: string; name: string | null };
  /** The role keys Kinde gives the person there; null until a token for that organization told them. */
  roleKeys: string[] | null;
}

// Every membership change ends by writing the person's row (orgsSyncedAt), so two changes of one person conflict
// and one is retried. On PostgreSQL snapshot isolation is enough for that: Serializable's predicate locks, which
// cover a whole small table, made 200 simultaneous sign-ups into one organization conflict until retries ran
// out. SQLite has one writer at a time and offers only Serializable.
// (The client's types are SQLite's, whose only level is Serializable; PostgreSQL's client takes RepeatableRead.)
const ISOLATION = {
  isolationLevel: (databaseProvider === "postgresql"
    ? "RepeatableRead"
    : Prisma.TransactionIsolationLevel.Serializable) as Prisma.TransactionIsolationLevel,
};

// Retried whole when on its own; inside a caller's transaction the caller retries.
function inTransaction<T>(db: Db | undefined, run: (tx: Db) => Promise<T>): Promise<T> {
  return db ? run(db) : retryOnConflict(() => transaction(run, ISOLATION));
}

export function encodeRoleKeys(keys: string[]): string {
  return JSON.stringify([...new Set(keys)].sort());
}

export function decodeRoleKeys(stored: string | null): string[] | null {
  if (stored === null) return null;
  try {
    const parsed: unknown = JSON.parse(stored);
    return Array.isArray(parsed) ? parsed.filter((key): key is string => typeof key === "string") : [];
  } catch {
    return [];
  }
}

export async function isKindeOrganizationDeleted(kindeCode: string, db: Db = prisma): Promise<boolean> {
  return (await db.deletedKindeOrganization.findUnique({ where: { kindeCode }, select: { id: true } })) !== null;
}

async function applyOrganizationName(tx: Db, facts: KindeOrganizationFacts): Promise<KindeOrganizationOutcome> {
  if (await isKindeOrganizationDeleted(facts.code, tx)) return "deleted";
  const named = facts.name !== undefined && facts.name !== null;
  const told = named ? { kindeSyncedAt: facts.observedAt, kindeSyncedFrom: facts.source } : {};
  const row = await tx.organization.findUnique({ where: { kindeCode: facts.code } });
  if (row === null) {
    await tx.organization.create({ data: { kindeCode: facts.code, name: facts.name ?? null, ...told } });
    return "created";
  }
  if (!named) return "unchanged";
  if (!isNewerThanStored(facts, row)) return "older";
  // Every member's sign-in names the organization: rewriting one shared row each time would make
  // their transactions conflict (and users:sync writes only differences). The price: a late older
  // webhook may rename it until the next news.
  if ((facts.source === "sign-in" || facts.source === "users:sync") && row.name === facts.name) return "unchanged";
  await tx.organization.update({ where: { id: row.id }, data: { name: facts.name, ...told } });
  return row.name === facts.name ? "unchanged" : "updated";
}

/** organization.created / organization.updated: upserts the name; older news never overwrites newer. */
export function applyKindeOrganizationFacts(facts: KindeOrganizationFacts, db?: Db): Promise<KindeOrganizationOutcome> {
  return inTransaction(db, (tx) => applyOrganizationName(tx, facts));
}

/** organization.deleted: its memberships and row go; the tombstone keeps late news from bringing it back. */
export function forgetKindeOrganization(
  kindeCode: string,
  deletedAt: Date,
  db?: Db,
): Promise<{ rowDeleted: boolean; newlyTombstoned: boolean }> {
  return inTransaction(db, async (tx) => {
    const newlyTombstoned = !(await isKindeOrganizationDeleted(kindeCode, tx));
    if (newlyTombstoned) await tx.deletedKindeOrganization.create({ data: { kindeCode, deletedAt } });
    await tx.membership.deleteMany({ where: { organization: { kindeCode } } });
    const { count } = await tx.organization.deleteMany({ where: { kindeCode } });
    return { rowDeleted: count > 0, newlyTombstoned };
  });
}

// One raw query, as a compiled Prisma query costs ~0.7 ms of CPU and most sign-ins change nothing.
// A row per membership, or one row of NULLs for a person in none; no row for an unknown person.
async function readStoredMemberships(
  kindeId: string,
): Promise<{ kindeCode: string | null; name: string | null; roles: string | null }[]> {
  return prisma.$queryRaw`SELECT o."kindeCode" AS "kindeCode", o."name" AS "name", m."roles" AS "roles" FROM "User" u
    LEFT JOIN "Membership" m ON m."userId" = u."id" LEFT JOIN "Organization" o ON o."id" = m."organizationId"
    WHERE u."kindeId" = ${kindeId}`;
}

/** Whether a known person's stored memberships already are what the sign-in's tokens say. */
export async function storedMembershipsMatch(kindeId: string, facts: KindeMembershipFacts): Promise<boolean> {
  const rows = await readStoredMemberships(kindeId);
  if (rows.length === 0) return false;
  const byCode = new Map(rows.flatMap((row) => (row.kindeCode === null ? [] : [[row.kindeCode, row] as const])));
  if (byCode.size !== facts.organizations.length) return false;
  return facts.organizations.every(({ code, name }) => {
    const membership = byCode.get(code);
    if (!membership || (name !== null && membership.name !== name)) return false;
    return facts.current?.code !== code || membership.roles === encodeRoleKeys(facts.current.roleKeys);
  });
}

export type MembershipSyncOutcome = "applied" | "older" | "unknown user";

// The person's memberships become `organizations` (others go) when the news is not older than the
// set they hold (User.orgsSyncedAt); it then records the news's time even when nothing changed.
async function applyMembershipNews(
  tx: Db,
  userId: number,
  organizations: MembershipNews[],
  observedAt: Date,
  source: KindeFactsSource,
): Promise<MembershipSyncOutcome> {
  const user = await tx.user.findUnique({ where: { id: userId }, select: { orgsSyncedAt: true } });
  if (user === null) return "unknown user";
  if (user.orgsSyncedAt !== null && user.orgsSyncedAt > observedAt) return "older";
  const organizationIds = new Map<string, number>();
  for (const { code, name } of organizations) {
    const outcome = await applyOrganizationName(tx, { code, name, observedAt, source });
    if (outcome === "deleted") continue;
    const row = await tx.organization.findUniqueOrThrow({ where: { kindeCode: code }, select: { id: true } });
    organizationIds.set(code, row.id);
  }
  await tx.membership.deleteMany({ where: { userId, organizationId: { notIn: [...organizationIds.values()] } } });
  const stored = await tx.membership.findMany({ where: { userId }, select: { organizationId: true, roles: true } });
  const rolesByOrganization = new Map(stored.map((membership) => [membership.organizationId, membership.roles]));
  for (const { code, roleKeys } of organizations) {
    const organizationId = organizationIds.get(code);
    if (organizationId === undefined) continue;
    const roles = roleKeys && encodeRoleKeys(roleKeys);
    if (!rolesByOrganization.has(organizationId)) {
      await tx.membership.create({ data: { userId, organizationId, roles: roles ?? null } });
    } else if (roles !== undefined && rolesByOrganization.get(organizationId) !== roles) {
      await tx.membership.update({ where: { userId_organizationId: { userId, organizationId } }, data: { roles } });
    }
  }
  await tx.user.update({ where: { id: userId }, data: { orgsSyncedAt: observedAt } });
  return "applied";
}

/**
 * At sign-in: the person's memberships become the ID token's organizations (others go), and the
 * access token's organization gets its roles. `observedAt` is the ID token's `iat`. When they
 * already match, the sign-in's user write moves orgsSyncedAt instead (upsertUserFromKinde).
 */
export function syncMembershipsFromSignIn(
  userId: number,
  facts: KindeMembershipFacts,
  observedAt: Date,
): Promise<MembershipSyncOutcome> {
  const organizations = facts.organizations.map(({ code, name }) => ({
    code,
    name,
    roleKeys: facts.current?.code === code ? facts.current.roleKeys : undefined,
  }));
  return inTransaction(undefined, (tx) => applyMembershipNews(tx, userId, organizations, observedAt, "sign-in"));
}

/** user.updated's `organizations`, inside the webhook's transaction; `observedAt` is the event's timestamp. */
export async function applyKindeUserMemberships(
  kindeId: string,
  organizations: MembershipNews[],
  observedAt: Date,
  source: KindeFactsSource,
  tx: Db,
): Promise<MembershipSyncOutcome> {
  const user = await tx.user.findUnique({ where: { kindeId }, select: { id: true } });
  return user ? applyMembershipNews(tx, user.id, organizations, observedAt, source) : "unknown user";
}

export interface OrganizationSyncOutcome {
  organization: KindeOrganizationOutcome;
  added: number;
  removed: number;
  rolesChanged: number;
  /** Changes not made: the person's memberships match news newer than the listing (orgsSyncedAt). */
  newer: number;
}

class DryRun extends Error {
  constructor(readonly outcome: OrganizationSyncOutcome) {
    super("dry run");
  }
}

/**
 * users:sync: one organization as Kinde lists it, with its complete member list (Kinde ids and role
 * keys); `observedAt` is when its member listing began. People the app does not store are skipped.
 * A dry run makes the same changes in a transaction it rolls back, so it counts what a run would do.
 */
export async function syncOrganizationFromKinde(
  organization: { code: string; name: string | null },
  members: { kindeId: string; roleKeys?: string[] }[],
  observedAt: Date,
  { dryRun = false } = {},
): Promise<OrganizationSyncOutcome> {
  try {
    return await inTransaction(undefined, async (tx) => {
      const outcome = await syncMembersIn(tx, organization, members, observedAt);
      if (dryRun) throw new DryRun(outcome);
      return outcome;
    });
  } catch (error) {
    if (error instanceof DryRun) return error.outcome;
    throw error;
  }
}

async function syncMembersIn(
  tx: Db,
  { code, name }: { code: string; name: string | null },
  members: { kindeId: string; roleKeys?: string[] }[],
  observedAt: Date,
): Promise<OrganizationSyncOutcome> {
  const outcome: OrganizationSyncOutcome = {
    organization: await applyOrganizationName(tx, { code, name, observedAt, source: "users:sync" }),
    added: 0,
    removed: 0,
    rolesChanged: 0,
    newer: 0,
  };
  if (outcome.organization === "deleted") return outcome;
  const { id: organizationId } = await tx.organization.findUniqueOrThrow({ where: { kindeCode: code } });
  const listed = new Map(members.map((member) => [member.kindeId, member.roleKeys]));
  const personColumns = { id: true, kindeId: true, orgsSyncedAt: true } as const;
  const stored = await tx.membership.findMany({
    where: { organizationId },
    select: { id: true, roles: true, user: { select: personColumns } },
  });
  const membershipOf = new Map(stored.map(({ user, ...membership }) => [user.id, membership]));
  const people = [
    ...stored.map((membership) => membership.user),
    ...(await tx.user.findMany({ where: { kindeId: { in: [...listed.keys()] } }, select: personColumns })).filter(
      (user) => !membershipOf.has(user.id),
    ),
  ];
  const added: { userId: number; organizationId: number; roles: string | null }[] = [];
  const removed: number[] = [];
  const moved: number[] = [];
  for (const person of people) {
    const membership = membershipOf.get(person.id);
    const isListed = listed.has(person.kindeId);
    const roleKeys = listed.get(person.kindeId);
    const roles = roleKeys && encodeRoleKeys(roleKeys);
    const changeRoles = membership !== undefined && roles !== undefined && membership.roles !== roles;
    if (isListed === (membership !== undefined) && !changeRoles) continue;
    if (person.orgsSyncedAt !== null && person.orgsSyncedAt > observedAt) {
      outcome.newer++;
      continue;
    }
    moved.push(person.id);
    if (!membership) added.push({ userId: person.id, organizationId, roles: roles ?? null });
    else if (!isListed) removed.push(membership.id);
    else {
      await tx.membership.update({ where: { id: membership.id }, data: { roles } });
      outcome.rolesChanged++;
    }
  }
  outcome.added = (await tx.membership.createMany({ data: added })).count;
  outcome.removed = await inBatches(removed, (ids) => tx.membership.deleteMany({ where: { id: { in: ids } } }));
  await inBatches(moved, (ids) =>
    tx.user.updateMany({ where: { id: { in: ids } }, data: { orgsSyncedAt: observedAt } }),
  );
  return outcome;
}

// Prisma splits a long `in` for reads and createMany only, and SQLite takes at most 999 parameters.
async function inBatches(ids: number[], run: (batch: number[]) => Promise<{ count: number }>): Promise<number> {
  let count = 0;
  for (let start = 0; start < ids.length; start += 500) count += (await run(ids.slice(start, start + 500))).count;
  return count;
}

/** Codes of the organizations stored before `time` (users:sync's candidates for deletion). */
export async function listKindeCodesStoredBefore(time: Date): Promise<string[]> {
  const rows = await prisma.organization.findMany({ where: { createdAt: { lt: time } }, select: { kindeCode: true } });
  return rows.map((row) => row.kindeCode);
}

export async function listMembershipsOf(userId: number): Promise<MembershipView[]> {
  const rows = await prisma.membership.findMany({
    where: { userId },
    select: { roles: true, organization: { select: { kindeCode: true, name: true } } },
    orderBy: { organization: { kindeCode: "asc" } },
  });
  return rows.map(({ roles, organization }) => ({ organization, roleKeys: decodeRoleKeys(roles) }));
}

/** The person's membership of one organization, or null when they are not in it. */
export async function getMembership(
  userId: number,
  kindeCode: string,
): Promise<(MembershipView & { organization: { id: number } }) | null> {
  const row = await prisma.membership.findFirst({
    where: { userId, organization: { kindeCode } },
    select: { roles: true, organization: { select: { id: true, kindeCode: true, name: true } } },
  });
  return row && { organization: row.organization, roleKeys: decodeRoleKeys(row.roles) };
}

/** Stored names, for organizations a token names by code only (Kinde adds names to the ID token by customization). */
export async function getOrganizationNames(kindeCodes: string[]): Promise<Map<string, string>> {
  const rows = await prisma.organization.findMany({
    where: { kindeCode: { in: kindeCodes }, name: { not: null } },
    select: { kindeCode: true, name: true },
  });
  return new Map(rows.map((row) => [row.kindeCode, row.name ?? row.kindeCode]));
}

export function getOrganizationByCode(kindeCode: string): Promise<Organization | null> {
  return prisma.organization.findUnique({ where: { kindeCode } });
}

export async function listMemberKindeIdsOf(kindeCode: string): Promise<string[]> {
  const rows = await prisma.membership.findMany({
    where: { organization: { kindeCode } },
    select: { user: { select: { kindeId: true } } },
    orderBy: { userId: "asc" },
  });
  return rows.map((row) => row.user.kindeId);
}

/** After a token refresh, as at sign-in: a removal at Kinde that no webhook told ends here, at the latest. */
export async function syncMembershipsFromRefresh(
  kindeId: string,
  facts: KindeMembershipFacts,
  observedAt: Date,
): Promise<void> {
  if (await storedMembershipsMatch(kindeId, facts)) return;
  const user = await prisma.user.findUnique({ where: { kindeId }, select: { id: true } });
  if (user) await syncMembershipsFromSignIn(user.id, facts, observedAt);
}

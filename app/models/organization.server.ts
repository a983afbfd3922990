// Every database query about organizations and memberships: docs/decisions/0024-organizations-from-kinde.md.
import { Prisma, type Organization } from "~/generated/prisma/client";
import { retryOnConflict } from "~/lib/database/errors.server";
import { prisma, transaction, type Db } from "~/lib/database/client.server";
import type { KindeMembershipFacts, KindeOrganizationFacts } from "~/lib/kinde-sync/organization-facts.server";
import { isNewerThanStored } from "~/lib/kinde-sync/user-facts.server";

export type { Organization };

export type KindeOrganizationOutcome = "created" | "updated" | "unchanged" | "older" | "deleted";

export interface MembershipView {
  organization: { kindeCode: string; name: string | null };
  /** The role keys Kinde gives the person there; null until a token for that organization told them. */
  roleKeys: string[] | null;
}

const SERIALIZABLE = { isolationLevel: Prisma.TransactionIsolationLevel.Serializable };

// Serializable and retried whole when on its own; inside a caller's transaction the caller retries.
function inTransaction<T>(db: Db | undefined, run: (tx: Db) => Promise<T>): Promise<T> {
  return db ? run(db) : retryOnConflict(() => transaction(run, SERIALIZABLE));
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
  // their transactions conflict. The price: a late older webhook may rename it until the next news.
  if (facts.source === "sign-in" && row.name === facts.name) return "unchanged";
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

/**
 * At sign-in: the person's memberships become the ID token's organizations (others go), and the
 * access token's organization gets its roles. `observedAt` is the ID token's `iat`. When they
 * already match, the sign-in's user write moves orgsSyncedAt instead (upsertUserFromKinde).
 */
export async function syncMembershipsFromSignIn(
  userId: number,
  facts: KindeMembershipFacts,
  observedAt: Date,
): Promise<MembershipSyncOutcome> {
  return inTransaction(undefined, async (tx) => {
    const user = await tx.user.findUnique({ where: { id: userId }, select: { orgsSyncedAt: true } });
    if (user === null) return "unknown user";
    if (user.orgsSyncedAt !== null && user.orgsSyncedAt > observedAt) return "older";
    const organizationIds = new Map<string, number>();
    for (const { code, name } of facts.organizations) {
      const outcome = await applyOrganizationName(tx, { code, name, observedAt, source: "sign-in" });
      if (outcome === "deleted") continue;
      const row = await tx.organization.findUniqueOrThrow({ where: { kindeCode: code }, select: { id: true } });
      organizationIds.set(code, row.id);
    }
    await tx.membership.deleteMany({ where: { userId, organizationId: { notIn: [...organizationIds.values()] } } });
    const stored = await tx.membership.findMany({ where: { userId }, select: { organizationId: true, roles: true } });
    const rolesByOrganization = new Map(stored.map((membership) => [membership.organizationId, membership.roles]));
    for (const [code, organizationId] of organizationIds) {
      const roles = facts.current?.code === code ? encodeRoleKeys(facts.current.roleKeys) : undefined;
      if (!rolesByOrganization.has(organizationId)) {
        await tx.membership.create({ data: { userId, organizationId, roles: roles ?? null } });
      } else if (roles !== undefined && rolesByOrganization.get(organizationId) !== roles) {
        await tx.membership.update({ where: { userId_organizationId: { userId, organizationId } }, data: { roles } });
      }
    }
    await tx.user.update({ where: { id: userId }, data: { orgsSyncedAt: observedAt } });
    return "applied";
  });
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

// Every database query about users; nothing else touches `prisma.user`.
import { Prisma, type User } from "~/generated/prisma/client";
import { isRecordNotFound, retryOnConflict } from "~/lib/database/errors.server";
import { batch, databaseProvider, prisma, transaction, type Db } from "~/lib/database/client.server";
import {
  cleanKindeProfile,
  planKindeUserChange,
  type KindeProfileFacts,
  type KindeUserColumns,
  type KindeUserFacts,
} from "~/lib/kinde-sync/user-facts.server";
import { accountDeletedAt, forgetAccountDeletion, recordAccountDeletion } from "./account-deletion.server";
import type { KindeMembershipFacts } from "~/lib/kinde-sync/organization-facts.server";
import { isKindeIdentityDeleted, recordDeletedKindeIdentity } from "./deleted-kinde-identity.server";
import { storedMembershipsMatch, syncMembershipsFromSignIn } from "./organization.server";

export type { User };

/** The SDK's `getUser()`. */
export interface KindeProfile {
  id: string;
  email?: string | null;
  given_name?: string | null;
  family_name?: string | null;
  picture?: string | null;
}

// "deleted": a tombstoned identity; "left": deleted their account here (only their own newer
// sign-in stores them again); "unknown": no row, and the news does not create one.
export type KindeUserOutcome =
  | { outcome: "created"; user: User }
  | { outcome: "updated"; user: User; changed: string[] }
  | { outcome: "older" | "unchanged"; user: User }
  | { outcome: "deleted" | "left" | "unknown" };

export interface ApplyOptions {
  db?: Db;
  /** users:sync --dry-run */
  dryRun?: boolean;
  /** A sign-in whose memberships already match: User.orgsSyncedAt moves forward to it in the same write. */
  orgsSyncedAt?: Date;
}

class RowChanged extends Error {}

// See docs/decisions/0013-kinde-sync-tombstones-and-ordering.md. Inside the caller's transaction a lost
// race is thrown for the caller to retry whole: PostgreSQL aborts a transaction on its first failed statement.
export async function applyKindeUserFacts(
  facts: KindeUserFacts,
  options: ApplyOptions = {},
): Promise<KindeUserOutcome> {
  const db = options.db ?? prisma;
  return retryOnConflict(() => applyOnce(db, facts, options), {
    conflicts: db === prisma,
    alsoRetry: (error) => error instanceof RowChanged,
  });
}

async function applyOnce(db: Db, facts: KindeUserFacts, options: ApplyOptions): Promise<KindeUserOutcome> {
  const dryRun = options.dryRun ?? false;
  const row = await db.user.findUnique({ where: { kindeId: facts.kindeId } });
  if (row === null) {
    const create = (tx: Db) => createFromFacts(tx, facts, dryRun);
    return db === prisma
      ? transaction(create, { isolationLevel: Prisma.TransactionIsolationLevel.Serializable })
      : create(db);
  }
  const change = planKindeUserChange(row, facts);
  if (change.kind === "create") throw new Error("unreachable: a plan for an existing row creates nothing");
  const orgsSyncedAt = options.orgsSyncedAt;
  const orgsForward = orgsSyncedAt !== undefined && (row.orgsSyncedAt === null || row.orgsSyncedAt <= orgsSyncedAt);
  const unchanged = change.kind === "none" ? (change.reason === "older" ? "older" : "unchanged") : null;
  if (unchanged && !orgsForward) return { outcome: unchanged, user: row };
  const data = change.kind === "none" ? {} : change.data;
  const changed = change.kind === "none" ? [] : change.changed;
  if (dryRun) return { outcome: "updated", user: { ...row, ...data }, changed };
  if (data.email) await releaseEmail(db, data, facts);
  try {
    const where = unchangedSince(row, data, facts);
    if (orgsForward) where.AND.push({ OR: [{ orgsSyncedAt: null }, { orgsSyncedAt: { lte: orgsSyncedAt } }] });
    const user = await db.user.update({
      where: { kindeId: facts.kindeId, ...where },
      data: orgsForward ? { ...data, orgsSyncedAt } : data,
    });
    if (unchanged) return { outcome: unchanged, user };
    return changed.length > 0 ? { outcome: "updated", user, changed } : { outcome: "unchanged", user };
  } catch (error) {
    // The row changed (or went) since it was read: read and decide again.
    if (isRecordNotFound(error)) throw new RowChanged();
    throw error;
  }
}

async function createFromFacts(db: Db, facts: KindeUserFacts, dryRun: boolean): Promise<KindeUserOutcome> {
  if (await isKindeIdentityDeleted(facts.kindeId, db)) return { outcome: "deleted" };
  const change = planKindeUserChange(null, facts);
  if (change.kind !== "create") return { outcome: "unknown" };
  const leftAt = await accountDeletedAt(facts.kindeId, db);
  if (leftAt) {
    // Only a sign-in from after the deletion undoes it. Token times are whole seconds, and one in
    // the deletion's own second counts as after (refusing it would loop through Kinde).
    const deletedSecond = Math.floor(leftAt.getTime() / 1000) * 1000;
    if (facts.source !== "sign-in" || facts.observedAt.getTime() < deletedSecond) return { outcome: "left" };
    if (!dryRun) await forgetAccountDeletion(facts.kindeId, db);
  }
  const data = { kindeId: facts.kindeId, ...change.data };
  if (dryRun)
    return {
      outcome: "created",
      user: {
        id: 0,
        createdAt: facts.observedAt,
        updatedAt: facts.observedAt,
        nameEditedAt: null,
        orgsSyncedAt: null,
        ...data,
      },
    };
  if (data.email) await releaseEmail(db, data, facts);
  // Two first sign-ins at once: the loser fails on the unique kindeId and retries as an update.
  return { outcome: "created", user: await db.user.create({ data }) };
}

// The `where` that applies an update only to the row the plan was made from; the conditions only
// move forward, so concurrent sign-ins of one person do not keep failing each other.
function unchangedSince(
  row: User,
  data: Partial<KindeUserColumns>,
  facts: KindeUserFacts,
): { AND: Prisma.UserWhereInput[] } {
  const conditions: Prisma.UserWhereInput[] = [];
  if (data.kindeSyncedAt !== undefined) {
    const syncedBefore: Prisma.UserWhereInput[] = [
      { kindeSyncedAt: null },
      { kindeSyncedAt: { lt: facts.observedAt } },
    ];
    if (facts.source === "sign-in") syncedBefore.push({ kindeSyncedAt: facts.observedAt, kindeSyncedFrom: "sign-in" });
    conditions.push({ OR: syncedBefore });
  }
  if (data.firstName !== undefined || data.lastName !== undefined) conditions.push({ nameEditedAt: null });
  if (data.lastSignInAt) {
    conditions.push({ OR: [{ lastSignInAt: null }, { lastSignInAt: { lt: data.lastSignInAt } }] });
  }
  if (data.suspendedAt !== undefined) conditions.push({ suspendedAt: row.suspendedAt });
  return { AND: conditions };
}

// An email is one person's at a time (docs/decisions/0008-nullable-unique-email.md): the newer news keeps it.
async function releaseEmail(db: Db, data: { email?: string | null }, facts: KindeUserFacts): Promise<void> {
  const email = data.email;
  if (!email) return;
  const holder = await db.user.findUnique({
    where: { email },
    select: { id: true, kindeId: true, kindeSyncedAt: true },
  });
  if (holder === null || holder.kindeId === facts.kindeId) return;
  if (holder.kindeSyncedAt !== null && holder.kindeSyncedAt > facts.observedAt) {
    data.email = null;
    return;
  }
  await db.user.updateMany({ where: { id: holder.id, email }, data: { email: null } });
}

/** What a signed-in person's ID token says, cleaned by the rules every source follows. */
function profileFacts(profile: KindeProfile): Partial<KindeProfileFacts> {
  return cleanKindeProfile({
    email: profile.email ?? null,
    firstName: profile.given_name ?? null,
    lastName: profile.family_name ?? null,
    picture: profile.picture ?? null,
    suspended: false,
  });
}

// Lifts a suspension recorded before the token's `iat`: Kinde issues no tokens to a suspended user.
// With `memberships` (a sign-in's tokens) the person's memberships are made to match them.
export async function upsertUserFromKinde(
  profile: KindeProfile,
  signedInAt = new Date(),
  tokenIssuedAt = signedInAt,
  memberships?: KindeMembershipFacts,
): Promise<User | null> {
  // Matching memberships (most sign-ins) cost one raw read; the user write below moves orgsSyncedAt.
  const matching = memberships !== undefined && (await storedMembershipsMatch(profile.id, memberships));
  const result = await applyKindeUserFacts(
    {
      kindeId: profile.id,
      observedAt: tokenIssuedAt,
      source: "sign-in",
      profile: profileFacts(profile),
      signedInAt,
      createIfMissing: true,
    },
    matching ? { orgsSyncedAt: tokenIssuedAt } : {},
  );
  if (!("user" in result)) return null;
  // "created" after a match: the row went (and its memberships with it) between the read and the write.
  if (memberships && (!matching || result.outcome === "created"))
    await syncMembershipsFromSignIn(result.user.id, memberships, tokenIssuedAt);
  return result.user;
}

export async function forgetKindeUser(
  kindeId: string,
  deletedAt: Date,
  db?: Db,
): Promise<{ rowDeleted: boolean; newlyTombstoned: boolean }> {
  const forget = async (tx: Db) => {
    const newlyTombstoned = await recordDeletedKindeIdentity(kindeId, deletedAt, tx);
    await forgetAccountDeletion(kindeId, tx);
    const { count } = await tx.user.deleteMany({ where: { kindeId } });
    return { rowDeleted: count > 0, newlyTombstoned };
  };
  if (db) return forget(db);
  // A concurrent deletion of the same id loses on the tombstone's unique key; the retry finds it.
  return retryOnConflict(() => transaction(forget));
}

const USER_COLUMNS: Record<keyof User, "number" | "text" | "date"> = {
  id: "number",
  kindeId: "text",
  email: "text",
  firstName: "text",
  lastName: "text",
  picture: "text",
  createdAt: "date",
  updatedAt: "date",
  lastSignInAt: "date",
  nameEditedAt: "date",
  suspendedAt: "date",
  kindeSyncedAt: "date",
  kindeSyncedFrom: "text",
  orgsSyncedAt: "date",
};

// SQLite's DATETIME holds text: Prisma's ISO with an offset, or CURRENT_TIMESTAMP from other
// tools ("2026-01-02 03:04:05", UTC), which a raw query would read in local time. So the text
// is read as is and taken as UTC, as Prisma does.
const SELECT_USER = Prisma.raw(
  `SELECT ${Object.entries(USER_COLUMNS)
    .map(([column, kind]) =>
      kind === "date" && databaseProvider === "sqlite" ? `CAST("${column}" AS TEXT) AS "${column}"` : `"${column}"`,
    )
    .join(", ")} FROM "User"`,
);

function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === "number" || typeof value === "bigint") return new Date(Number(value));
  if (typeof value === "string") {
    if (/^\d+$/.test(value)) return new Date(Number(value));
    const zoneless = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(value);
    const date = new Date(zoneless ? `${value.replace(" ", "T")}Z` : value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new Error(`not a date in the User table: ${String(value)}`);
}

function userFromRow(row: Record<string, unknown>): User {
  const user: Record<string, unknown> = {};
  for (const [column, kind] of Object.entries(USER_COLUMNS)) {
    const value = row[column];
    user[column] =
      value === null || value === undefined
        ? null
        : kind === "date"
          ? toDate(value)
          : kind === "number"
            ? Number(value)
            : value;
  }
  return user as User;
}

// The row of every signed-in page: a raw query, as `findUnique` allocated ~40 KB per call, a
// tenth of a page's cost (issue #11). Through the client, so the 503 and SQLite rules still hold.
export async function getUserByKindeId(kindeId: string): Promise<User | null> {
  const rows = await prisma.$queryRaw<Record<string, unknown>[]>`${SELECT_USER} WHERE "kindeId" = ${kindeId} LIMIT 1`;
  return rows[0] ? userFromRow(rows[0]) : null;
}

export function updateUserName(kindeId: string, name: { firstName: string; lastName: string | null }): Promise<User> {
  return prisma.user.update({ where: { kindeId }, data: { ...name, nameEditedAt: new Date() } });
}

export function resetUserNameToKinde(kindeId: string, profile: KindeProfile): Promise<User> {
  const { firstName = null, lastName = null } = profileFacts(profile);
  return prisma.user.update({ where: { kindeId }, data: { firstName, lastName, nameEditedAt: null } });
}

// "Delete my account": the row goes and a record that they left stays, so Kinde's later news does
// not bring it back; their next sign-in does (docs/decisions/0020-account-deletion-in-the-app.md).
export async function deleteOwnAccount(kindeId: string, now = new Date()): Promise<boolean> {
  return transaction(async (tx) => {
    await recordAccountDeletion(kindeId, now, tx);
    const { count } = await tx.user.deleteMany({ where: { kindeId } });
    return count > 0;
  });
}

export async function listKindeIdsStoredBefore(time: Date): Promise<string[]> {
  const rows = await prisma.user.findMany({
    where: { createdAt: { lt: time } },
    select: { kindeId: true },
    orderBy: { id: "asc" },
  });
  return rows.map((row) => row.kindeId);
}

export function listAllUsers(): Promise<User[]> {
  return prisma.user.findMany({ orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
}

export const MEMBERS_PAGE_SIZE = 20;

export async function listUsers(page: number): Promise<{ users: User[]; total: number; pages: number }> {
  const [users, total] = await batch(() =>
    prisma.$transaction([
      prisma.user.findMany({
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        skip: (page - 1) * MEMBERS_PAGE_SIZE,
        take: MEMBERS_PAGE_SIZE,
      }),
      prisma.user.count(),
    ]),
  );
  return { users, total, pages: Math.max(1, Math.ceil(total / MEMBERS_PAGE_SIZE)) };
}

/**
 * Every database query about users. Routes call these; nothing else touches `prisma.user`.
 */
import { Prisma, type User } from "~/generated/prisma/client";
import { isRecordNotFound, retryOnConflict } from "~/lib/database/errors.server";
import { batch, databaseProvider, prisma, transaction, type Db } from "~/lib/database/client.server";
import {
  cleanKindeProfile,
  planKindeUserChange,
  type KindeUserColumns,
  type KindeUserFacts,
} from "~/lib/kinde-sync/user-facts.server";
import { accountDeletedAt, forgetAccountDeletion, recordAccountDeletion } from "./account-deletion.server";
import { isKindeIdentityDeleted, recordDeletedKindeIdentity } from "./deleted-kinde-identity.server";

export type { User };

/** What Kinde tells us about the signed-in person (the SDK's `getUser()`). */
export interface KindeProfile {
  id: string;
  email?: string | null;
  given_name?: string | null;
  family_name?: string | null;
  picture?: string | null;
}

export type KindeUserOutcome =
  | { outcome: "created"; user: User }
  | { outcome: "updated"; user: User; changed: string[] }
  /** Nothing newer or nothing different: the row stays as it was. */
  | { outcome: "older" | "unchanged"; user: User }
  /** A tombstoned identity: nothing is stored for it, ever again. */
  | { outcome: "deleted" }
  /** The person deleted their account here: only their own newer sign-in stores them again. */
  | { outcome: "left" }
  /** No row, and the news does not create one (a bare "signed in" event). */
  | { outcome: "unknown" };

export interface ApplyOptions {
  /** The interactive transaction this is part of; by default the client. */
  db?: Db;
  /** Decide and report, but write nothing (users:sync --dry-run). */
  dryRun?: boolean;
}

class RowChanged extends Error {}

/**
 * Applies what Kinde says about a user, from a sign-in, a webhook or users:sync, by the rules
 * of app/lib/kinde-user-facts.server.ts: tombstoned ids are never stored again, older news never
 * overwrites newer, a name edited here stays, an email Kinde gives this user is released from
 * the row of an identity that held it before.
 *
 * Safe under concurrency on any database: updates are conditional on what the plan was made
 * from (a lost race re-reads and re-plans), and a row is created in a serializable
 * transaction with the tombstone check, so a deletion cannot be undone by a late sign-in.
 * Inside the caller's transaction (`db`), a lost race is thrown for the caller to retry the
 * whole transaction, since PostgreSQL aborts a transaction on its first failed statement.
 */
export async function applyKindeUserFacts(
  facts: KindeUserFacts,
  options: ApplyOptions = {},
): Promise<KindeUserOutcome> {
  const db = options.db ?? prisma;
  return retryOnConflict(() => applyOnce(db, facts, options.dryRun ?? false), {
    conflicts: db === prisma,
    alsoRetry: (error) => error instanceof RowChanged,
  });
}

async function applyOnce(db: Db, facts: KindeUserFacts, dryRun: boolean): Promise<KindeUserOutcome> {
  const row = await db.user.findUnique({ where: { kindeId: facts.kindeId } });
  if (row === null) {
    // Creating runs in one transaction with the tombstone check (or in the caller's).
    const create = (tx: Db) => createFromFacts(tx, facts, dryRun);
    return db === prisma
      ? transaction(create, { isolationLevel: Prisma.TransactionIsolationLevel.Serializable })
      : create(db);
  }
  const change = planKindeUserChange(row, facts);
  if (change.kind === "none") return { outcome: change.reason === "older" ? "older" : "unchanged", user: row };
  if (change.kind === "create") throw new Error("unreachable: a plan for an existing row creates nothing");
  if (dryRun) return { outcome: "updated", user: { ...row, ...change.data }, changed: change.changed };
  if (change.data.email) await releaseEmail(db, change.data, facts);
  try {
    const user = await db.user.update({
      where: { kindeId: facts.kindeId, ...unchangedSince(row, change.data, facts) },
      data: change.data,
    });
    return change.changed.length > 0
      ? { outcome: "updated", user, changed: change.changed }
      : { outcome: "unchanged", user };
  } catch (error) {
    // The row changed (or went) since it was read: read it again and decide again.
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
    // Kinde's news does not undo the person's own deletion, nor does a sign-in from before it.
    // Token times are whole seconds: a sign-in in the deletion's own second counts as after it
    // (deleting signs the person out of Kinde, so a token that old belongs to another browser
    // signed in that very second; refusing a real sign-in would loop through Kinde instead).
    const deletedSecond = Math.floor(leftAt.getTime() / 1000) * 1000;
    if (facts.source !== "sign-in" || facts.observedAt.getTime() < deletedSecond) return { outcome: "left" };
    if (!dryRun) await forgetAccountDeletion(facts.kindeId, db);
  }
  const data = { kindeId: facts.kindeId, ...change.data };
  if (dryRun)
    return {
      outcome: "created",
      user: { id: 0, createdAt: facts.observedAt, updatedAt: facts.observedAt, nameEditedAt: null, ...data },
    };
  if (data.email) await releaseEmail(db, data, facts);
  // Two first sign-ins at once: the loser fails on the unique kindeId and retries as an update.
  return { outcome: "created", user: await db.user.create({ data }) };
}

/**
 * The `where` that makes an update apply only to the row the plan was made from, as far as
 * the plan depends on it. The conditions only move forward, so concurrent sign-ins of one
 * person do not keep failing each other.
 */
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

/**
 * An email is one person's at a time (docs/decisions/0008-nullable-unique-email.md). When
 * another identity's row holds the address this news gives, the newer news keeps it: the
 * other row lets go of it (its data is kept), or, if that row's data is newer, this row does
 * not take it.
 */
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

/**
 * A sign-in: the ID token's profile, at the token's `iat`. Creates the row on the first one,
 * refreshes it on later ones, and lifts a suspension recorded before the token was issued
 * (Kinde issues no tokens to a suspended user). Returns null for an identity deleted at Kinde,
 * or for a token from before the person deleted their account here.
 */
export async function upsertUserFromKinde(
  profile: KindeProfile,
  signedInAt = new Date(),
  tokenIssuedAt = signedInAt,
): Promise<User | null> {
  const result = await applyKindeUserFacts({
    kindeId: profile.id,
    observedAt: tokenIssuedAt,
    source: "sign-in",
    profile: cleanKindeProfile({
      email: profile.email ?? null,
      firstName: profile.given_name ?? null,
      lastName: profile.family_name ?? null,
      picture: profile.picture ?? null,
      suspended: false,
    }),
    signedInAt,
    createIfMissing: true,
  });
  return "user" in result ? result.user : null;
}

/**
 * The identity was deleted at Kinde: its row goes and a tombstone stays, in one transaction.
 * Returns whether a row was deleted and whether the tombstone is new.
 */
export async function forgetKindeUser(
  kindeId: string,
  deletedAt: Date,
  db?: Db,
): Promise<{ rowDeleted: boolean; newlyTombstoned: boolean }> {
  const forget = async (tx: Db) => {
    const newlyTombstoned = await recordDeletedKindeIdentity(kindeId, deletedAt, tx);
    // The tombstone says more than the person's own deletion: the identity is gone for good.
    await forgetAccountDeletion(kindeId, tx);
    const { count } = await tx.user.deleteMany({ where: { kindeId } });
    return { rowDeleted: count > 0, newlyTombstoned };
  };
  if (db) return forget(db);
  // Alone, a concurrent deletion of the same id (a webhook and users:sync) is a lost race on the
  // tombstone's unique key: the next attempt finds the tombstone.
  return retryOnConflict(() => transaction(forget));
}

/** How each column of "User" comes back from a raw query, to map it to `User`. */
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
};

/**
 * SQLite has no date type: a DATETIME column holds what was written, Prisma's ISO text with an
 * offset, or SQLite's own CURRENT_TIMESTAMP ("2026-01-02 03:04:05", UTC) from a row written by
 * another tool. A raw query would read the latter in the server's time zone, so on SQLite the
 * text is read as is and taken as UTC here, as Prisma does. PostgreSQL's driver gives Dates.
 */
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

/**
 * The row of every signed-in page. One raw query rather than `findUnique`: Prisma's query
 * compiler and result mapping allocated ~40 KB per call, a tenth of a page's whole cost (issue
 * #11). It still runs through the client, so a database that cannot be used answers 503 and
 * SQLite's one-transaction-at-a-time rule holds (app/lib/db.server.ts).
 */
export async function getUserByKindeId(kindeId: string): Promise<User | null> {
  const rows = await prisma.$queryRaw<Record<string, unknown>[]>`${SELECT_USER} WHERE "kindeId" = ${kindeId} LIMIT 1`;
  return rows[0] ? userFromRow(rows[0]) : null;
}

/** The person's own edit: from now on sign-ins keep these names. */
export function updateUserName(kindeId: string, name: { firstName: string; lastName: string | null }): Promise<User> {
  return prisma.user.update({ where: { kindeId }, data: { ...name, nameEditedAt: new Date() } });
}

function namesFromKinde(profile: KindeProfile): { firstName: string | null; lastName: string | null } {
  const names = cleanKindeProfile({ firstName: profile.given_name ?? null, lastName: profile.family_name ?? null });
  return { firstName: names.firstName ?? null, lastName: names.lastName ?? null };
}

/** Hands the name back to Kinde: takes Kinde's current one now, and on every sign-in again. */
export function resetUserNameToKinde(kindeId: string, profile: KindeProfile): Promise<User> {
  return prisma.user.update({
    where: { kindeId },
    data: { ...namesFromKinde(profile), nameEditedAt: null },
  });
}

/**
 * "Delete my account": the row goes, and a record that the person left stays, in one
 * transaction, so Kinde's later news about them (webhooks, users:sync) does not bring the row
 * back; their next sign-in does. Returns whether there was a row.
 */
export async function deleteOwnAccount(kindeId: string, now = new Date()): Promise<boolean> {
  return transaction(async (tx) => {
    await recordAccountDeletion(kindeId, now, tx);
    const { count } = await tx.user.deleteMany({ where: { kindeId } });
    return count > 0;
  });
}

/** Kinde ids of the rows stored before `time` (users:sync looks for those Kinde no longer has). */
export async function listKindeIdsStoredBefore(time: Date): Promise<string[]> {
  const rows = await prisma.user.findMany({
    where: { createdAt: { lt: time } },
    select: { kindeId: true },
    orderBy: { id: "asc" },
  });
  return rows.map((row) => row.kindeId);
}

/** Every stored user, oldest first (npm run db:users). */
export function listAllUsers(): Promise<User[]> {
  return prisma.user.findMany({ orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
}

export const MEMBERS_PAGE_SIZE = 20;

/** One page of stored users, newest first, with the total for the pagination. */
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

/**
 * "What Kinde says about a user", wherever the app hears it (a sign-in's ID token, a webhook,
 * users:sync), and the one set of rules deciding what of it the row takes. Pure: the model
 * (app/models/user.server.ts) reads the row, asks planKindeUserChange, and writes the plan.
 * The rules: docs/decisions/0013-kinde-sync-tombstones-and-ordering.md.
 */
import { cleanName } from "../../../common/names.ts";

/** Also stored as User.kindeSyncedFrom. */
export type KindeFactsSource = "sign-in" | "users:sync" | `webhook ${string}`;

export interface KindeProfileFacts {
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  picture: string | null;
  suspended: boolean;
}

export interface KindeUserFacts {
  kindeId: string;
  /** Kinde's time for this news; only news newer than the row's kindeSyncedAt is applied. */
  observedAt: Date;
  source: KindeFactsSource;
  /** What Kinde told, cleaned (cleanKindeProfile); a missing key leaves the stored value. */
  profile: Partial<KindeProfileFacts>;
  /** When the person signed in; lastSignInAt only moves forward. */
  signedInAt?: Date | null;
  /** Create the row when there is none (not for a bare "signed in" event). */
  createIfMissing: boolean;
}

/** The stored columns the rules read. */
export interface StoredKindeUser {
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  picture: string | null;
  suspendedAt: Date | null;
  lastSignInAt: Date | null;
  nameEditedAt: Date | null;
  kindeSyncedAt: Date | null;
  kindeSyncedFrom: string | null;
}

export type KindeUserColumns = Omit<StoredKindeUser, "nameEditedAt">;

export type KindeUserChange =
  | { kind: "create"; data: KindeUserColumns }
  | {
      kind: "update";
      data: Partial<KindeUserColumns>;
      /** The fields whose values change (kindeSyncedAt/From excluded). */
      changed: (keyof KindeUserColumns)[];
    }
  | { kind: "none"; reason: "older" | "unchanged" | "unknown" };

/** Kinde sends "" or omits fields it does not have; the database keeps NULL for "unknown". */
function clean(value: string | null | undefined, max: number): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed.slice(0, max) : null;
}

function cleanPicture(value: string | null | undefined): string | null {
  const picture = clean(value, 2048);
  // Only http(s) pictures are rendered as <img src>; anything else (javascript:, data:) is dropped.
  return picture && /^https?:\/\//i.test(picture) ? picture : null;
}

/** Raw fields as Kinde names them; `undefined` means "not told" and stays out of the result. */
export function cleanKindeProfile(raw: {
  email?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  picture?: string | null;
  suspended?: boolean;
}): Partial<KindeProfileFacts> {
  const profile: Partial<KindeProfileFacts> = {};
  if (raw.email !== undefined) profile.email = clean(raw.email, 320)?.toLowerCase() ?? null;
  // Names by the app's own rule, so the profile form accepts what was stored unchanged.
  if (raw.firstName !== undefined) profile.firstName = cleanName(raw.firstName);
  if (raw.lastName !== undefined) profile.lastName = cleanName(raw.lastName);
  if (raw.picture !== undefined) profile.picture = cleanPicture(raw.picture);
  if (raw.suspended !== undefined) profile.suspended = raw.suspended;
  return profile;
}

/**
 * Whether the facts are newer than the data the row holds. A sign-in's time is its ID token's
 * `iat`, in whole seconds: two sign-ins within one second tie, and the later one wins.
 */
export function isNewerThanStored(facts: Pick<KindeUserFacts, "observedAt" | "source">, row: StoredKindeUser): boolean {
  if (row.kindeSyncedAt === null) return true;
  const difference = facts.observedAt.getTime() - row.kindeSyncedAt.getTime();
  return difference > 0 || (difference === 0 && facts.source === "sign-in" && row.kindeSyncedFrom === "sign-in");
}

const PROFILE_COLUMNS = ["email", "firstName", "lastName", "picture"] as const;

/** What the row should become. `row` is null when there is none (and no tombstone). */
export function planKindeUserChange(row: StoredKindeUser | null, facts: KindeUserFacts): KindeUserChange {
  const { profile } = facts;
  const told = Object.keys(profile).length > 0;
  if (row === null) {
    if (!facts.createIfMissing) return { kind: "none", reason: "unknown" };
    return {
      kind: "create",
      data: {
        email: profile.email ?? null,
        firstName: profile.firstName ?? null,
        lastName: profile.lastName ?? null,
        picture: profile.picture ?? null,
        suspendedAt: profile.suspended ? facts.observedAt : null,
        lastSignInAt: facts.signedInAt ?? null,
        kindeSyncedAt: told ? facts.observedAt : null,
        kindeSyncedFrom: told ? facts.source : null,
      },
    };
  }

  const data: Partial<KindeUserColumns> = {};
  const newer = told && isNewerThanStored(facts, row);
  if (newer) {
    for (const column of PROFILE_COLUMNS) {
      // A name edited in the app is the person's own (docs/decisions/0009-who-owns-the-name.md).
      if ((column === "firstName" || column === "lastName") && row.nameEditedAt !== null) continue;
      const value = profile[column];
      if (value !== undefined && value !== row[column]) data[column] = value;
    }
    // The first suspension time is kept while it lasts; lifting it clears it.
    if (profile.suspended === true && row.suspendedAt === null) data.suspendedAt = facts.observedAt;
    if (profile.suspended === false && row.suspendedAt !== null) data.suspendedAt = null;
  }
  const signedInAt = facts.signedInAt;
  if (signedInAt && (row.lastSignInAt === null || signedInAt > row.lastSignInAt)) data.lastSignInAt = signedInAt;
  const changed = Object.keys(data) as (keyof KindeUserColumns)[];
  // A webhook or a sign-in records its time even when the values are the same, so that older
  // news arriving later is recognised as older. users:sync writes only differences, so that a
  // second run writes nothing.
  if (newer && (changed.length > 0 || facts.source !== "users:sync")) {
    data.kindeSyncedAt = facts.observedAt;
    data.kindeSyncedFrom = facts.source;
  }
  if (Object.keys(data).length === 0) return { kind: "none", reason: told && !newer ? "older" : "unchanged" };
  return { kind: "update", data, changed };
}

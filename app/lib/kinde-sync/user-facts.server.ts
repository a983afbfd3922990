// What Kinde says about a user, and what the row takes of it: docs/decisions/0013-kinde-sync-tombstones-and-ordering.md.
import { cleanName } from "../../../common/names.ts";

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
  observedAt: Date;
  source: KindeFactsSource;
  /** A missing key leaves the stored value. */
  profile: Partial<KindeProfileFacts>;
  signedInAt?: Date | null;
  createIfMissing: boolean;
}

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
      changed: (keyof KindeUserColumns)[];
    }
  | { kind: "none"; reason: "older" | "unchanged" | "unknown" };

function clean(value: string | null | undefined, max: number): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed.slice(0, max) : null;
}

function cleanPicture(value: string | null | undefined): string | null {
  const picture = clean(value, 2048);
  // Only http(s) pictures are rendered as <img src>; anything else (javascript:, data:) is dropped.
  return picture && /^https?:\/\//i.test(picture) ? picture : null;
}

export function cleanKindeProfile(raw: Partial<KindeProfileFacts>): Partial<KindeProfileFacts> {
  const profile: Partial<KindeProfileFacts> = {};
  if (raw.email !== undefined) profile.email = clean(raw.email, 320)?.toLowerCase() ?? null;
  // Names by the app's own rule, so the profile form accepts what was stored unchanged.
  if (raw.firstName !== undefined) profile.firstName = cleanName(raw.firstName);
  if (raw.lastName !== undefined) profile.lastName = cleanName(raw.lastName);
  if (raw.picture !== undefined) profile.picture = cleanPicture(raw.picture);
  if (raw.suspended !== undefined) profile.suspended = raw.suspended;
  return profile;
}

// A sign-in's time is its token's `iat`, in whole seconds: two sign-ins within one second tie, the later wins.
export function isNewerThanStored(
  facts: Pick<KindeUserFacts, "observedAt" | "source">,
  row: Pick<StoredKindeUser, "kindeSyncedAt" | "kindeSyncedFrom">,
): boolean {
  if (row.kindeSyncedAt === null) return true;
  const difference = facts.observedAt.getTime() - row.kindeSyncedAt.getTime();
  return difference > 0 || (difference === 0 && facts.source === "sign-in" && row.kindeSyncedFrom === "sign-in");
}

const PROFILE_COLUMNS = ["email", "firstName", "lastName", "picture"] as const;

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
  // Webhooks and sign-ins record their time even without a change, so later-arriving older news is
  // recognised; users:sync writes only differences, so a second run writes nothing.
  if (newer && (changed.length > 0 || facts.source !== "users:sync")) {
    data.kindeSyncedAt = facts.observedAt;
    data.kindeSyncedFrom = facts.source;
  }
  if (Object.keys(data).length === 0) return { kind: "none", reason: told && !newer ? "older" : "unchanged" };
  return { kind: "update", data, changed };
}

/**
 * Every database query about users. Routes call these; nothing else touches `prisma.user`.
 */
import { prisma } from "~/lib/db.server";
import { Prisma, type User } from "~/generated/prisma/client";

export type { User };

/** What Kinde tells us about the signed-in person (the SDK's `getUser()`). */
export interface KindeProfile {
  id: string;
  email?: string | null;
  given_name?: string | null;
  family_name?: string | null;
  picture?: string | null;
}

/** Kinde sends "" or omits fields it does not have; the database keeps NULL for "unknown". */
function clean(value: string | null | undefined, max = 320): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed.slice(0, max) : null;
}

function cleanPicture(value: string | null | undefined): string | null {
  const picture = clean(value, 2048);
  // Only http(s) pictures are rendered as <img src>; anything else (javascript:, data:) is dropped.
  return picture && /^https?:\/\//i.test(picture) ? picture : null;
}

/** Which unique field a failed write collided on. Driver adapters report it in their own shape. */
function isUniqueViolation(error: unknown, field: string): boolean {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== "P2002") return false;
  const meta = error.meta as
    | { target?: unknown; driverAdapterError?: { cause?: { constraint?: { fields?: unknown } } } }
    | undefined;
  const fields = meta?.driverAdapterError?.cause?.constraint?.fields ?? meta?.target;
  return Array.isArray(fields) ? fields.includes(field) : String(fields ?? "").includes(field);
}

/**
 * Creates the user's row on the first sign-in and refreshes it from Kinde on every later
 * one. Safe under concurrency: two sign-ins of the same user at the same moment both end
 * on the one row (the unique kindeId makes the loser's insert fail, and it then updates).
 */
export async function upsertUserFromKinde(profile: KindeProfile, now = new Date()): Promise<User> {
  const data = {
    email: clean(profile.email)?.toLowerCase() ?? null,
    firstName: clean(profile.given_name, 100),
    lastName: clean(profile.family_name, 100),
    picture: cleanPicture(profile.picture),
    lastSignInAt: now,
  };
  const upsert = () =>
    prisma.user.upsert({
      where: { kindeId: profile.id },
      create: { kindeId: profile.id, ...data },
      update: data,
    });

  for (let attempt = 0; ; attempt++) {
    try {
      return await upsert();
    } catch (error) {
      // Lost the race to insert the same kindeId: the row exists now, so the retry updates it.
      if (attempt < 2 && isUniqueViolation(error, "kindeId")) continue;
      // The email belongs to another row: a Kinde identity that was deleted and re-created
      // with the same address. The newest sign-in owns the address; the stale row keeps its
      // data but lets go of the email, so nothing is lost and the sign-in succeeds.
      if (attempt < 2 && data.email && isUniqueViolation(error, "email")) {
        await prisma.user.updateMany({
          where: { email: data.email, NOT: { kindeId: profile.id } },
          data: { email: null },
        });
        continue;
      }
      throw error;
    }
  }
}

export function getUserByKindeId(kindeId: string): Promise<User | null> {
  return prisma.user.findUnique({ where: { kindeId } });
}

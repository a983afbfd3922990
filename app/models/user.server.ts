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
    { target?: unknown; driverAdapterError?: { cause?: { constraint?: { fields?: unknown } } } } | undefined;
  const fields = meta?.driverAdapterError?.cause?.constraint?.fields ?? meta?.target;
  return Array.isArray(fields) ? fields.includes(field) : String(fields ?? "").includes(field);
}

/**
 * Creates the user's row on the first sign-in and refreshes it from Kinde on every later
 * one. Names the person edited in the app are kept (`nameEditedAt`); everything else follows
 * Kinde. Safe under concurrency: two first sign-ins of one user at the same moment end on the
 * one row (the unique kindeId makes the loser's insert fail, and its retry updates).
 */
export async function upsertUserFromKinde(profile: KindeProfile, now = new Date()): Promise<User> {
  const fromKinde = {
    email: clean(profile.email)?.toLowerCase() ?? null,
    firstName: clean(profile.given_name, 100),
    lastName: clean(profile.family_name, 100),
    picture: cleanPicture(profile.picture),
    lastSignInAt: now,
  };
  const upsert = async () => {
    const existing = await prisma.user.findUnique({ where: { kindeId: profile.id }, select: { nameEditedAt: true } });
    const { firstName, lastName, ...rest } = fromKinde;
    return prisma.user.upsert({
      where: { kindeId: profile.id },
      create: { kindeId: profile.id, ...fromKinde },
      update: existing?.nameEditedAt ? rest : fromKinde,
    });
  };

  for (let attempt = 0; ; attempt++) {
    try {
      return await upsert();
    } catch (error) {
      // Lost the race to insert the same kindeId: the row exists now, so the retry updates it.
      if (attempt < 2 && isUniqueViolation(error, "kindeId")) continue;
      // The email belongs to another row: a Kinde identity that was deleted and re-created
      // with the same address. The newest sign-in owns the address; the stale row keeps its
      // data but lets go of the email, so nothing is lost and the sign-in succeeds.
      if (attempt < 2 && fromKinde.email && isUniqueViolation(error, "email")) {
        await prisma.user.updateMany({
          where: { email: fromKinde.email, NOT: { kindeId: profile.id } },
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

/** The person's own edit: from now on sign-ins keep these names. */
export function updateUserName(kindeId: string, name: { firstName: string; lastName: string | null }): Promise<User> {
  return prisma.user.update({ where: { kindeId }, data: { ...name, nameEditedAt: new Date() } });
}

/** Hands the name back to Kinde: takes Kinde's current one now, and on every sign-in again. */
export function resetUserNameToKinde(kindeId: string, profile: KindeProfile): Promise<User> {
  return prisma.user.update({
    where: { kindeId },
    data: { firstName: clean(profile.given_name, 100), lastName: clean(profile.family_name, 100), nameEditedAt: null },
  });
}

/** Removes the stored row. Returns whether there was one. */
export async function deleteUserByKindeId(kindeId: string): Promise<boolean> {
  const { count } = await prisma.user.deleteMany({ where: { kindeId } });
  return count > 0;
}

export const MEMBERS_PAGE_SIZE = 20;

/** One page of stored users, newest first, with the total for the pagination. */
export async function listUsers(page: number): Promise<{ users: User[]; total: number; pages: number }> {
  const [users, total] = await prisma.$transaction([
    prisma.user.findMany({
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      skip: (page - 1) * MEMBERS_PAGE_SIZE,
      take: MEMBERS_PAGE_SIZE,
    }),
    prisma.user.count(),
  ]);
  return { users, total, pages: Math.max(1, Math.ceil(total / MEMBERS_PAGE_SIZE)) };
}

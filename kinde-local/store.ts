import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { z } from "zod";
import { readJsonFile, writeFileAtomic } from "./files.ts";

export const STORE_FILE = "store.json";
/** Parallel loaders refresh with the same old token; it keeps working this long after use. */
export const REFRESH_OVERLAP_MS = 30_000;

export type Clock = () => number;

const isoDate = z.string().refine((value) => !Number.isNaN(Date.parse(value)), "must be an ISO date");

// Fields added after the first release have defaults, so older store files still load.
const userSchema = z.object({
  id: z.string().regex(/^kp_[0-9a-f]{32}$/),
  email: z.string().min(3).max(254),
  givenName: z.string().nullable(),
  familyName: z.string().nullable(),
  passwordHash: z
    .string()
    .regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/)
    .nullable(),
  picture: z.string().nullable().default(null),
  providedId: z.string().nullable().default(null),
  isSuspended: z.boolean().default(false),
  isPasswordResetRequested: z.boolean().default(false),
  createdAt: isoDate,
  updatedAt: isoDate,
  lastSignedInAt: isoDate.nullable(),
  signInCount: z.number().int().nonnegative(),
  failedSignInCount: z.number().int().nonnegative().default(0),
});

const roleSchema = z.object({ id: z.string(), key: z.string(), name: z.string() });

/** An organization made here (API or sign-up), or a config.json one renamed or deleted here. */
const organizationSchema = z.object({
  code: z.string(),
  name: z.string(),
  createdAt: isoDate,
  deleted: z.boolean(),
});

/** removed: taken out here, even if config.json's rules would put the user in it. */
const membershipSchema = z.object({
  orgCode: z.string(),
  userId: z.string(),
  roles: z.array(roleSchema),
  permissions: z.array(z.string()),
  removed: z.boolean(),
});

const sessionSchema = z.object({
  userId: z.string(),
  authTime: z.number(),
  expiresAt: z.number(),
  csrf: z.string(),
});

const grantSchema = z.object({
  userId: z.string(),
  clientId: z.string(),
  scope: z.array(z.string()),
  audience: z.array(z.string()),
  authTime: z.number(),
  familyId: z.string(),
  /** The organization signed in to with org_code (or created at sign-up); null: the default one. */
  orgCode: z.string().nullable().default(null),
});

const refreshTokenSchema = grantSchema.extend({
  expiresAt: z.number(),
  rotatedAt: z.number().nullable(),
});

const deliverySchema = z.object({
  id: z.string().regex(/^msg_[0-9a-f]{32}$/),
  url: z.string(),
  event: z.record(z.string(), z.unknown()),
  createdAt: z.number(),
  attempts: z.number().int().nonnegative(),
  nextAttemptAt: z.number(),
  lastStatus: z.string().nullable(),
});

const fileSchema = z.object({
  version: z.literal(1),
  users: z.record(z.string(), userSchema),
  // Keyed by SHA-256 of the secret, so the file holds no usable session or refresh token.
  sessions: z.record(z.string(), sessionSchema),
  refreshTokens: z.record(z.string(), refreshTokenSchema),
  webhookDeliveries: z.record(z.string(), deliverySchema).default({}),
  organizations: z.record(z.string(), organizationSchema).default({}),
  memberships: z.record(z.string(), membershipSchema).default({}),
});

export type StoredUser = z.output<typeof userSchema>;
export type StoredSession = z.output<typeof sessionSchema>;
export type RefreshGrant = z.output<typeof grantSchema>;
export type StoredRefreshToken = z.output<typeof refreshTokenSchema>;
export type StoredDelivery = z.output<typeof deliverySchema>;
export type StoredOrganization = z.output<typeof organizationSchema>;
export type StoredMembership = z.output<typeof membershipSchema>;
type StoreData = z.output<typeof fileSchema>;

export type UserChanges = Partial<
  Pick<StoredUser, "givenName" | "familyName" | "picture" | "passwordHash" | "isSuspended" | "isPasswordResetRequested">
>;
export type StoreLifetimes = Record<"refreshMs" | "sessionMs", number>;

export class EmailTakenError extends Error {
  override name = "EmailTakenError";
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** Kept in memory, saved as one JSON file; a save queued behind another picks up every change made before it starts. */
export class Store {
  private readonly usersByEmail = new Map<string, string>();
  private writeChain: Promise<void> = Promise.resolve();
  private queuedWrite: Promise<void> | undefined;

  private constructor(
    private readonly path: string,
    private readonly data: StoreData,
    private readonly clock: Clock,
    private readonly lifetimes: StoreLifetimes,
  ) {
    for (const user of Object.values(data.users)) this.usersByEmail.set(user.email, user.id);
  }

  static async open(dataDir: string, clock: Clock, lifetimes: StoreLifetimes): Promise<Store> {
    const path = join(dataDir, STORE_FILE);
    const empty: StoreData = {
      version: 1,
      users: {},
      sessions: {},
      refreshTokens: {},
      webhookDeliveries: {},
      organizations: {},
      memberships: {},
    };
    const data = (await readJsonFile(path, fileSchema, "store file", "delete the data folder to start over")) ?? empty;
    const store = new Store(path, data, clock, lifetimes);
    store.prune();
    return store;
  }

  findUserByEmail(email: string): StoredUser | undefined {
    const id = this.usersByEmail.get(email);
    return id === undefined ? undefined : this.data.users[id];
  }

  getUser(id: string): StoredUser | undefined {
    return Object.hasOwn(this.data.users, id) ? this.data.users[id] : undefined;
  }

  listUsers(): StoredUser[] {
    return Object.values(this.data.users).sort(
      (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id),
    );
  }

  /** `email` must already be trimmed and lowercased. */
  async createUser(
    input: Pick<StoredUser, "email" | "givenName" | "familyName" | "passwordHash"> &
      Partial<Pick<StoredUser, "picture" | "providedId">>,
  ): Promise<StoredUser> {
    if (this.usersByEmail.has(input.email)) throw new EmailTakenError(input.email);
    const now = new Date(this.clock()).toISOString();
    const user: StoredUser = {
      id: `kp_${randomBytes(16).toString("hex")}`,
      ...input,
      picture: input.picture ?? null,
      providedId: input.providedId ?? null,
      isSuspended: false,
      isPasswordResetRequested: false,
      createdAt: now,
      updatedAt: now,
      lastSignedInAt: null,
      signInCount: 0,
      failedSignInCount: 0,
    };
    this.data.users[user.id] = user;
    this.usersByEmail.set(user.email, user.id);
    await this.save();
    return user;
  }

  /** Suspending a user also ends their sessions and refresh tokens. */
  async updateUser(id: string, changes: UserChanges): Promise<StoredUser | undefined> {
    const user = this.getUser(id);
    if (!user) return undefined;
    Object.assign(user, Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)));
    if (changes.isSuspended) this.endEverythingOf(id);
    user.updatedAt = new Date(this.clock()).toISOString();
    await this.save();
    return user;
  }

  /** A sign-in, or (succeeded false) a wrong password. */
  async recordSignIn(id: string, succeeded = true): Promise<void> {
    const user = this.getUser(id);
    if (!user) return;
    if (succeeded) user.lastSignedInAt = new Date(this.clock()).toISOString();
    user[succeeded ? "signInCount" : "failedSignInCount"] += 1;
    await this.save();
  }

  async deleteUser(id: string): Promise<boolean> {
    const user = this.getUser(id);
    if (!user) return false;
    delete this.data.users[id];
    this.usersByEmail.delete(user.email);
    this.endEverythingOf(id);
    this.removeWhere(this.data.memberships, (membership) => membership.userId === id);
    await this.save();
    return true;
  }

  getOrganization(code: string): StoredOrganization | undefined {
    return Object.hasOwn(this.data.organizations, code) ? this.data.organizations[code] : undefined;
  }

  listOrganizations(): StoredOrganization[] {
    return Object.values(this.data.organizations);
  }

  async putOrganization(organization: StoredOrganization): Promise<void> {
    this.data.organizations[organization.code] = organization;
    if (organization.deleted) this.removeWhere(this.data.memberships, (entry) => entry.orgCode === organization.code);
    await this.save();
  }

  getMembership(orgCode: string, userId: string): StoredMembership | undefined {
    const key = `${orgCode} ${userId}`;
    return Object.hasOwn(this.data.memberships, key) ? this.data.memberships[key] : undefined;
  }

  listMemberships(): StoredMembership[] {
    return Object.values(this.data.memberships);
  }

  async putMembership(membership: StoredMembership): Promise<void> {
    this.data.memberships[`${membership.orgCode} ${membership.userId}`] = membership;
    await this.save();
  }

  private endEverythingOf(userId: string): void {
    this.removeWhere(this.data.sessions, (session) => session.userId === userId);
    this.removeWhere(this.data.refreshTokens, (token) => token.userId === userId);
  }

  async createSession(userId: string, authTime: number): Promise<{ id: string; session: StoredSession }> {
    const id = randomToken();
    const session: StoredSession = {
      userId,
      authTime,
      expiresAt: this.clock() + this.lifetimes.sessionMs,
      csrf: randomToken(),
    };
    this.data.sessions[hashSecret(id)] = session;
    await this.save();
    return { id, session };
  }

  getSession(id: string): StoredSession | undefined {
    const key = hashSecret(id);
    const session = Object.hasOwn(this.data.sessions, key) ? this.data.sessions[key] : undefined;
    if (!session || session.expiresAt <= this.clock()) return undefined;
    const user = this.getUser(session.userId);
    if (!user || user.isSuspended) return undefined;
    return session;
  }

  async deleteSession(id: string): Promise<void> {
    const key = hashSecret(id);
    if (!Object.hasOwn(this.data.sessions, key)) return;
    delete this.data.sessions[key];
    await this.save();
  }

  async issueRefreshToken(grant: RefreshGrant): Promise<string> {
    const token = this.addRefreshToken(grant);
    await this.save();
    return token;
  }

  /**
   * Spends a refresh token and returns its successor. A spent token still works for
   * REFRESH_OVERLAP_MS (parallel loaders); used after that, it revokes its whole family, the
   * newer tokens too (RFC 9700 section 4.14.2: a leaked token and its thief look the same).
   */
  async rotateRefreshToken(
    token: string,
    clientId: string,
  ): Promise<{ grant: RefreshGrant; token: string } | "reused" | undefined> {
    const record = this.refreshRecord(token);
    const now = this.clock();
    if (!record || record.clientId !== clientId || record.expiresAt <= now) return undefined;
    if (record.rotatedAt !== null && now - record.rotatedAt > REFRESH_OVERLAP_MS) {
      await this.revokeFamily(record.familyId);
      return "reused";
    }
    const user = this.getUser(record.userId);
    if (!user || user.isSuspended) return undefined;
    record.rotatedAt ??= now;
    const { expiresAt, rotatedAt, ...grant } = record;
    const successor = this.addRefreshToken(grant);
    await this.save();
    return { grant, token: successor };
  }

  familyOf(token: string): string | undefined {
    return this.refreshRecord(token)?.familyId;
  }

  ownerOf(token: string): string | undefined {
    return this.refreshRecord(token)?.userId;
  }

  private refreshRecord(token: string): StoredRefreshToken | undefined {
    const key = hashSecret(token);
    return Object.hasOwn(this.data.refreshTokens, key) ? this.data.refreshTokens[key] : undefined;
  }

  async revokeFamily(familyId: string): Promise<void> {
    const removed = this.removeWhere(this.data.refreshTokens, (token) => token.familyId === familyId);
    if (removed > 0) await this.save();
  }

  listDeliveries(): StoredDelivery[] {
    return Object.values(this.data.webhookDeliveries);
  }

  async addDeliveries(deliveries: StoredDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    for (const delivery of deliveries) this.data.webhookDeliveries[delivery.id] = delivery;
    await this.save();
  }

  /** `next` is the delivery's new state, or null when it is finished. */
  async settleDelivery(id: string, next: StoredDelivery | null): Promise<void> {
    if (!Object.hasOwn(this.data.webhookDeliveries, id)) return;
    if (next === null) delete this.data.webhookDeliveries[id];
    else this.data.webhookDeliveries[id] = next;
    await this.save();
  }

  async flush(): Promise<void> {
    await this.save();
  }

  /** A spent refresh token is kept while its family lives, so a late reuse can revoke it. */
  prune(): void {
    const now = this.clock();
    this.removeWhere(this.data.sessions, (session) => session.expiresAt <= now);
    this.removeWhere(this.data.refreshTokens, (token) => token.expiresAt <= now);
    const live = new Set(
      Object.values(this.data.refreshTokens)
        .filter((token) => token.rotatedAt === null)
        .map((token) => token.familyId),
    );
    this.removeWhere(this.data.refreshTokens, (token) => !live.has(token.familyId));
  }

  private addRefreshToken(grant: RefreshGrant): string {
    // A prefix that cannot parse as JSON: the SDK's cookie library JSON.parses every
    // cookie value and would turn an all-digit token into a number.
    const token = `rt_${randomToken()}`;
    this.data.refreshTokens[hashSecret(token)] = {
      ...grant,
      expiresAt: this.clock() + this.lifetimes.refreshMs,
      rotatedAt: null,
    };
    return token;
  }

  private removeWhere<T>(records: Record<string, T>, predicate: (record: T) => boolean): number {
    let removed = 0;
    for (const [key, record] of Object.entries(records)) {
      if (predicate(record)) {
        delete records[key];
        removed++;
      }
    }
    return removed;
  }

  private save(): Promise<void> {
    if (this.queuedWrite) return this.queuedWrite;
    const write = this.writeChain.then(() => {
      this.queuedWrite = undefined;
      this.prune();
      return writeFileAtomic(this.path, `${JSON.stringify(this.data, null, 2)}\n`, 0o600);
    });
    this.queuedWrite = write;
    this.writeChain = write.catch(() => undefined);
    return write;
  }
}

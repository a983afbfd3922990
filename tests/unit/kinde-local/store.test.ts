import { mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "../../../kinde-local/passwords.ts";
import {
  EmailTakenError,
  REFRESH_OVERLAP_MS,
  Store,
  STORE_FILE,
  type RefreshGrant,
} from "../../../kinde-local/store.ts";

const LIFETIMES = { refreshMs: 3_600_000, sessionMs: 7_200_000 };
const HASH = "scrypt$16384$8$1$c2FsdA$aGFzaA";

function fakeClock(start = Date.UTC(2030, 0, 1)) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

async function openStore(clock = fakeClock()) {
  const dataDir = await mkdtemp(join(tmpdir(), "kinde-local-store-"));
  return { dataDir, clock, store: await Store.open(dataDir, clock.now, LIFETIMES) };
}

async function newUser(store: Store, email = "ada@example.com") {
  return store.createUser({ email, givenName: "Ada", familyName: null, passwordHash: HASH });
}

function grantFor(userId: string): RefreshGrant {
  return {
    userId,
    clientId: "client",
    scope: ["openid", "offline"],
    audience: [],
    authTime: 0,
    familyId: "family-1",
    orgCode: null,
  };
}

describe("users", () => {
  it("get Kinde-style ids and unique emails", async () => {
    const { store } = await openStore();
    const user = await newUser(store);
    expect(user.id).toMatch(/^kp_[0-9a-f]{32}$/);
    expect(store.findUserByEmail("ada@example.com")?.id).toBe(user.id);
    await expect(newUser(store)).rejects.toBeInstanceOf(EmailTakenError);
  });

  it("persist across reopen, in a 0600 file, written without leftovers", async () => {
    const { store, dataDir, clock } = await openStore();
    const user = await newUser(store);
    await store.updateUser(user.id, { familyName: "Lovelace" });
    const reopened = await Store.open(dataDir, clock.now, LIFETIMES);
    expect(reopened.getUser(user.id)).toMatchObject({
      email: "ada@example.com",
      givenName: "Ada",
      familyName: "Lovelace",
    });
    expect((await stat(join(dataDir, STORE_FILE))).mode & 0o777).toBe(0o600);
    expect((await readdir(dataDir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("serialize parallel writes without losing any", async () => {
    const { store, dataDir, clock } = await openStore();
    await Promise.all(Array.from({ length: 25 }, (_, index) => newUser(store, `user${index}@example.com`)));
    const reopened = await Store.open(dataDir, clock.now, LIFETIMES);
    expect(reopened.listUsers()).toHaveLength(25);
  });

  it("deleting one removes their sessions and refresh tokens", async () => {
    const { store } = await openStore();
    const user = await newUser(store);
    const { id } = await store.createSession(user.id, 0);
    const token = await store.issueRefreshToken(grantFor(user.id));
    expect(await store.deleteUser(user.id)).toBe(true);
    expect(store.getSession(id)).toBeUndefined();
    expect(await store.rotateRefreshToken(token, "client")).toBeUndefined();
    expect(store.findUserByEmail("ada@example.com")).toBeUndefined();
  });

  it("suspending one ends their sessions and refresh tokens, for good", async () => {
    const { store, clock } = await openStore();
    const user = await newUser(store);
    const { id } = await store.createSession(user.id, clock.now());
    const token = await store.issueRefreshToken(grantFor(user.id));
    expect(store.getSession(id)).toBeDefined();
    await store.updateUser(user.id, { isSuspended: true });
    expect(store.getSession(id)).toBeUndefined();
    expect(store.ownerOf(token)).toBeUndefined();
    await store.updateUser(user.id, { isSuspended: false });
    // Un-suspending does not bring them back.
    expect(store.getSession(id)).toBeUndefined();
    expect(await store.rotateRefreshToken(token, "client")).toBeUndefined();
  });

  it("opens a store file written before suspension, pictures and webhooks existed", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "kinde-local-store-"));
    const old = { id: "kp_0123456789abcdef0123456789abcdef", email: "old@example.com", givenName: "Old" };
    await writeFile(
      join(dataDir, STORE_FILE),
      JSON.stringify({
        version: 1,
        users: {
          [old.id]: {
            ...old,
            familyName: null,
            passwordHash: HASH,
            createdAt: "2026-01-01T00:00:00.000Z",
            updatedAt: "2026-01-01T00:00:00.000Z",
            lastSignedInAt: null,
            signInCount: 3,
          },
        },
        sessions: {},
        refreshTokens: {},
      }),
    );
    const store = await Store.open(dataDir, Date.now, LIFETIMES);
    expect(store.getUser(old.id)).toMatchObject({
      isSuspended: false,
      isPasswordResetRequested: false,
      picture: null,
      providedId: null,
      failedSignInCount: 0,
      signInCount: 3,
    });
    expect(store.listDeliveries()).toEqual([]);
  });

  it("refuses a corrupted store file with a clear message", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "kinde-local-store-"));
    await writeFile(join(dataDir, STORE_FILE), JSON.stringify({ version: 1, users: { x: { id: "nope" } } }));
    await expect(Store.open(dataDir, Date.now, LIFETIMES)).rejects.toThrow(/not a valid store file/);
  });
});

describe("sessions", () => {
  it("expire, and are kept on disk only as hashes", async () => {
    const { store, clock, dataDir } = await openStore();
    const user = await newUser(store);
    const { id } = await store.createSession(user.id, clock.now());
    expect(store.getSession(id)?.userId).toBe(user.id);
    expect(await readFile(join(dataDir, STORE_FILE), "utf8")).not.toContain(id);
    clock.advance(LIFETIMES.sessionMs);
    expect(store.getSession(id)).toBeUndefined();
  });
});

describe("refresh tokens", () => {
  it("are opaque strings a cookie library will not JSON-parse", async () => {
    const { store } = await openStore();
    const user = await newUser(store);
    for (let index = 0; index < 20; index++) {
      const token = await store.issueRefreshToken(grantFor(user.id));
      expect(token).toMatch(/^rt_[A-Za-z0-9_-]{43}$/);
      expect(() => JSON.parse(token)).toThrow();
    }
  });

  it("rotate on use; the old one works during the overlap, then revokes its family (RFC 9700 reuse detection)", async () => {
    const { store, clock } = await openStore();
    const user = await newUser(store);
    const first = await store.issueRefreshToken(grantFor(user.id));
    const rotated = await store.rotateRefreshToken(first, "client");
    if (typeof rotated !== "object") throw new Error("not rotated");
    expect(rotated.token).toMatch(/^rt_/);
    expect(rotated.token).not.toBe(first);
    expect(rotated.grant).toMatchObject({ userId: user.id, familyId: "family-1", scope: ["openid", "offline"] });

    clock.advance(REFRESH_OVERLAP_MS - 1_000);
    expect(await store.rotateRefreshToken(first, "client")).toBeTypeOf("object");
    clock.advance(2_000);
    expect(await store.rotateRefreshToken(first, "client")).toBe("reused");
    // The successor went with it.
    expect(await store.rotateRefreshToken(rotated.token, "client")).toBeUndefined();
    expect(store.familyOf(rotated.token)).toBeUndefined();
  });

  it("are refused for another client, after expiry, and after their family is revoked", async () => {
    const { store, clock } = await openStore();
    const user = await newUser(store);
    const token = await store.issueRefreshToken(grantFor(user.id));
    expect(await store.rotateRefreshToken(token, "other-client")).toBeUndefined();

    const other = await store.issueRefreshToken({ ...grantFor(user.id), familyId: "family-2" });
    expect(store.familyOf(other)).toBe("family-2");
    await store.revokeFamily("family-2");
    expect(await store.rotateRefreshToken(other, "client")).toBeUndefined();

    clock.advance(LIFETIMES.refreshMs);
    expect(await store.rotateRefreshToken(token, "client")).toBeUndefined();
  });

  it("survive a restart, and are stored only as hashes", async () => {
    const { store, dataDir, clock } = await openStore();
    const user = await newUser(store);
    const token = await store.issueRefreshToken(grantFor(user.id));
    expect(await readFile(join(dataDir, STORE_FILE), "utf8")).not.toContain(token);
    const reopened = await Store.open(dataDir, clock.now, LIFETIMES);
    expect(await reopened.rotateRefreshToken(token, "client")).toBeDefined();
  });

  it("are pruned once expired; a spent one is kept while its family lives, to detect a reuse", async () => {
    const { store, dataDir, clock } = await openStore();
    const user = await newUser(store);
    const used = await store.issueRefreshToken(grantFor(user.id));
    await store.rotateRefreshToken(used, "client");
    const stored = async () => {
      await store.flush();
      const file = JSON.parse(await readFile(join(dataDir, STORE_FILE), "utf8")) as { refreshTokens: object };
      return Object.keys(file.refreshTokens).length;
    };
    clock.advance(REFRESH_OVERLAP_MS + 1);
    await store.issueRefreshToken({ ...grantFor(user.id), familyId: "family-2" });
    expect(await stored()).toBe(3);
    clock.advance(LIFETIMES.refreshMs);
    await store.issueRefreshToken({ ...grantFor(user.id), familyId: "family-3" });
    expect(await stored()).toBe(1);
  });
});

describe("passwords", () => {
  it("are salted scrypt hashes checked in constant time", async () => {
    const first = await hashPassword("correct horse");
    const second = await hashPassword("correct horse");
    expect(first).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(first).not.toBe(second);
    expect(await verifyPassword("correct horse", first)).toBe(true);
    expect(await verifyPassword("correct horsf", first)).toBe(false);
    expect(await verifyPassword("correct horse", "garbage")).toBe(false);
  });
});

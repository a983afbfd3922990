// Kinde's webhooks over HTTP: forged and malformed deliveries, ordering, suspension, deletion.
import { decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { TestBrowser, textOf } from "../support/browser";
import { timeOf, usersIn, userWithKindeId } from "../support/database-access.ts";
import { signUp, signUpNewPerson } from "../support/sign-in.ts";
import { deleteKindeUser, deliverWebhook, kindeEvent, sendKindeEvent, signKindeEvent } from "../support/kinde-webhooks";
import { useStack } from "../support/use-stack.ts";
import { expectSignedOut, replayCookies } from "../support/session";
import { decodeJwt, signWithKindeKey, signWithOtherKey, unsigned } from "../support/tokens";

const stack = useStack();

async function storedState() {
  return {
    users: await stack.database.query("SELECT * FROM User ORDER BY id"),
    tombstones: await stack.database.query("SELECT * FROM DeletedKindeIdentity ORDER BY id"),
    events: await stack.database.query("SELECT * FROM KindeWebhookEvent ORDER BY id"),
  };
}

const rowOf = (kindeId: string) => userWithKindeId(stack.database, kindeId);
const updateAt = (timestamp: Date, user: Record<string, unknown>) =>
  sendKindeEvent(stack, "user.updated", user, { timestamp });
/** A new browser with the cookies as copied earlier, asking for `path`. */
const replayed = async (cookies: string, path: string) =>
  (await replayCookies(stack, cookies)).get(`${stack.appUrl}${path}`, { follow: false });
const tombstonesOf = (kindeId: string) =>
  stack.database.query("SELECT kindeId FROM DeletedKindeIdentity WHERE kindeId = ?", kindeId);

/**
 * A moment just after everything the row holds from Kinde: its sign-in (the ID token's `iat`,
 * whole seconds) and the local Kinde server's own user.created (milliseconds, often later).
 */
async function justAfterStoredNews(kindeId: string, idTokenIssuedAt: number): Promise<Date> {
  const synced = (await rowOf(kindeId))?.kindeSyncedAt ?? null;
  return new Date(Math.max(idTokenIssuedAt, synced === null ? 0 : timeOf(synced)) + 1);
}

describe("forged and malformed deliveries", () => {
  it("refuses each with a 4xx and changes nothing stored", async () => {
    const { kindeId } = await signUpNewPerson(stack);
    const genuine = kindeEvent("user.updated", { id: kindeId, first_name: "Mallory" });
    const valid = await signKindeEvent(stack, genuine);
    const [header, payload, signature] = valid.split(".");
    const edited = Buffer.from(JSON.stringify({ ...genuine, data: { user: { id: kindeId, first_name: "Eve" } } }));
    const hour = 60 * 60 * 1000;
    const jwt = { "Content-Type": "application/jwt" };
    const signedAt = (timestamp: Date) =>
      signKindeEvent(stack, kindeEvent("user.updated", { id: kindeId }, { timestamp }));
    const cases: [string, BodyInit, Record<string, string>, number][] = [
      ["wrong key", await signWithOtherKey(genuine, decodeProtectedHeader(valid).kid!), jwt, 401],
      ["alg none", unsigned(genuine), jwt, 401],
      ["edited payload", `${header}.${edited.toString("base64url")}.${signature}`, jwt, 401],
      ["unknown kid", await signWithKindeKey(stack.kindeDataDir, genuine, "unknown:kid"), jwt, 401],
      ["garbage", "garbage", jwt, 400],
      ["a signature cut off", `${header}.${payload}.`, jwt, 401],
      ["wrong content type", valid, { "Content-Type": "application/json" }, 415],
      ["form content type", `token=${valid}`, { "Content-Type": "application/x-www-form-urlencoded" }, 415],
      ["oversized for the route", "x".repeat(40 * 1024), jwt, 413],
      ["oversized for the server", "x".repeat(100 * 1024), jwt, 413],
      ["too old", await signedAt(new Date(Date.now() - 73 * hour)), jwt, 400],
      ["too far in the future", await signedAt(new Date(Date.now() + hour)), jwt, 400],
      ["bad payload shape", await signKindeEvent(stack, { ...genuine, data: { user: { id: 42 } } }), jwt, 400],
      ["no event id", await signKindeEvent(stack, { ...genuine, event_id: undefined }), jwt, 400],
    ];
    const before = await storedState();
    for (const [what, body, headers, status] of cases) {
      const result = await deliverWebhook(stack, body, headers);
      expect(result.status, what).toBe(status);
    }
    // A streamed body without Content-Length stops at the limit too.
    const streamed = new Blob(Array.from({ length: 40 }, () => "x".repeat(1024))).stream();
    expect((await deliverWebhook(stack, streamed, jwt)).status).toBe(413);
    expect(await storedState()).toEqual(before);
    expect(stack.appLog()).not.toMatch(/\bPOST \/webhooks\/kinde 5\d\d\b/);
    expect(stack.appLog()).not.toContain(valid);
  });

  it("answers a GET with 405", async () => {
    const response = await fetch(`${stack.appUrl}/webhooks/kinde`);
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("POST");
  });
});

it("keeps the newer data when an older update arrives after it", async () => {
  const { kindeId, browser } = await signUpNewPerson(stack);
  const now = Date.now();
  await updateAt(new Date(now), { id: kindeId, first_name: "Newer" });
  const older = await updateAt(new Date(now - 1000), { id: kindeId, first_name: "Older" });
  expect(older).toEqual({ status: 200, body: { outcome: "older" } });
  expect(await rowOf(kindeId)).toMatchObject({ firstName: "Newer", kindeSyncedFrom: "webhook user.updated" });
  expect(textOf((await browser.get(`${stack.appUrl}/dashboard`)).html)).toContain("Newer");
});

it("a person deleted at Kinde loses the row and the session, is never re-created by the old token, and the email can sign up anew", async () => {
  const { person, browser, kindeId } = await signUpNewPerson(stack);
  const cookies = await browser.jar.getCookieString(stack.appUrl);
  // The local Kinde server sends its own user.deleted; once it has got its 200, the app has applied it.
  await deleteKindeUser(stack, kindeId);
  await stack.webhooksSettled();
  expect(stack.appLog()).toMatch(/\[webhook\] user\.deleted event_[0-9a-f]{32} deleted\n/);
  expect(await sendKindeEvent(stack, "user.deleted", { id: kindeId })).toEqual({
    status: 200,
    body: { outcome: "already deleted" },
  });
  expect((await usersIn(stack.database)).filter((user) => user.kindeId === kindeId)).toEqual([]);
  expect(await tombstonesOf(kindeId)).toHaveLength(1);

  // The next request, with a token that has not expired, signs the person out.
  expectSignedOut(await browser.get(`${stack.appUrl}/dashboard`, { follow: false }), "/dashboard");
  expect(await browser.cookie(stack.appUrl, "id_token")).toBeUndefined();
  // The same token cannot bring the row back through /auth/success or a public page.
  expectSignedOut(await replayed(cookies, "/auth/success"), "/dashboard");
  expectSignedOut(await replayed(cookies, "/"), "/");
  expect((await usersIn(stack.database)).filter((user) => user.kindeId === kindeId)).toEqual([]);

  // A new Kinde identity with the same email signs up normally.
  const { page } = await signUp(stack, person);
  expect(page.url).toBe(`${stack.appUrl}/dashboard`);
  const rows = (await usersIn(stack.database)).filter((user) => user.email === person.email);
  expect(rows).toHaveLength(1);
  expect(rows[0]!.kindeId).not.toBe(kindeId);
});

describe("a person suspended at Kinde", () => {
  it("is signed out at the next request even with an unexpired token, and comes back once Kinde lifts it", async () => {
    const { person, browser, kindeId } = await signUpNewPerson(stack);
    const idToken = (await browser.cookie(stack.appUrl, "id_token"))!;
    const issuedAt = decodeJwt(idToken).iat! * 1000;
    const cookies = await browser.jar.getCookieString(stack.appUrl);
    expect((await browser.get(`${stack.appUrl}/dashboard`, { follow: false })).status).toBe(200);

    // Suspended just after the token was issued.
    const suspendedAt = await justAfterStoredNews(kindeId, issuedAt);
    const suspended = await updateAt(suspendedAt, { id: kindeId, is_suspended: true });
    expect(suspended).toEqual({ status: 200, body: { outcome: "updated" } });
    expectSignedOut(await browser.get(`${stack.appUrl}/dashboard`, { follow: false }), "/dashboard");
    expect(await browser.cookie(stack.appUrl, "access_token")).toBeUndefined();

    // The token issued before the suspension cannot lift it through /auth/success.
    expectSignedOut(await replayed(cookies, "/auth/success"), "/dashboard");
    expectSignedOut(await replayed(cookies, "/members"), "/members");
    expect((await rowOf(kindeId))?.suspendedAt).not.toBeNull();

    // Kinde lifts the suspension: a newer user.updated, then the person signs in again.
    await updateAt(new Date(suspendedAt.getTime() + 1), { id: kindeId, is_suspended: false });
    // Still signed in at Kinde (single sign-on): no password form, straight back to the app.
    const page = await browser.get(`${stack.appUrl}/kinde-auth/login?returnTo=%2Fdashboard`);
    expect(page.url).toBe(`${stack.appUrl}/dashboard`);
    expect(textOf(page.html)).toContain(person.lastName);
  });

  it("is let back in by a sign-in whose token Kinde issued after the suspension", async () => {
    const { browser, kindeId } = await signUpNewPerson(stack);
    const accessToken = (await browser.cookie(stack.appUrl, "access_token"))!;
    const idToken = (await browser.cookie(stack.appUrl, "id_token"))!;
    const id = decodeJwt(idToken);
    await updateAt(await justAfterStoredNews(kindeId, id.iat! * 1000), { id: kindeId, is_suspended: true });
    expect((await rowOf(kindeId))?.suspendedAt).not.toBeNull();

    // What Kinde would issue to the person once it lifted the suspension (the webhook that
    // said so was lost): the same claims, two seconds later (after the suspension).
    const later = new TestBrowser();
    await later.setCookies(stack.appUrl, {
      access_token: await signWithKindeKey(stack.kindeDataDir, { ...decodeJwt(accessToken), iat: id.iat! + 2 }),
      id_token: await signWithKindeKey(stack.kindeDataDir, { ...id, iat: id.iat! + 2 }),
    });
    const success = await later.get(`${stack.appUrl}/auth/success`, { follow: false });
    expect(success.status).toBe(302);
    expect(success.headers.get("Location")).toBe("/dashboard");
    expect((await later.get(`${stack.appUrl}/dashboard`, { follow: false })).status).toBe(200);
    expect((await rowOf(kindeId))?.suspendedAt).toBeNull();
  });
});

// A person signs up through the (local) Kinde pages, the app stores them, the dashboard shows the row.
import { describe, expect, it } from "vitest";
import { TestBrowser, textOf } from "../support/browser";
import { usersIn } from "../support/database-access.ts";
import { kindeAdmin } from "../support/kinde-session.ts";
import { newPerson, signIn, signOut, signUp } from "../support/sign-in.ts";
import { useStack } from "../support/use-stack.ts";

const stack = useStack();

describe("sign-up and the stored profile", () => {
  it("stores a new user with the names entered on the sign-up page and shows them", async () => {
    const person = newPerson({ firstName: "Grace", lastName: "Hopper" });
    const { page } = await signUp(stack, person);

    expect(page.url).toBe(`${stack.appUrl}/dashboard`);
    expect(page.chain).toContain(`${stack.appUrl}/auth/success`);
    expect(textOf(page.html)).toContain("Grace Hopper");
    expect(textOf(page.html)).toContain(person.email);

    const rows = (await usersIn(stack.database)).filter((row) => row.email === person.email);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ firstName: "Grace", lastName: "Hopper", email: person.email });
    expect(rows[0]?.kindeId).toMatch(/^kp_[0-9a-f]{32}$/);
  });

  it("updates the row, without a duplicate, when the names changed at Kinde before the next sign-in", async () => {
    const person = newPerson();
    const { browser } = await signUp(stack, person);
    const [before] = (await usersIn(stack.database)).filter((row) => row.email === person.email);
    expect(before).toBeDefined();

    await signOut(stack, browser);
    await (await kindeAdmin(stack)).updateUser(before!.kindeId, { given_name: "Augusta", family_name: "King" });
    const { page } = await signIn(stack, person, browser);

    expect(page.url).toBe(`${stack.appUrl}/dashboard`);
    expect(textOf(page.html)).toContain("Augusta King");
    const after = (await usersIn(stack.database)).filter((row) => row.kindeId === before!.kindeId);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: before!.id, firstName: "Augusta", lastName: "King" });
    expect(Date.parse(String(after[0]!.lastSignInAt))).toBeGreaterThan(Date.parse(String(before!.lastSignInAt)));
  });

  it("sends a signed-out visitor to sign-in and back to the dashboard afterwards", async () => {
    const person = newPerson();
    const { browser } = await signUp(stack, person);
    await signOut(stack, browser);

    const fresh = new TestBrowser();
    const redirect = await fresh.get(`${stack.appUrl}/dashboard`, { follow: false });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("Location")).toBe("/kinde-auth/login?returnTo=%2Fdashboard");

    const { page } = await signIn(stack, person, fresh, "/dashboard");
    expect(page.url).toBe(`${stack.appUrl}/dashboard`);
    expect(textOf(page.html)).toContain(person.lastName);
  });

  it("signs the user out: the dashboard asks for sign-in again", async () => {
    const person = newPerson();
    const { browser } = await signUp(stack, person);
    const afterSignOut = await signOut(stack, browser);
    expect(afterSignOut.url).toBe(`${stack.appUrl}/`);
    const page = await browser.get(`${stack.appUrl}/dashboard`, { follow: false });
    expect(page.status).toBe(302);
    expect(await browser.cookie(stack.appUrl, "id_token")).toBeUndefined();
  });

  it("recreates the row through /auth/success when the database lost it", async () => {
    const person = newPerson({ firstName: "Hedy", lastName: "Lamarr" });
    const { browser } = await signUp(stack, person);
    await stack.database.run("DELETE FROM User WHERE email = ?", person.email);

    const page = await browser.get(`${stack.appUrl}/dashboard`);
    expect(page.url).toBe(`${stack.appUrl}/dashboard`);
    expect(page.chain).toContain(`${stack.appUrl}/auth/success?returnTo=%2Fdashboard`);
    expect(textOf(page.html)).toContain("Hedy Lamarr");
    expect((await usersIn(stack.database)).filter((row) => row.email === person.email)).toHaveLength(1);
  });
});

describe("tokens that are not Kinde's", () => {
  it("treats a tampered ID token as signed out, with no error", async () => {
    const person = newPerson();
    const { browser } = await signUp(stack, person);
    const idToken = (await browser.cookie(stack.appUrl, "id_token"))!;
    const [header, payload, signature] = idToken.split(".");
    const claims = { ...JSON.parse(Buffer.from(payload!, "base64url").toString()), sub: `kp_${"0".repeat(32)}` };
    const forgedPayload = Buffer.from(JSON.stringify(claims)).toString("base64url");
    await browser.setCookie(stack.appUrl, "id_token", `${header}.${forgedPayload}.${signature}`);

    const page = await browser.get(`${stack.appUrl}/dashboard`, { follow: false });
    expect(page.status).toBe(302);
    expect(page.headers.get("Location")).toContain("/kinde-auth/login");
  });

  it("treats garbage token cookies as signed out on every page, with no 500", async () => {
    const browser = new TestBrowser();
    for (const value of ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "%E0%A4%A"]) {
      await browser.setCookies(stack.appUrl, { access_token: value, id_token: value });
      for (const path of ["/", "/dashboard", "/auth/success"]) {
        const page = await browser.get(`${stack.appUrl}${path}`, { follow: false });
        expect(page.status, `${path} with ${value}`).toBeLessThan(500);
      }
    }
    const landing = await browser.get(`${stack.appUrl}/`);
    expect(textOf(landing.html)).toContain("Sign up");
  });
});

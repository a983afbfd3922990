/**
 * Graceful shutdown: SIGTERM with a request in flight. The request asks for
 * `100 Continue`, so the server's answer proves it has received the request; the body is
 * then held back until the server has acknowledged the signal.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usersIn } from "../support/database-access.ts";
import { signInAs } from "../support/sign-in.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe("graceful shutdown", () => {
  it("finishes the write in flight, refuses new connections, disconnects Prisma and exits 0", async () => {
    const { browser, person } = await signInAs(stack);
    const cookie = await browser.jar.getCookieString(stack.appUrl);
    const body = new URLSearchParams({
      intent: "update-profile",
      firstName: "Shutdown",
      lastName: "Survivor",
    }).toString();

    const url = new URL(`${stack.appUrl}/dashboard`);
    let req!: ClientRequest;
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: "/dashboard?index",
          method: "POST",
          headers: {
            Cookie: cookie,
            Origin: stack.appUrl,
            Host: url.host,
            "Content-Type": "application/x-www-form-urlencoded",
            "Content-Length": Buffer.byteLength(body),
            Expect: "100-continue",
          },
        },
        resolve,
      );
      req.on("error", reject);
    });
    req.flushHeaders();
    // The server has the request (it answered 100 Continue); half the body, and the action
    // is now waiting for the rest.
    await new Promise<void>((resolve) => req.once("continue", resolve));
    req.write(body.slice(0, 10));

    const exit = stack.stopApp("SIGTERM");
    await stack.waitForLog("SIGTERM: finishing requests in flight");

    // No new connections once the signal is handled: a new socket (fetch could reuse one it
    // keeps alive, which the server may still be finishing a request on).
    const newConnection = new Promise<IncomingMessage>((resolve, reject) =>
      httpRequest({ host: url.hostname, port: url.port, path: "/", agent: false }, resolve).once("error", reject).end(),
    );
    await expect(newConnection).rejects.toThrow();

    req.end(body.slice(10));
    const res = await response;
    res.resume();
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe("/dashboard");
    // Its connection closes after this answer instead of waiting for another request.
    expect(res.headers.connection).toBe("close");

    expect(await exit).toBe(0);
    expect(stack.appLog()).toContain("[db] disconnected");
    const [row] = (await usersIn(stack.database)).filter((user) => user.email === person.email);
    expect(row).toMatchObject({ firstName: "Shutdown", lastName: "Survivor" });
  });
});

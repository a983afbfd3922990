// A sent page is let go: a six-second abort timer per page once kept every finished render alive (issue #11).
// The production server runs in this process, so that its heap can be weighed.
import { request } from "node:http";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { AddressInfo } from "node:net";
import { expect, it } from "vitest";
import { createAppServer } from "../../server/app";

// A full collection on demand (vitest's workers do not run with --expose-gc).
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;
const heapUsedMB = () => {
  collectGarbage();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

it("a rendered page is let go once it is sent, streamed to a browser or whole to a bot", async () => {
  const { server, closeTools } = await createAppServer("production", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const get = (path: string, userAgent: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const outgoing = request(
        { host: "127.0.0.1", port, path, agent: false, headers: { accept: "text/html", "user-agent": userAgent } },
        (response) => {
          let body = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => (body += chunk));
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      outgoing.on("error", reject);
      outgoing.end();
    });
  const browser = "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36";
  const bot = "Googlebot/2.1 (+http://www.google.com/bot.html)";
  try {
    const pages = async (count: number) => {
      for (let page = 0; page < count; page++) {
        const home = await get("/", browser);
        expect(home.status).toBe(200);
        expect(home.body).toContain("</html>");
        expect((await get("/", bot)).status).toBe(200);
      }
    };
    // First, what the modules set up on first use and the compiled code of a warm server.
    await pages(100);
    const before = heapUsedMB();
    await pages(150);
    // Closing waits for every connection to end, so each response's own cleanup has run.
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    // 300 pages kept for seconds after they were sent: 9 MB here; let go: a fraction of one.
    expect(heapUsedMB() - before).toBeLessThan(3);
  } finally {
    server.closeAllConnections();
    if (server.listening) server.close();
    await closeTools();
  }
});

/**
 * Loaded into the app server with `--import` by tests/integration/shutdown.test.ts: while a test
 * is connected to the Unix socket HOLD_TOKEN_REQUESTS_SOCKET, the app's calls to Kinde's token
 * endpoint wait until the test writes "release"; each held call writes "held" to the test.
 */
import { createServer } from "node:net";

const socketPath = process.env.HOLD_TOKEN_REQUESTS_SOCKET;
if (socketPath && /server\/index\.[jt]s$/.test(process.argv[1] ?? "")) {
  let control;
  let released = Promise.resolve();
  let release = () => {};
  const server = createServer((socket) => {
    control = socket;
    released = new Promise((resolve) => (release = resolve));
    socket.unref();
    socket.on("data", (data) => {
      if (data.toString().includes("release")) release();
    });
    socket.on("close", () => release());
  });
  server.listen(socketPath);
  server.unref();
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (control && !control.destroyed && new URL(url).pathname === "/oauth2/token") {
      control.write("held\n");
      await released;
    }
    return realFetch(input, init);
  };
}

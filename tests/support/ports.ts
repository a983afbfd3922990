// Ports a server must know before it starts (KINDE_SITE_URL names them): random, below the ephemeral
// range where port-0 servers land, checked free. Another process may still take one: see PortTaken.
import { createServer, type Server } from "node:net";

const RANGE = { from: 20_000, to: 30_000 };

export async function pickPorts(count: number): Promise<number[]> {
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const port = RANGE.from + Math.floor(Math.random() * (RANGE.to - RANGE.from));
      if (ports.includes(port)) continue;
      const server = createServer();
      const free = await new Promise<boolean>((resolve) => {
        server.once("error", () => resolve(false));
        server.listen(port, "127.0.0.1", () => resolve(true));
      });
      if (!free) continue;
      held.push(server);
      ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

export async function pickPort(): Promise<number> {
  const [port] = await pickPorts(1);
  return port!;
}

export class PortTaken extends Error {}

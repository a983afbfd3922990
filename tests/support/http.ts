import { Agent, request } from "node:http";
import { setCookiePair } from "~/lib/http/cookies.server";

/** The names of the cookies a response sets (with `expired`, only those it removes). */
export function setCookieNames(headers: Headers, options: { expired?: boolean } = {}): string[] {
  return headers
    .getSetCookie()
    .filter((header) => !options.expired || /;\s*(Max-Age=(0|-1)|Expires=Thu, 01 Jan 1970)/i.test(header))
    .flatMap((header) => setCookiePair(header)?.name ?? []);
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  reusedSocket: boolean;
}

export async function overOneConnection(baseUrl: string, requests: RawRequest[]): Promise<RawResponse[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const responses: RawResponse[] = [];
  try {
    for (const spec of requests) {
      responses.push(
        await new Promise<RawResponse>((resolve, reject) => {
          const req = request(new URL(spec.path, baseUrl), { method: spec.method, headers: spec.headers, agent });
          req.once("error", reject);
          req.once("response", (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (body += chunk));
            res.once("error", reject);
            res.once("end", () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body, reusedSocket: req.reusedSocket }),
            );
          });
          req.end(spec.body);
        }),
      );
    }
    return responses;
  } finally {
    agent.destroy();
  }
}

/**
 * The load generator, run by bench/run.ts as its own process so that generating load does not
 * share a CPU budget or an event loop with the app or with the orchestrator.
 *
 * Input: one LoadJob as JSON on stdin. Output: one LoadResult as a JSON line on stdout.
 * Progress and problems go to stderr. Every loop is bounded by a deadline and a count.
 */
import autocannon from "autocannon";
import { FlowBrowser, FlowError, signInFlow } from "../tests/support/sign-in.ts";
import type { HttpJob, LoadJob, LoadResult, SignInJob } from "./protocol";
import { Reservoir, round, summarize, type LatencySummary } from "./stats";

const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const MAX_ERROR_SAMPLES = 5;

class Failures {
  total = 0;
  readonly kinds: Record<string, number> = {};
  readonly samples: string[] = [];

  add(kind: string, message: string): void {
    this.total++;
    this.kinds[kind] = (this.kinds[kind] ?? 0) + 1;
    if (this.samples.length < MAX_ERROR_SAMPLES && !this.samples.includes(message)) this.samples.push(message);
  }
}

interface HttpRunOutcome {
  seconds: number;
  completed: number;
  successes: number;
  latencies: Reservoir;
  statusCounts: Record<string, number>;
  fromUs: number;
  toUs: number;
}

/** One autocannon run (warm-up or measured); failures go into `failures`. */
async function autocannonRun(job: HttpJob, seconds: number, failures: Failures): Promise<HttpRunOutcome> {
  const target = new URL(job.url);
  let next = 0;
  const latencies = new Reservoir();
  const statusCounts: Record<string, number> = {};
  let completed = 0;
  let successes = 0;
  let badLocations = 0;
  const instance = autocannon({
    url: target.origin,
    connections: job.connections,
    duration: seconds,
    timeout: job.timeout,
    requests: [
      {
        method: "GET",
        path: `${target.pathname}${target.search}`,
        headers: { accept: "text/html", ...(job.acceptEncoding ? { "accept-encoding": job.acceptEncoding } : {}) },
        ...(job.cookies.length > 0
          ? {
              // A different signed-in user for every request, round robin.
              setupRequest: (request) => {
                const cookie = job.cookies[next++ % job.cookies.length]!;
                return { ...request, headers: { ...request.headers, cookie } };
              },
            }
          : {}),
        ...(job.expectLocationPath !== undefined
          ? {
              onResponse: (status, _body, _context, headers) => {
                if (status !== job.expectStatus) return;
                const entry = Object.entries(headers).find(([name]) => name.toLowerCase() === "location");
                const raw = Array.isArray(entry?.[1]) ? entry[1][0] : entry?.[1];
                const path = raw ? new URL(raw, target).pathname : undefined;
                if (path !== job.expectLocationPath) {
                  badLocations++;
                  failures.add(
                    "bad location",
                    `${target.pathname} redirected to ${raw ?? "nothing"}, expected ${job.expectLocationPath}`,
                  );
                }
              },
            }
          : {}),
      },
    ],
  });
  const fromUs = nowUs();
  instance.on("response", (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    completed++;
    statusCounts[statusCode] = (statusCounts[statusCode] ?? 0) + 1;
    if (statusCode === job.expectStatus) {
      successes++;
      latencies.add(responseTime);
    } else {
      failures.add(`status ${statusCode}`, `${target.pathname} answered ${statusCode}, expected ${job.expectStatus}`);
    }
  });
  let requestErrors = 0;
  instance.on("reqError", (error: Error) => {
    requestErrors++;
    const kind = /timed out/i.test(error.message)
      ? "timeout"
      : `connection error${"code" in error && error.code ? ` ${String(error.code)}` : ""}`;
    failures.add(kind, `${target.pathname}: ${error.message}`);
  });
  const result = await instance;
  const toUs = nowUs();
  // Every connection error and timeout was counted through reqError; autocannon's own count is
  // the authority if the two ever disagree.
  if (result.errors > requestErrors) {
    for (let i = requestErrors; i < result.errors; i++) failures.add("connection error", "reported by autocannon only");
  }
  return {
    seconds: result.duration,
    completed,
    successes: successes - badLocations,
    latencies,
    statusCounts,
    fromUs,
    toUs,
  };
}

async function runHttp(job: HttpJob): Promise<LoadResult> {
  const failures = new Failures();
  let warmup = { seconds: 0, completed: 0, errors: 0 };
  if (job.warmup > 0) {
    const warm = await autocannonRun(job, job.warmup, failures);
    warmup = { seconds: warm.seconds, completed: warm.completed, errors: failures.total };
  }
  const cpuBefore = process.cpuUsage();
  const measured = await autocannonRun(job, job.duration, failures);
  const cpu = process.cpuUsage(cpuBefore);
  return {
    name: job.name,
    seconds: measured.seconds,
    completed: measured.completed,
    rps: round(measured.successes / measured.seconds),
    latency: roundSummary(summarize(measured.latencies.values)),
    errors: failures.total,
    errorKinds: failures.kinds,
    errorSamples: failures.samples,
    statusCounts: measured.statusCounts,
    warmup,
    measuredFromUs: measured.fromUs,
    measuredToUs: measured.toUs,
    loadCpuMs: round((cpu.user + cpu.system) / 1000),
  };
}

async function runSignIn(job: SignInJob): Promise<LoadResult> {
  const failures = new Failures();
  const started = performance.now();
  const measureFrom = started + job.warmup * 1000;
  const measureTo = measureFrom + job.duration * 1000;
  let measureFromUs = 0;
  const latencies = new Reservoir();
  const steps = new Map<string, Reservoir>();
  const appSide = new Reservoir();
  const statusCounts: Record<string, number> = {};
  let rounds = 0;
  let completed = 0;
  let successes = 0;
  let warmCompleted = 0;
  let warmErrors = 0;

  const worker = async () => {
    // A round starts only before the deadline and below the count cap; each hop has a timeout.
    while (rounds < job.maxRounds && performance.now() < measureTo) {
      const user = job.users[rounds % job.users.length]!;
      rounds++;
      const hops: Array<[string, number]> = [];
      const options = {
        appUrl: job.appUrl,
        timeout: job.timeout,
        acceptEncoding: job.acceptEncoding,
        onStep: (step: string, ms: number) => hops.push([step, ms]),
      };
      // A new browser every round: no provider session cookie, so the form is really posted.
      const browser = new FlowBrowser(options);
      const roundStart = performance.now();
      let failure: FlowError | Error | undefined;
      try {
        await signInFlow(browser, options, "login", user);
      } catch (error) {
        failure = error instanceof Error ? error : new Error(String(error));
      }
      const roundEnd = performance.now();
      const measuredRound = roundEnd >= measureFrom && roundEnd <= measureTo;
      if (failure) {
        const kind = failure instanceof FlowError ? `${failure.step}: ${failure.kind}` : "unexpected";
        failures.add(kind, failure.message);
        if (roundEnd < measureFrom) warmErrors++;
      }
      // Rounds that end before the window are warm-up; rounds still running at the deadline
      // are let finish (their errors count) but are not measured.
      if (!measuredRound) {
        if (roundEnd < measureFrom) warmCompleted++;
        continue;
      }
      completed++;
      const outcome = failure ? "failed" : "ok";
      statusCounts[outcome] = (statusCounts[outcome] ?? 0) + 1;
      if (failure) continue;
      successes++;
      latencies.add(roundEnd - roundStart);
      appSide.add(hops.filter(([step]) => step.startsWith("app-")).reduce((sum, [, ms]) => sum + ms, 0));
      for (const [step, ms] of hops) {
        let reservoir = steps.get(step);
        if (!reservoir) steps.set(step, (reservoir = new Reservoir()));
        reservoir.add(ms);
      }
    }
  };
  const timer = setTimeout(() => (measureFromUs = nowUs()), Math.max(0, measureFrom - performance.now()));
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  clearTimeout(timer);
  const ended = performance.now();
  const toUs = nowUs();
  if (measureFromUs === 0) measureFromUs = toUs;
  // The window ends at the deadline, or earlier if the round cap stopped the loop.
  const seconds = (Math.min(ended, measureTo) - measureFrom) / 1000;
  if (rounds >= job.maxRounds)
    process.stderr.write(`[load] ${job.name}: stopped at the cap of ${job.maxRounds} round trips\n`);
  return {
    name: job.name,
    seconds: round(seconds, 3),
    completed,
    rps: seconds > 0 ? round(successes / seconds) : 0,
    latency: roundSummary(summarize(latencies.values)),
    errors: failures.total,
    errorKinds: failures.kinds,
    errorSamples: failures.samples,
    statusCounts,
    warmup: { seconds: job.warmup, completed: warmCompleted, errors: warmErrors },
    steps: Object.fromEntries([...steps].map(([step, reservoir]) => [step, roundSummary(summarize(reservoir.values))])),
    appSide: roundSummary(summarize(appSide.values)),
    measuredFromUs: measureFromUs,
    measuredToUs: toUs,
  };
}

function roundSummary(summary: LatencySummary): LatencySummary {
  return {
    count: summary.count,
    min: round(summary.min, 3),
    mean: round(summary.mean, 3),
    p50: round(summary.p50, 3),
    p90: round(summary.p90, 3),
    p99: round(summary.p99, 3),
    max: round(summary.max, 3),
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function main() {
  const job = JSON.parse(await readStdin()) as LoadJob;
  const result = job.kind === "http" ? await runHttp(job) : await runSignIn(job);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  // autocannon and fetch may keep sockets alive for a while; the answer is written, so leave.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`[load] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

// The load generator: its own process, so that it shares no event loop with the app; every loop has a deadline and a cap.
import autocannon from "autocannon";
import { FlowBrowser, FlowError, signInFlow } from "./flow";
import { nowUs } from "./memory";
import type { HttpJob, LoadJob, LoadResult, SignInJob } from "./protocol";
import { increment, Reservoir, round, summarize } from "./stats";

const MAX_ERROR_SAMPLES = 5;

class Failures {
  total = 0;
  readonly kinds: Record<string, number> = {};
  readonly samples: string[] = [];

  add(kind: string, message: string): void {
    this.total++;
    increment(this.kinds, kind);
    if (this.samples.length < MAX_ERROR_SAMPLES && !this.samples.includes(message)) this.samples.push(message);
  }

  fields() {
    return { errors: this.total, errorKinds: this.kinds, errorSamples: this.samples };
  }
}

function locationPath(headers: Record<string, string | string[]>, base: URL): [string | undefined, string | undefined] {
  const entry = Object.entries(headers).find(([name]) => name.toLowerCase() === "location")?.[1];
  const raw = Array.isArray(entry) ? entry[0] : entry;
  return [raw, raw ? new URL(raw, base).pathname : undefined];
}

async function autocannonRun(job: HttpJob, seconds: number, failures: Failures) {
  const target = new URL(job.url);
  let next = 0;
  const latencies = new Reservoir();
  const statusCounts: Record<string, number> = {};
  let [completed, successes, badLocations, requestErrors] = [0, 0, 0, 0];
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
        // A different signed-in user for every request, round robin.
        ...(job.cookies.length > 0 && {
          setupRequest: (request) => ({
            ...request,
            headers: { ...request.headers, cookie: job.cookies[next++ % job.cookies.length]! },
          }),
        }),
        ...(job.expectLocationPath !== undefined && {
          onResponse: (status, _body, _context, headers) => {
            if (status !== job.expectStatus) return;
            const [raw, path] = locationPath(headers, target);
            if (path === job.expectLocationPath) return;
            badLocations++;
            failures.add(
              "bad location",
              `${target.pathname} redirected to ${raw ?? "nothing"}, expected ${job.expectLocationPath}`,
            );
          },
        }),
      },
    ],
  });
  const fromUs = nowUs();
  instance.on("response", (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    completed++;
    increment(statusCounts, statusCode);
    if (statusCode === job.expectStatus) {
      successes++;
      latencies.add(responseTime);
    } else {
      failures.add(`status ${statusCode}`, `${target.pathname} answered ${statusCode}, expected ${job.expectStatus}`);
    }
  });
  instance.on("reqError", (error: Error) => {
    requestErrors++;
    const code = "code" in error && error.code ? ` ${String(error.code)}` : "";
    failures.add(
      /timed out/i.test(error.message) ? "timeout" : `connection error${code}`,
      `${target.pathname}: ${error.message}`,
    );
  });
  const result = await instance;
  const toUs = nowUs();
  // autocannon's own error count is the authority if it ever exceeds what reqError reported.
  for (let i = requestErrors; i < result.errors; i++) failures.add("connection error", "reported by autocannon only");
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
    latency: summarize(measured.latencies.values),
    ...failures.fields(),
    statusCounts: measured.statusCounts,
    warmup,
    measuredFromUs: measured.fromUs,
    measuredToUs: measured.toUs,
    loadCpuMs: round((cpu.user + cpu.system) / 1000),
  };
}

async function runSignIn(job: SignInJob): Promise<LoadResult> {
  const failures = new Failures();
  const measureFrom = performance.now() + job.warmup * 1000;
  const measureTo = measureFrom + job.duration * 1000;
  let measureFromUs = 0;
  const latencies = new Reservoir();
  const steps = new Map<string, Reservoir>();
  const appSide = new Reservoir();
  const statusCounts: Record<string, number> = {};
  let [rounds, completed, successes, warmCompleted, warmErrors] = [0, 0, 0, 0, 0];

  const worker = async () => {
    while (rounds < job.maxRounds && performance.now() < measureTo) {
      const user = job.users[rounds++ % job.users.length]!;
      const hops: Array<[string, number]> = [];
      const options = { ...job, onStep: (step: string, ms: number) => hops.push([step, ms]) };
      const roundStart = performance.now();
      let failure: Error | undefined;
      try {
        // A new browser every round: no provider session cookie, so the form is really posted.
        await signInFlow(new FlowBrowser(options), options, "login", user);
      } catch (error) {
        failure = error instanceof Error ? error : new Error(String(error));
        failures.add(failure instanceof FlowError ? `${failure.step}: ${failure.kind}` : "unexpected", failure.message);
      }
      const roundEnd = performance.now();
      // Earlier rounds are warm-up; rounds still running at the deadline count their errors only.
      if (roundEnd < measureFrom) {
        warmCompleted++;
        if (failure) warmErrors++;
      }
      if (roundEnd < measureFrom || roundEnd > measureTo) continue;
      completed++;
      increment(statusCounts, failure ? "failed" : "ok");
      if (failure) continue;
      successes++;
      latencies.add(roundEnd - roundStart);
      appSide.add(hops.filter(([step]) => step.startsWith("app-")).reduce((sum, [, ms]) => sum + ms, 0));
      for (const [step, ms] of hops) {
        if (!steps.has(step)) steps.set(step, new Reservoir());
        steps.get(step)!.add(ms);
      }
    }
  };
  const timer = setTimeout(() => (measureFromUs = nowUs()), Math.max(0, measureFrom - performance.now()));
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  clearTimeout(timer);
  const ended = performance.now();
  const toUs = nowUs();
  // The window ends at the deadline, or earlier if the round cap stopped the loop.
  const seconds = (Math.min(ended, measureTo) - measureFrom) / 1000;
  if (rounds >= job.maxRounds)
    process.stderr.write(`[load] ${job.name}: stopped at the cap of ${job.maxRounds} round trips\n`);
  return {
    name: job.name,
    seconds: round(seconds, 3),
    completed,
    rps: seconds > 0 ? round(successes / seconds) : 0,
    latency: summarize(latencies.values),
    ...failures.fields(),
    statusCounts,
    warmup: { seconds: job.warmup, completed: warmCompleted, errors: warmErrors },
    steps: Object.fromEntries([...steps].map(([step, reservoir]) => [step, summarize(reservoir.values)])),
    appSide: summarize(appSide.values),
    measuredFromUs: measureFromUs || toUs,
    measuredToUs: toUs,
  };
}

async function main() {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const job = JSON.parse(Buffer.concat(chunks).toString("utf8")) as LoadJob;
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

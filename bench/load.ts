// The load generator: its own process, so that it shares no event loop with the app; every loop has a deadline and a cap.
import autocannon from "autocannon";
import { FlowBrowser, FlowError, redirectTo, signInFlow } from "../tests/support/sign-in.ts";
import { nowUs } from "./memory";
import {
  SOAK_KINDS,
  type HttpJob,
  type LoadJob,
  type LoadResult,
  type SignInJob,
  type SoakJob,
  type SoakKind,
  type SoakLoadResult,
} from "./protocol";
import { increment, Reservoir, round, summarize } from "./stats";

const MAX_ERROR_SAMPLES = 5;
const log = (line: string) => process.stderr.write(`[load] ${line}\n`);

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

/** A warm-up, then the measured window, on both clocks; it ends at the deadline or earlier, at a count cap. */
function measuringWindow(job: { warmup: number; duration: number }) {
  const from = performance.now() + job.warmup * 1000;
  const to = from + job.duration * 1000;
  let fromUs = 0;
  const timer = setTimeout(() => (fromUs = nowUs()), Math.max(0, from - performance.now()));
  return {
    open: () => performance.now() < to,
    isWarmup: (moment: number) => moment < from,
    isMeasured: (moment: number) => moment >= from && moment <= to,
    close() {
      clearTimeout(timer);
      const toUs = nowUs();
      return { fromUs: fromUs || toUs, toUs, seconds: round((Math.min(performance.now(), to) - from) / 1000, 3) };
    },
  };
}

const failureKind = (error: unknown) => (error instanceof FlowError ? `${error.step}: ${error.kind}` : "unexpected");
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function runSignIn(job: SignInJob): Promise<LoadResult> {
  const failures = new Failures();
  const window = measuringWindow(job);
  const latencies = new Reservoir();
  const steps = new Map<string, Reservoir>();
  const appSide = new Reservoir();
  const statusCounts: Record<string, number> = {};
  let [rounds, completed, successes, warmCompleted, warmErrors] = [0, 0, 0, 0, 0];

  const worker = async () => {
    while (rounds < job.maxRounds && window.open()) {
      const user = job.users[rounds++ % job.users.length]!;
      const hops: Array<[string, number]> = [];
      const options = { ...job, onStep: (step: string, ms: number) => hops.push([step, ms]) };
      const roundStart = performance.now();
      let failed = false;
      try {
        // A new browser every round: no provider session cookie, so the form is really posted.
        await signInFlow(new FlowBrowser(options), options, "login", user);
      } catch (error) {
        failed = true;
        failures.add(failureKind(error), messageOf(error));
      }
      const roundEnd = performance.now();
      // Rounds still running at the deadline count their errors only.
      if (window.isWarmup(roundEnd)) {
        warmCompleted++;
        if (failed) warmErrors++;
      }
      if (!window.isMeasured(roundEnd)) continue;
      completed++;
      increment(statusCounts, failed ? "failed" : "ok");
      if (failed) continue;
      successes++;
      latencies.add(roundEnd - roundStart);
      appSide.add(hops.filter(([step]) => step.startsWith("app-")).reduce((sum, [, ms]) => sum + ms, 0));
      for (const [step, ms] of hops) {
        if (!steps.has(step)) steps.set(step, new Reservoir());
        steps.get(step)!.add(ms);
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  const { fromUs, toUs, seconds } = window.close();
  if (rounds >= job.maxRounds) log(`${job.name}: stopped at the cap of ${job.maxRounds} round trips`);
  return {
    name: job.name,
    seconds,
    completed,
    rps: seconds > 0 ? round(successes / seconds) : 0,
    latency: summarize(latencies.values),
    ...failures.fields(),
    statusCounts,
    warmup: { seconds: job.warmup, completed: warmCompleted, errors: warmErrors },
    steps: Object.fromEntries([...steps].map(([step, reservoir]) => [step, summarize(reservoir.values)])),
    appSide: summarize(appSide.values),
    measuredFromUs: fromUs,
    measuredToUs: toUs,
  };
}

// Each worker's turns go through its people, each person through this mix (offset by person).
const SOAK_MIX = "dashboard public profile-post sign-in dashboard public dashboard profile-post public dashboard".split(
  " ",
) as SoakKind[];

type Hop = Awaited<ReturnType<FlowBrowser["hop"]>>;
interface SoakPerson {
  user: SoakJob["users"][number];
  readonly browser: FlowBrowser;
  turns: number;
  dashboard?: Hop;
}

/** Mixed load; a signed-in turn whose access token has expired is a "refresh": it must come back with a new one. */
async function runSoak(job: SoakJob): Promise<SoakLoadResult> {
  const failures = new Failures();
  const window = measuringWindow(job);
  const app = new URL(job.appUrl);
  const options = { appUrl: job.appUrl, timeout: job.timeout, acceptEncoding: job.acceptEncoding };
  const stats = Object.fromEntries(
    SOAK_KINDS.map((kind) => [kind, { count: 0, ok: 0, errors: 0, latencies: new Reservoir() }]),
  ) as Record<SoakKind, { count: number; ok: number; errors: number; latencies: Reservoir }>;
  const people: SoakPerson[] = [];
  for (const user of job.users) {
    const browser = new FlowBrowser(options);
    for (const [name, value] of user.cookie.split("; ").map((pair) => pair.split(/=(.*)/s))) {
      await browser.browser.setCookie(app.href, name!, value ?? "");
    }
    people.push({ user, browser, turns: people.length });
  }
  let [actions, signIns] = [0, 0];
  const accessToken = (person: SoakPerson) => person.browser.browser.cookie(app.href, "access_token");
  const expired = async (person: SoakPerson) => {
    const payload = (await accessToken(person))?.split(".")[1];
    const exp: unknown = payload && JSON.parse(Buffer.from(payload, "base64url").toString("utf8")).exp;
    return typeof exp === "number" && exp * 1000 <= Date.now();
  };
  const dashboard = async (kind: SoakKind, person: SoakPerson) => {
    person.dashboard = await person.browser.hop(kind, new URL("/dashboard", app), { status: 200 });
    if (!person.dashboard.body.includes(person.user.email)) {
      throw new FlowError(kind, "wrong page", `the dashboard does not show ${person.user.email}`);
    }
    return person.dashboard;
  };
  const act = async (kind: SoakKind, person: SoakPerson, visitor: FlowBrowser) => {
    if (kind === "public") {
      await visitor.hop(kind, new URL("/", app), { status: 200 });
    } else if (kind === "sign-in") {
      // In a browser of its own: the person's session keeps ageing towards its refresh.
      await signInFlow(new FlowBrowser(options), options, "login", person.user);
    } else if (kind === "profile-post") {
      // The dashboard's own form, hidden fields and submit button included.
      const fields = { firstName: "Soak", lastName: `Turn ${person.turns}`, intent: "update-profile" };
      const page = person.dashboard ?? (await dashboard(kind, person));
      await person.browser.submit(kind, page, fields, redirectTo("/dashboard"));
    } else {
      const before = await accessToken(person);
      await dashboard(kind, person);
      if (kind === "refresh" && (await accessToken(person)) === before) {
        throw new FlowError(kind, "no new access token", "the app did not replace the expired token");
      }
    }
  };
  const worker = async (index: number) => {
    const mine = people.filter((_, at) => at % job.concurrency === index);
    const visitor = new FlowBrowser(options);
    for (let turn = 0; window.open() && actions < job.maxActions; turn++, actions++) {
      const person = mine[turn % mine.length]!;
      let kind = SOAK_MIX[person.turns++ % SOAK_MIX.length]!;
      const started = performance.now();
      let failed = false;
      try {
        if (await expired(person)) kind = "refresh";
        else if (kind === "sign-in" && signIns++ >= job.maxSignIns) kind = "dashboard";
        await act(kind, person, visitor);
      } catch (error) {
        failed = true;
        stats[kind].errors++;
        failures.add(failureKind(error), messageOf(error));
      }
      const ended = performance.now();
      if (!window.isMeasured(ended)) continue;
      stats[kind].count++;
      if (failed) continue;
      stats[kind].ok++;
      stats[kind].latencies.add(ended - started);
    }
  };
  await Promise.all(Array.from({ length: Math.min(job.concurrency, people.length) }, (_, index) => worker(index)));
  const { fromUs, toUs, seconds } = window.close();
  if (actions >= job.maxActions) log(`${job.name}: stopped at the cap of ${job.maxActions} requests`);
  const kinds = Object.fromEntries(
    SOAK_KINDS.map((kind) => {
      const { count, ok, errors, latencies } = stats[kind];
      return [
        kind,
        { count, errors, rps: seconds > 0 ? round(ok / seconds) : 0, latency: summarize(latencies.values) },
      ];
    }),
  ) as SoakLoadResult["kinds"];
  return { name: job.name, seconds, actions, kinds, ...failures.fields(), measuredFromUs: fromUs, measuredToUs: toUs };
}

async function main() {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const job = JSON.parse(Buffer.concat(chunks).toString("utf8")) as LoadJob;
  const result =
    job.kind === "http" ? await runHttp(job) : job.kind === "sign-in" ? await runSignIn(job) : await runSoak(job);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  // autocannon and fetch may keep sockets alive for a while; the answer is written, so leave.
  () => process.exit(0),
  (error: unknown) => {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);

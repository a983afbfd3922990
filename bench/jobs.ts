/** What the modes share: the log, signing users up, each phase's job, and running a job in the load process (bench/load.ts). */
import { execFile, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { baseEnv, ROOT } from "../tests/support/app-process.ts";
import type { BenchConfig, PhaseName } from "./config";
import { FlowBrowser, redirectTo, signInFlow } from "../tests/support/sign-in.ts";
import type { BenchUser, LoadJob, LoadResult } from "./protocol";
import { round } from "./stats";

export const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

const SIGN_UP_CONCURRENCY = 4;
const PASSWORD = "correct horse battery staple";

export type { BenchUser };

export async function signUpUsers(appUrl: string, config: BenchConfig): Promise<BenchUser[]> {
  const runId = Date.now().toString(36);
  const users: BenchUser[] = new Array(config.users);
  let next = 0;
  const options = { appUrl, timeout: config.timeout, acceptEncoding: config.acceptEncoding };
  const signUp = async (index: number) => {
    const person = {
      email: `bench-${runId}-${index + 1}@example.com`,
      password: PASSWORD,
      firstName: "Bench",
      lastName: `User ${index + 1}`,
    };
    const cookie = await signInFlow(new FlowBrowser(options), options, "register", person);
    if (!/(?:^|; )access_token=/.test(cookie))
      throw new Error(`signing up ${person.email} left no access_token cookie (${cookie.slice(0, 80)})`);
    users[index] = { email: person.email, password: person.password, cookie };
  };
  const worker = async () => {
    while (next < config.users) await signUp(next++);
  };
  await Promise.all(Array.from({ length: Math.min(SIGN_UP_CONCURRENCY, config.users) }, worker));
  return users;
}

export const SEEDED_PROJECTS = 20;

/** The projects phase's tenant: a person signs up creating an organization (Kinde makes them its admin), then adds
 * SEEDED_PROJECTS projects with the page's own form, as a browser without JavaScript does. */
export async function signUpOrganization(appUrl: string, config: BenchConfig) {
  const runId = Date.now().toString(36);
  const options = { appUrl, timeout: config.timeout, acceptEncoding: config.acceptEncoding };
  const person = {
    email: `bench-${runId}-admin@example.com`,
    password: PASSWORD,
    firstName: "Bench",
    lastName: "Admin",
  };
  const organization = `Bench Org ${runId}`;
  const browser = new FlowBrowser(options);
  await signInFlow(browser, options, "register", person, { is_create_org: "true", org_name: organization });
  const projectsUrl = new URL("/projects", appUrl);
  let page = await browser.hop("projects", projectsUrl, { status: 200 });
  for (let number = 1; number <= SEEDED_PROJECTS; number++) {
    await browser.submit("add-project", page, { name: `Project ${number}`, intent: "create" }, redirectTo("/projects"));
    // Following the redirect shows (and so clears) the flash message, as a browser would.
    page = await browser.hop("projects", projectsUrl, { status: 200 });
  }
  const listed = page.body.match(/href="\/projects\/\d+"/g)?.length ?? 0;
  if (listed !== SEEDED_PROJECTS)
    throw new Error(`${organization} lists ${listed} projects, expected ${SEEDED_PROJECTS}`);
  const admin: BenchUser = {
    email: person.email,
    password: PASSWORD,
    cookie: await browser.browser.cookieHeader(appUrl),
  };
  return { organization, admin };
}

/** Whose cookies an HTTP phase's requests carry: nobody's, the bench users' in turn, or the organization admin's. */
type SignedIn = "nobody" | "users" | "org-admin";

const http = (target: string, path: string, as: SignedIn, expectStatus: number, expectLocationPath?: string) => ({
  target,
  unit: "requests",
  http: { path, as, expectStatus, expectLocationPath },
});

/** Each phase: what the table calls it, what its rps counts, and (HTTP phases) its request and success rule. */
export const PHASES: Record<PhaseName, { target: string; unit: string; http?: ReturnType<typeof http>["http"] }> = {
  landing: http("GET /", "/", "nobody", 200),
  dashboard: http("GET /dashboard", "/dashboard", "users", 200),
  projects: http(`GET /projects (${SEEDED_PROJECTS} projects)`, "/projects", "org-admin", 200),
  "auth-success": http("GET /auth/success (302)", "/auth/success", "users", 302, "/dashboard"),
  "sign-in": { target: "sign-in round trip (6 hops)", unit: "round trips" },
};

export function jobFor(
  phase: PhaseName,
  config: BenchConfig,
  appUrl: string,
  users: BenchUser[],
  orgAdmin?: BenchUser,
): LoadJob {
  const { duration, warmup, timeout, acceptEncoding } = config;
  const common = { name: phase, duration, warmup, timeout, acceptEncoding };
  const request = PHASES[phase].http;
  if (!request) {
    return {
      ...common,
      kind: "sign-in",
      appUrl,
      users: users.map(({ email, password }) => ({ email, password })),
      concurrency: config.signInConcurrency,
      maxRounds: config.signInMaxRounds,
    };
  }
  const { path, as, ...expect } = request;
  const signedIn = { nobody: [], users, "org-admin": orgAdmin ? [orgAdmin] : [] }[as];
  if (as !== "nobody" && signedIn.length === 0) throw new Error(`the ${phase} phase needs ${as} signed up first`);
  const cookies = signedIn.map((user) => user.cookie);
  return { ...common, kind: "http", url: `${appUrl}${path}`, connections: config.connections, cookies, ...expect };
}

const children = new Set<ChildProcess>();
export const killLoadProcesses = () => children.forEach((child) => child.kill("SIGKILL"));

type Outcome = { stdout?: string; stderr?: string; code?: number | string; signal?: string | null; killed?: boolean };

export async function runLoad<Result = LoadResult>(job: LoadJob): Promise<Result> {
  const limitMs = (job.warmup + job.duration + job.timeout * 2 + 60) * 1000;
  const running = promisify(execFile)(process.execPath, ["--import", "tsx", join(ROOT, "bench/load.ts")], {
    cwd: ROOT,
    env: baseEnv(),
    encoding: "utf8",
    maxBuffer: 256 * 2 ** 20,
    timeout: limitMs,
    killSignal: "SIGKILL",
  });
  children.add(running.child);
  running.child.stderr?.on("data", (chunk: Buffer | string) => process.stderr.write(chunk));
  running.child.stdin?.end(JSON.stringify(job));
  const outcome: Outcome = await running.then(
    (output) => ({ ...output, code: 0 }),
    (error: Outcome) => error,
  );
  children.delete(running.child);
  const line = outcome.stdout?.trim().split("\n").pop() ?? "";
  if (outcome.code === 0 && line.startsWith("{")) return JSON.parse(line) as Result;
  if (outcome.killed) log(`load process for ${job.name} ran over ${limitMs / 1000}s; it was killed`);
  const how = outcome.signal ?? `exit ${outcome.code}`;
  throw new Error(`load process for ${job.name} failed (${how}):\n${(outcome.stderr ?? "").slice(-4000)}`);
}

export const perRequest = (amount: number | null | undefined, requests: number, decimals = 2) =>
  amount === null || amount === undefined || requests <= 0 ? null : round(amount / requests, decimals);

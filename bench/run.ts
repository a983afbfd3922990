/**
 * `npm run bench`: builds the app, starts it exactly as `npm start` does (package.json's `start`
 * command, which also starts the local Kinde server) with a throwaway database, signs up a set
 * of users through the real Kinde pages, then drives load from a separate process
 * (bench/load.ts) against four phases:
 *
 *   landing       GET /              public page, the baseline (no auth, no database)
 *   dashboard     GET /dashboard     signed-in users, round robin (token checks, one row, render)
 *   auth-success  GET /auth/success  signed-in users (the upsert), a 302 to /dashboard is success
 *   sign-in       the whole sign-in round trip, from /kinde-auth/login to the rendered dashboard
 *
 * Prints a table and PASS/FAIL lines for the targets, writes bench/results/<timestamp>.json and
 * bench/results/latest.json, and exits non-zero when any phase had errors (not on targets).
 * Options are environment variables: see bench/README.md.
 */
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, relative, resolve } from "node:path";
import { baseEnv, ROOT, scriptArgs, withNodeFlags } from "../tests/support/app-process.ts";
import { startStack, type Stack } from "../tests/support/stack.ts";
import { readConfig, type BenchConfig, type PhaseName } from "./config";
import { runDatabases } from "./databases";
import { FlowBrowser, signInFlow, type Person } from "../tests/support/sign-in.ts";
import { compileProbe, GcSamples } from "./gc-samples";
import { formatHeapProfileSummary, summarizeHeapProfile } from "./heap-profile";
import { MemorySampler, processTree, readTreeMemory, type ProcessInfo } from "./memory";
import type { LoadJob, LoadResult } from "./protocol";
import {
  evaluateTargets,
  formatSteps,
  formatTable,
  formatTargets,
  type BenchResults,
  type PhaseResult,
} from "./report";

const LOAD_SCRIPT = join(ROOT, "bench/load.ts");
const SIGN_UP_CONCURRENCY = 4;
const PASSWORD = "correct horse battery staple";

interface BenchUser {
  email: string;
  password: string;
  cookie: string;
}

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** Sign up `count` users through the app and the local Kinde pages; keep each one's cookies. */
async function signUpUsers(appUrl: string, config: BenchConfig): Promise<BenchUser[]> {
  const runId = Date.now().toString(36);
  const users: BenchUser[] = new Array(config.users);
  let next = 0;
  const signUp = async (index: number) => {
    const person: Person = {
      email: `bench-${runId}-${index + 1}@example.com`,
      password: PASSWORD,
      firstName: "Bench",
      lastName: `User ${index + 1}`,
    };
    const options = { appUrl, timeout: config.timeout, acceptEncoding: config.acceptEncoding };
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

function jobFor(phase: PhaseName, config: BenchConfig, appUrl: string, users: BenchUser[]): LoadJob {
  const common = {
    name: phase,
    duration: config.duration,
    warmup: config.warmup,
    timeout: config.timeout,
    acceptEncoding: config.acceptEncoding,
  };
  const cookies = users.map((user) => user.cookie);
  switch (phase) {
    case "landing":
      return {
        ...common,
        kind: "http",
        url: `${appUrl}/`,
        connections: config.connections,
        cookies: [],
        expectStatus: 200,
      };
    case "dashboard":
      return {
        ...common,
        kind: "http",
        url: `${appUrl}/dashboard`,
        connections: config.connections,
        cookies,
        expectStatus: 200,
      };
    case "auth-success":
      return {
        ...common,
        kind: "http",
        url: `${appUrl}/auth/success`,
        connections: config.connections,
        cookies,
        expectStatus: 302,
        expectLocationPath: "/dashboard",
      };
    case "sign-in":
      return {
        ...common,
        kind: "sign-in",
        appUrl,
        users: users.map(({ email, password }) => ({ email, password })),
        concurrency: config.signInConcurrency,
        maxRounds: config.signInMaxRounds,
      };
  }
}

const TARGET_LABELS: Record<PhaseName, { target: string; unit: string }> = {
  landing: { target: "GET /", unit: "requests" },
  dashboard: { target: "GET /dashboard", unit: "requests" },
  "auth-success": { target: "GET /auth/success (302)", unit: "requests" },
  "sign-in": { target: "sign-in round trip (6 hops)", unit: "round trips" },
};

const children = new Set<ReturnType<typeof spawn>>();

/** Runs one job in its own process (node + tsx), bounded by a kill timer. */
function runLoad(job: LoadJob): Promise<LoadResult> {
  const limitMs = (job.warmup + job.duration + job.timeout * 2 + 60) * 1000;
  return new Promise((resolveLoad, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", LOAD_SCRIPT], {
      cwd: ROOT,
      env: baseEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      process.stderr.write(chunk);
    });
    const timer = setTimeout(() => {
      log(`load process for ${job.name} ran over ${limitMs / 1000}s; killing it`);
      child.kill("SIGKILL");
    }, limitMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      children.delete(child);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      const line = stdout.trim().split("\n").pop() ?? "";
      if (code === 0 && line.startsWith("{")) {
        resolveLoad(JSON.parse(line) as LoadResult);
      } else {
        reject(new Error(`load process for ${job.name} failed (${signal ?? `exit ${code}`}):\n${stderr.slice(-4000)}`));
      }
    });
    child.stdin.end(JSON.stringify(job));
  });
}

/** The commit, and how many paths differ from it (read-only: no index refresh, no locks). */
function gitState(): { commit: string | null; changedPaths: number | null } {
  const git = (args: string[]) =>
    spawnSync("git", ["--no-optional-locks", ...args], { cwd: ROOT, encoding: "utf8", timeout: 5_000 });
  const head = git(["rev-parse", "--short", "HEAD"]);
  const status = git(["status", "--porcelain"]);
  return {
    commit: head.status === 0 ? head.stdout.trim() : null,
    changedPaths: status.status === 0 ? status.stdout.split("\n").filter(Boolean).length : null,
  };
}

const SERVER_FILES = ["build/server/index.js", "build/node/server/index.js"];

/** `npm run build`: the app (remix vite:build) and the compiled server. */
function buildApp(): number {
  const started = performance.now();
  const result = spawnSync("npm", ["run", "build"], {
    cwd: ROOT,
    env: baseEnv({ NODE_ENV: "production" }),
    encoding: "utf8",
    timeout: 300_000,
  });
  if (result.status !== 0) {
    throw new Error(
      `npm run build failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stdout}${result.stderr}`,
    );
  }
  return (performance.now() - started) / 1000;
}

const isLocalKinde = (entry: ProcessInfo) => entry.command.includes("kinde-local/main.ts");
const describeProcesses = (processes: ProcessInfo[]) =>
  processes.map(({ pid, command }) => `pid ${pid} (${command})`).join(", ") || "none";

async function main(): Promise<number> {
  const config = readConfig(process.env);
  const startedAt = new Date();
  const loadAtStart = loadavg();
  const what =
    config.databases.length > 0
      ? `databases mode: ${config.databases.join(", ")}, phases dashboard, auth-success`
      : `phases ${config.phases.join(", ")}`;
  log(
    `${what}; ${config.duration}s each after ${config.warmup}s warm-up; ` +
      `${config.connections} connections, sign-in concurrency ${config.signInConcurrency}; ${config.users} users` +
      `${config.quick ? "; quick mode" : ""}${config.profile ? "; CPU profile on" : ""}`,
  );

  let buildSeconds: number | null = null;
  if (config.skipBuild && SERVER_FILES.every((file) => existsSync(join(ROOT, file)))) {
    log("reusing the existing build (BENCH_SKIP_BUILD)");
  } else {
    log("building the app (npm run build)...");
    buildSeconds = buildApp();
    log(`built in ${buildSeconds.toFixed(1)}s`);
  }

  if (config.databases.length > 0) return runDatabases(config, { log, runLoad, jobFor, signUpUsers });

  const profileDir = config.profile ? mkdtempSync(join(tmpdir(), "rkp-bench-profile-")) : undefined;
  const nodeFlags = [
    ...config.appNodeArgs,
    ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, "--cpu-prof-name=app.cpuprofile"] : []),
  ];
  const command = `node ${withNodeFlags(scriptArgs("production"), nodeFlags).join(" ")}`;
  // The allocation and GC figures come from a probe preloaded into the app (bench/gc-probe.ts).
  const probeDir = mkdtempSync(join(tmpdir(), "rkp-bench-probe-"));
  const probeFlags = await compileProbe(probeDir);
  const gcSamples = new GcSamples(join(probeDir, "gc-samples.txt"));
  const heapProfileFile = join(probeDir, "app.heapprofile");
  let stack: Stack | undefined;
  const cleanup = async () => {
    for (const child of children) child.kill("SIGKILL");
    if (stack) await stack.stop().catch(() => {});
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    rmSync(probeDir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    // As `npm start`: the app starts the local Kinde server itself. Long-lived tokens: the
    // benchmark measures signed-in requests, not token refreshes.
    stack = await startStack({
      kinde: "child",
      ttl: { access: 86_400, id: 86_400, refresh: 1_296_000 },
      nodeFlags: [...probeFlags, ...nodeFlags],
      env: {
        BENCH_GC_SAMPLES_FILE: gcSamples.file,
        ...(config.heapProfile ? { BENCH_HEAP_PROFILE_FILE: heapProfileFile } : {}),
      },
      output: { limit: 64 * 1024 },
    });
    const { app } = stack;
    // Start-up as a person sees it: from the command to the first page it answers. Migrations and
    // the local Kinde server's start (the server waits for both before it listens) included.
    const firstAnswer = await fetch(`${app.url}/`, { headers: { accept: "text/html" } });
    await firstAnswer.text();
    const startup = {
      listeningMs: Math.round(app.listeningAt - app.spawnedAt),
      firstAnswerMs: Math.round(performance.now() - app.spawnedAt),
    };
    if (firstAnswer.status !== 200) throw new Error(`the first GET / answered ${firstAnswer.status}, expected 200`);
    log(`first answer ${startup.firstAnswerMs} ms after start (listening after ${startup.listeningMs} ms)`);
    const tree = processTree(app.pid);
    // The local Kinde server and what it runs (tsx's esbuild service) are not the app's.
    const notCounted = tree.filter(isLocalKinde).flatMap((entry) => processTree(entry.pid));
    let measured = tree.filter((entry) => !notCounted.some((other) => other.pid === entry.pid));
    if (measured.length === 0) measured = [{ pid: app.pid, command }];
    log(`app ${app.url} (${command}), local Kinde ${stack.issuerUrl}, database ${stack.databaseFile}`);
    log(`memory and CPU figures: ${describeProcesses(measured)}; not counted: ${describeProcesses(notCounted)}`);

    const signUpStarted = performance.now();
    const users = await signUpUsers(app.url, config);
    const signUpSeconds = (performance.now() - signUpStarted) / 1000;
    log(`signed up ${users.length} users in ${signUpSeconds.toFixed(1)}s`);
    const idle = readTreeMemory(measured.map((entry) => entry.pid));
    const idleRssMB = idle ? Math.round(idle.rssMB * 10) / 10 : null;
    if (idleRssMB !== null) log(`app RSS before the phases: ${idleRssMB} MB`);

    const phases: PhaseResult[] = [];
    for (const phase of config.phases) {
      log(`phase ${phase}: ${TARGET_LABELS[phase].target}...`);
      const sampler = new MemorySampler(
        measured.map((entry) => entry.pid),
        100,
      );
      let result: LoadResult;
      try {
        result = await runLoad(jobFor(phase, config, app.url, users));
      } catch (error) {
        sampler.stop();
        throw error;
      }
      const memory = sampler.stop();
      const cpuMs = sampler.cpuMsBetween(result.measuredFromUs, result.measuredToUs);
      const gc = await gcSamples.between(result.measuredFromUs, result.measuredToUs);
      const windowMs = (result.measuredToUs - result.measuredFromUs) / 1000;
      if (app.child.exitCode !== null || app.child.signalCode !== null) {
        throw new Error(`the app exited during phase ${phase}:\n${app.output.text().slice(-4000)}`);
      }
      const measuredPhase: PhaseResult = {
        name: phase,
        ...TARGET_LABELS[phase],
        rps: result.rps,
        ratioToBaseline: null,
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        latencyMs: result.latency,
        errors: result.errors,
        errorKinds: result.errorKinds,
        errorSamples: result.errorSamples,
        completed: result.completed,
        seconds: result.seconds,
        statusCounts: result.statusCounts,
        warmup: result.warmup,
        peakRssMB: memory.peakRssMB === null ? null : Math.round(memory.peakRssMB * 10) / 10,
        vmHwmMB: memory.hwmMB === null ? null : Math.round(memory.hwmMB * 10) / 10,
        rssTimelineMB: memory.timelineMB,
        cpuMsPerRequest:
          cpuMs !== null && result.completed > 0 ? Math.round((cpuMs / result.completed) * 100) / 100 : null,
        cpuUtilization:
          cpuMs !== null
            ? Math.round((cpuMs / 1000 / ((result.measuredToUs - result.measuredFromUs) / 1e6)) * 100) / 100
            : null,
        allocatedKBPerRequest:
          gc && result.completed > 0 ? Math.round((gc.allocatedBytes / 1024 / result.completed) * 10) / 10 : null,
        gcShare: gc && windowMs > 0 ? Math.round((gc.gcPauseMs / windowMs) * 10_000) / 10_000 : null,
        gcCollections: gc?.collections ?? null,
        gcLongestPauseMs: gc ? Math.round(gc.longestPauseMs * 10) / 10 : null,
        ...(result.steps ? { steps: result.steps } : {}),
        ...(result.appSide ? { appSideMs: result.appSide } : {}),
        window: { fromUs: result.measuredFromUs, toUs: result.measuredToUs },
      };
      phases.push(measuredPhase);
      const ms = (value: number | null) =>
        typeof value === "number" && Number.isFinite(value) ? `${value.toFixed(2)} ms` : "n/a";
      log(
        `phase ${phase}: ${result.rps.toFixed(1)} ${TARGET_LABELS[phase].unit}/s, p50 ${ms(result.latency.p50)}, ` +
          `p99 ${ms(result.latency.p99)}, ${result.errors} errors` +
          (measuredPhase.allocatedKBPerRequest !== null && measuredPhase.gcShare !== null
            ? `, ${measuredPhase.allocatedKBPerRequest.toFixed(1)} KB allocated per ${TARGET_LABELS[phase].unit.replace(/s$/, "")}` +
              `, GC ${(measuredPhase.gcShare * 100).toFixed(1)}% of the time (longest pause ${measuredPhase.gcLongestPauseMs} ms)`
            : ""),
      );
      for (const sample of result.errorSamples) log(`  error: ${sample}`);
    }
    const landing = phases.find((phase) => phase.name === "landing");
    for (const phase of phases) {
      phase.ratioToBaseline = landing && landing.rps > 0 ? Math.round((phase.rps / landing.rps) * 1000) / 1000 : null;
    }

    const appPid = app.pid;
    const appUrl = app.url;
    // Stopping the app is what writes its CPU profile.
    await stack.stop();
    stack = undefined;

    const targets = evaluateTargets(phases);
    const ok = phases.every((phase) => phase.errors === 0);
    const cpu = cpus();
    const results: BenchResults = {
      version: 1,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      ok,
      config,
      environment: {
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
        cpus: cpu.length,
        cpuModel: cpu[0]?.model ?? "unknown",
        totalMemoryMB: Math.round(totalmem() / 2 ** 20),
        ...gitState(),
        profiled: config.profile,
        // 1, 5 and 15 minute load averages: other work on the machine skews every number.
        loadAverage: {
          atStart: loadAtStart.map((value) => Math.round(value * 100) / 100),
          atEnd: loadavg().map((value) => Math.round(value * 100) / 100),
        },
      },
      setup: {
        buildSeconds: buildSeconds === null ? null : Math.round(buildSeconds * 10) / 10,
        users: users.length,
        signUpSeconds: Math.round(signUpSeconds * 10) / 10,
        idleRssMB,
        startup,
      },
      app: {
        server: command,
        preload: `${probeFlags.join(" ")} (bench/gc-probe.ts: allocation and GC figures; the bench only)`,
        url: appUrl,
        pid: appPid,
        processes: measured,
        notCounted,
      },
      phases,
      targets,
    };

    const resultsDir = resolve(ROOT, config.resultsDir);
    mkdirSync(resultsDir, { recursive: true });
    const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
    if (profileDir) {
      const file = join(profileDir, "app.cpuprofile");
      if (existsSync(file)) {
        const kept = join(resultsDir, `${stamp}-app.cpuprofile`);
        copyFileSync(file, kept);
        results.profile = { file: relative(ROOT, kept) };
      } else {
        log("no CPU profile was written (the app did not exit cleanly)");
      }
    }
    let heapSummary: string | undefined;
    if (config.heapProfile) {
      if (existsSync(heapProfileFile)) {
        const kept = join(resultsDir, `${stamp}-app.heapprofile`);
        copyFileSync(heapProfileFile, kept);
        results.heapProfile = { file: relative(ROOT, kept) };
        heapSummary = formatHeapProfileSummary(summarizeHeapProfile(JSON.parse(readFileSync(kept, "utf8"))));
      } else {
        log("no heap profile was written (the app did not exit cleanly)");
      }
    }

    const json = `${JSON.stringify(results, null, 2)}\n`;
    const resultFile = join(resultsDir, `${stamp}.json`);
    writeFileSync(resultFile, json);
    writeFileSync(join(resultsDir, "latest.json"), json);

    console.log("");
    console.log(
      `Benchmark: ${config.duration}s per phase after ${config.warmup}s warm-up, ${config.connections} connections ` +
        `(sign-in: ${config.signInConcurrency} concurrent round trips), ${users.length} users, Node ${process.version}, ${cpu.length} CPUs` +
        (config.profile ? " — app under --cpu-prof, numbers are slower than normal" : ""),
    );
    const busiest = Math.max(loadAtStart[0] ?? 0, loadavg()[0] ?? 0);
    if (busiest > cpu.length) {
      console.log(
        `Note: the machine was busy (1-minute load average up to ${busiest.toFixed(1)} on ${cpu.length} CPUs); expect noisy numbers.`,
      );
    }
    console.log(
      `App: ${command} (as npm start); first page answered ${(startup.firstAnswerMs / 1000).toFixed(2)} s after start ` +
        `(migrations and the local Kinde server's start included; listening after ${(startup.listeningMs / 1000).toFixed(2)} s); ` +
        `RSS ${idleRssMB ?? "n/a"} MB after start and sign-ups, before the phases.`,
    );
    console.log(
      `Memory and CPU cover ${describeProcesses(measured)}; the local Kinde server (${describeProcesses(notCounted)}) is not counted.`,
    );
    console.log("");
    console.log(formatTable(phases));
    const signIn = phases.find((phase) => phase.name === "sign-in");
    if (signIn?.steps) {
      console.log("");
      console.log("Sign-in round trip, per hop:");
      console.log(formatSteps(signIn.steps, signIn.appSideMs));
    }
    console.log("");
    console.log(formatTargets(targets));
    if (heapSummary) {
      console.log("");
      console.log(`Heap profile of the app: ${results.heapProfile?.file} (the whole run, sign-ups included)`);
      console.log(heapSummary);
    }
    if (results.profile) {
      console.log("");
      console.log(
        `CPU profile of the app: ${results.profile.file} (open it in Chrome DevTools, Performance panel, or in VS Code)`,
      );
    }
    console.log("");
    console.log(`Results: ${relative(ROOT, resultFile)} (and ${relative(ROOT, join(resultsDir, "latest.json"))})`);
    if (!ok) console.log("FAILED: some phases had errors (see above); exit code 1");
    return ok ? 0 : 1;
  } finally {
    await cleanup();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(2);
  },
);

// `npm run bench`: build, start as `npm start` does, sign up, phases (or a mode), report. See bench/README.md.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { baseEnv, ROOT, scriptArgs, withNodeFlags } from "../tests/support/app-process.ts";
import { startStack, type Stack } from "../tests/support/stack.ts";
import { readConfig, type BenchConfig } from "./config";
import { LONG_TTL, runDatabases } from "./databases";
import { compileProbe, GcSamples } from "./gc-samples";
import { formatHeapProfileSummary, summarizeHeapProfile } from "./heap-profile";
import { killLoadProcesses, log, SEEDED_PROJECTS, signUpOrganization, signUpUsers } from "./jobs";
import { processTree, readTreeMemory, type ProcessInfo } from "./memory";
import { runPhases, type PhaseResult } from "./phases";
import { formatSoak, runSoak, type SoakReport } from "./soak";
import {
  environment,
  evaluateTargets,
  formatSteps,
  formatTable,
  formatTargets,
  resultsDir,
  stampOf,
  writeResults,
} from "./report";
import { round, roundOrNull } from "./stats";

const cleanups: Array<() => unknown> = [];
async function cleanUp(): Promise<void> {
  for (const step of cleanups.splice(0).reverse()) await Promise.resolve(step()).catch(() => {});
}

function buildIfNeeded(config: BenchConfig): number | null {
  const built = ["build/server/index.js", "build/node/server/index.js"].every((file) => existsSync(join(ROOT, file)));
  if (config.skipBuild && built) {
    log("reusing the existing build (BENCH_SKIP_BUILD)");
    return null;
  }
  log("building the app (npm run build)...");
  const started = performance.now();
  const env = baseEnv({ NODE_ENV: "production" });
  const result = spawnSync("npm", ["run", "build"], { cwd: ROOT, env, encoding: "utf8", timeout: 300_000 });
  if (result.status !== 0) {
    const why = result.error?.message ?? `exit ${result.status}`;
    throw new Error(`npm run build failed (${why}):\n${result.stdout}${result.stderr}`);
  }
  const seconds = (performance.now() - started) / 1000;
  log(`built in ${seconds.toFixed(1)}s`);
  return seconds;
}

export type BenchApp = Awaited<ReturnType<typeof startApp>>;

/** As `npm start` runs it (the app starts the local Kinde server itself), plus the bench's GC probe. */
async function startApp(config: BenchConfig, ttl = LONG_TTL) {
  const workDir = mkdtempSync(join(tmpdir(), "rkp-bench-"));
  cleanups.push(() => rmSync(workDir, { recursive: true, force: true }));
  const cpuProfile = config.profile
    ? ["--cpu-prof", `--cpu-prof-dir=${workDir}`, "--cpu-prof-name=app.cpuprofile"]
    : [];
  const nodeFlags = [...config.appNodeArgs, ...cpuProfile];
  const command = `node ${withNodeFlags(scriptArgs("production"), nodeFlags).join(" ")}`;
  const probeFlags = await compileProbe(workDir);
  const gcSamples = new GcSamples(join(workDir, "gc-samples.txt"));
  const heapProfileFile = join(workDir, "app.heapprofile");
  const stack: Stack = await startStack({
    kinde: "child",
    ttl,
    nodeFlags: [...probeFlags, ...nodeFlags],
    env: {
      BENCH_GC_SAMPLES_FILE: gcSamples.file,
      ...(config.heapProfile && { BENCH_HEAP_PROFILE_FILE: heapProfileFile }),
    },
    output: { limit: 64 * 1024 },
  });
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= stack.stop());
  cleanups.push(stop);
  const { app } = stack;
  // Migrations and the local Kinde server's start are included: the server waits for both.
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
  const notCounted = tree
    .filter((entry) => entry.command.includes("kinde-local/main.ts"))
    .flatMap((entry) => processTree(entry.pid));
  const counted = tree.filter((entry) => !notCounted.some((other) => other.pid === entry.pid));
  const measured = counted.length > 0 ? counted : [{ pid: app.pid, command }];
  log(`app ${app.url} (${command}), local Kinde ${stack.issuerUrl}, database ${stack.databaseFile}`);
  log(`memory and CPU figures: ${describe(measured)}; not counted: ${describe(notCounted)}`);
  const assertRunning = (during: string) => {
    if (app.child.exitCode === null && app.child.signalCode === null) return;
    throw new Error(`the app exited during ${during}:\n${app.output.text().slice(-4000)}`);
  };
  const pids = measured.map((entry) => entry.pid);
  return {
    stack,
    stop,
    assertRunning,
    pids,
    workDir,
    command,
    probeFlags,
    gcSamples,
    heapProfileFile,
    startup,
    measured,
    notCounted,
  };
}

const describe = (processes: ProcessInfo[]) =>
  processes.map(({ pid, command }) => `pid ${pid} (${command})`).join(", ") || "none";

async function signUp(config: BenchConfig, app: BenchApp) {
  const started = performance.now();
  const users = await signUpUsers(app.stack.app.url, config);
  const signUpSeconds = round((performance.now() - started) / 1000, 1);
  log(`signed up ${users.length} users in ${signUpSeconds}s`);
  const tenant = !config.soak && config.phases.includes("projects") ? await seedOrganization(config, app) : undefined;
  const idleRssMB = roundOrNull(readTreeMemory(app.pids)?.rssMB, 1);
  if (idleRssMB !== null) log(`app RSS before the phases: ${idleRssMB} MB`);
  return { users, signUpSeconds, idleRssMB, orgAdmin: tenant?.admin, organization: tenant?.figures ?? null };
}

async function seedOrganization(config: BenchConfig, app: BenchApp) {
  const started = performance.now();
  const { organization, admin } = await signUpOrganization(app.stack.app.url, config);
  const seconds = round((performance.now() - started) / 1000, 1);
  log(`signed up the admin of a new organization and added ${SEEDED_PROJECTS} projects in ${seconds}s`);
  return { admin, figures: { name: organization, projects: SEEDED_PROJECTS, seconds } };
}

/** Copies a profile the app wrote as it stopped (so: after stopping it) into the results; its path there. */
function keepProfile(file: string, kind: string, { config, startedAt }: Run): { file: string } | undefined {
  if (!existsSync(file)) {
    log(`no ${kind} was written (the app did not exit cleanly)`);
    return undefined;
  }
  mkdirSync(resultsDir(config), { recursive: true });
  const kept = join(resultsDir(config), `${stampOf(startedAt)}-${basename(file)}`);
  copyFileSync(file, kept);
  return { file: relative(ROOT, kept) };
}

type BenchResults = ReturnType<typeof collectResults>;

/** The results JSON (bench/README.md, "Results files"); call once the app has stopped and written its profiles. */
function collectResults(
  run: Run,
  app: BenchApp,
  setup: Awaited<ReturnType<typeof signUp>>,
  phases: PhaseResult[],
  soak: SoakReport | undefined,
) {
  const { config, startedAt } = run;
  return {
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    ok: phases.every((phase) => phase.errors === 0) && (soak?.errors ?? 0) === 0,
    config,
    environment: environment(config, run.loadAtStart),
    setup: {
      buildSeconds: roundOrNull(run.buildSeconds, 1),
      signUpSeconds: setup.signUpSeconds,
      idleRssMB: setup.idleRssMB,
      users: setup.users.length,
      organization: setup.organization,
      startup: app.startup,
    },
    app: {
      server: app.command,
      preload: `${app.probeFlags.join(" ")} (bench/gc-probe.ts: allocation and GC figures; the bench only)`,
      url: app.stack.app.url,
      pid: app.stack.app.pid,
      processes: app.measured,
      notCounted: app.notCounted,
    },
    phases,
    targets: soak ? [] : evaluateTargets(phases),
    soak,
    profile: config.profile ? keepProfile(join(app.workDir, "app.cpuprofile"), "CPU profile", run) : undefined,
    heapProfile: config.heapProfile ? keepProfile(app.heapProfileFile, "heap profile", run) : undefined,
  };
}

function printReport(results: BenchResults, files: string[]): void {
  const { config, setup, phases, soak, app, environment: machine, heapProfile, profile } = results;
  const busiest = Math.max(machine.loadAverage.atStart[0] ?? 0, machine.loadAverage.atEnd[0] ?? 0);
  const load = soak
    ? `Soak: ${soak.seconds}s of mixed load after ${config.warmup}s warm-up, ${soak.workers} workers, access tokens of ${soak.tokenTtlSeconds}s`
    : `Benchmark: ${config.duration}s per phase after ${config.warmup}s warm-up, ${config.connections} connections ` +
      `(sign-in: ${config.signInConcurrency} concurrent round trips)`;
  const lines = [
    "",
    `${load}, ${setup.users} users` +
      (setup.organization ? ` (projects: an organization's admin, ${setup.organization.projects} projects)` : "") +
      `, Node ${process.version}, ${machine.cpus} CPUs` +
      (config.profile ? " — app under --cpu-prof, numbers are slower than normal" : ""),
  ];
  if (busiest > machine.cpus) {
    lines.push(
      `Note: the machine was busy (1-minute load average up to ${busiest.toFixed(1)} on ${machine.cpus} CPUs); expect noisy numbers.`,
    );
  }
  lines.push(
    `App: ${app.server} (as npm start); first page answered ${(setup.startup.firstAnswerMs / 1000).toFixed(2)} s after start ` +
      `(migrations and the local Kinde server's start included; listening after ${(setup.startup.listeningMs / 1000).toFixed(2)} s); ` +
      `RSS ${setup.idleRssMB ?? "n/a"} MB after start and sign-ups, before the phases.`,
    `Memory and CPU cover ${describe(app.processes)}; the local Kinde server (${describe(app.notCounted)}) is not counted.`,
    "",
    soak ? formatSoak(soak) : formatTable(phases),
  );
  const signIn = phases.find((phase) => phase.name === "sign-in");
  if (signIn?.steps) lines.push("", "Sign-in round trip, per hop:", formatSteps(signIn.steps, signIn.appSideMs));
  if (!soak) lines.push("", formatTargets(results.targets));
  if (heapProfile) {
    const summary = summarizeHeapProfile(JSON.parse(readFileSync(join(ROOT, heapProfile.file), "utf8")));
    lines.push("", `Heap profile of the app: ${heapProfile.file} (the whole run, sign-ups included)`);
    lines.push(formatHeapProfileSummary(summary));
  }
  if (profile) {
    lines.push(
      "",
      `CPU profile of the app: ${profile.file} (open it in Chrome DevTools, Performance panel, or in VS Code)`,
    );
  }
  lines.push("", `Results: ${files[0]} (and ${files[1]})`);
  if (!results.ok) lines.push(`FAILED: ${soak ? "the soak" : "some phases"} had errors (see above); exit code 1`);
  console.log(lines.join("\n"));
}

interface Run {
  config: BenchConfig;
  startedAt: Date;
  loadAtStart: number[];
  buildSeconds: number | null;
}

async function main(): Promise<number> {
  const config = readConfig(process.env);
  const [startedAt, loadAtStart] = [new Date(), loadavg()];
  const what = config.soak
    ? `soak mode: ${config.soak}s of mixed load`
    : config.databases.length > 0
      ? `databases mode: ${config.databases.join(", ")}, phases dashboard, auth-success`
      : `phases ${config.phases.join(", ")}`;
  log(
    `${what}; ${config.soak ? "" : `${config.duration}s each `}after ${config.warmup}s warm-up; ${config.connections} connections, ` +
      `sign-in concurrency ${config.signInConcurrency}; ${config.users} users${config.quick ? "; quick mode" : ""}` +
      `${config.profile ? "; CPU profile on" : ""}`,
  );
  const run: Run = { config, startedAt, loadAtStart, buildSeconds: buildIfNeeded(config) };
  if (config.databases.length > 0) return runDatabases(config);

  cleanups.push(killLoadProcesses);
  // The soak's short-lived access tokens make the app refresh them while it runs.
  const app = await startApp(config, config.soak ? { ...LONG_TTL, access: config.soakTokenTtl } : LONG_TTL);
  const setup = await signUp(config, app);
  const phases = config.soak ? [] : await runPhases(config, app, setup.users, setup.orgAdmin);
  const soak = config.soak ? await runSoak(config, app, setup.users) : undefined;
  await app.stop();
  const results = collectResults(run, app, setup, phases, soak);
  printReport(results, writeResults(config, startedAt, "", "latest.json", results));
  return results.ok ? 0 : 1;
}

const onSignal = (signal: NodeJS.Signals) => {
  log(`${signal}: stopping`);
  void cleanUp().finally(() => process.exit(130));
};
process.once("SIGINT", onSignal);
process.once("SIGTERM", onSignal);

main()
  .finally(cleanUp)
  .then(
    (code) => process.exit(code),
    (error: unknown) => {
      log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(2);
    },
  );

/**
 * The benchmark still runs end to end: `npm run bench` in quick mode (1 s phases, 3 users,
 * the existing build when there is one) as its own process, into a results directory of this
 * test's own. It checks that the harness works, not how fast the app is.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const TIMEOUT_MS = 180_000;
type ProcessEntry = { pid: number; command: string };
const PHASES = ["landing", "dashboard", "projects", "auth-success", "sign-in"];

/**
 * Quick mode into `resultsDir`, with `options`. Whatever else this process has is passed on on
 * purpose: the benchmark must build its children's environment itself. A developer's own BENCH_*
 * settings are not.
 */
async function runBench(resultsDir: string, options: Record<string, string> = {}) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("BENCH_")),
  ) as NodeJS.ProcessEnv;
  Object.assign(env, { BENCH_QUICK: "1", BENCH_SKIP_BUILD: "1", BENCH_RESULTS_DIR: resultsDir, ...options });
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", "bench/run.ts"], {
      cwd: ROOT,
      env,
      timeout: TIMEOUT_MS - 10_000,
      encoding: "utf8",
      maxBuffer: 64 * 2 ** 20,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    // A non-zero exit (or the timeout's SIGTERM): its code, if any, and the output so far.
    const { code, stdout = "", stderr = "" } = error as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof code === "number" ? code : null, stdout, stderr };
  }
}

describe("npm run bench (quick mode)", () => {
  const resultsDir = mkdtempSync(join(tmpdir(), "rkp-bench-results-"));
  afterAll(() => rmSync(resultsDir, { recursive: true, force: true }));

  it(
    "runs every phase without errors, prints the table and writes the JSON results",
    async () => {
      const { code, stdout, stderr } = await runBench(resultsDir);
      const output = `${stdout}\n${stderr}`;
      expect(code, output).toBe(0);

      expect(stdout).toMatch(
        /^phase\s+target\s+rps\s+vs \/\s+p50 ms\s+p99 ms\s+errors\s+peak RSS MB\s+CPU ms\/req\s+alloc KB\/req\s+GC %\s+GC max ms$/m,
      );
      for (const phase of PHASES) expect(stdout).toMatch(new RegExp(`^${phase}\\s+\\S`, "m"));
      expect(stdout).toMatch(/^projects\s+GET \/projects \(20 projects\)\s/m);
      expect(stdout).toContain("PASS zero errors");
      expect(stdout).toMatch(/^(PASS|FAIL) \/dashboard throughput/m);
      expect(stdout).not.toMatch(/sign-in round trip p50/);
      expect(stdout).toMatch(/^(PASS|FAIL) peak server memory/m);
      expect(stdout).toMatch(/^(PASS|FAIL) p99 <= 3x p50 in every phase/m);
      expect(stdout).toMatch(/first page answered \d+\.\d\d s after start/);

      const files = readdirSync(resultsDir);
      expect(files).toContain("latest.json");
      expect(files.filter((file) => /^\d{4}-\d\d-\d\dT.*\.json$/.test(file))).toHaveLength(1);

      // Typed as the report promises; the checks below verify it.
      type Figures = Record<"rps" | "p50Ms" | "p99Ms" | "errors" | "peakRssMB" | "ratioToBaseline", number>;
      type GcFigures = Record<"allocatedKBPerRequest" | "gcShare" | "gcCollections" | "gcLongestPauseMs", number>;
      const results = JSON.parse(readFileSync(join(resultsDir, "latest.json"), "utf8")) as {
        ok: boolean;
        phases: Array<Figures & GcFigures & { name: string; seconds: number }>;
        targets: Array<{ name: string; status: string }>;
        setup: {
          startup: { listeningMs: number; firstAnswerMs: number };
          organization: { name: string; projects: number; seconds: number };
        };
        app: { server: string; preload: string; pid: number; processes: ProcessEntry[]; notCounted: ProcessEntry[] };
      };
      expect(results.ok).toBe(true);
      expect(results.phases.map((phase) => phase.name)).toEqual(PHASES);
      // The org-scoped page was measured on a tenant seeded through its own form.
      expect(results.setup.organization).toMatchObject({ name: expect.stringMatching(/^Bench Org /), projects: 20 });
      for (const phase of results.phases) {
        expect(phase.rps, phase.name).toBeTypeOf("number");
        expect(phase.rps, phase.name).toBeGreaterThan(0);
        expect(Number.isFinite(phase.p50Ms), phase.name).toBe(true);
        expect(Number.isFinite(phase.p99Ms), phase.name).toBe(true);
        expect(phase.p99Ms, phase.name).toBeGreaterThanOrEqual(phase.p50Ms);
        expect(phase.errors, phase.name).toBe(0);
        expect(phase.peakRssMB, phase.name).toBeTypeOf("number");
        expect(phase.peakRssMB, phase.name).toBeGreaterThan(0);
        expect(phase.ratioToBaseline, phase.name).toBeTypeOf("number");
        // Measured in the app by the bench's preload: a page costs the app some heap (tens of
        // KB at least: a rendered document, headers, a Request), but not megabytes per request
        // (a sign-in round trip is four app requests); GC pauses are a share of the window.
        expect(phase.allocatedKBPerRequest, phase.name).toBeTypeOf("number");
        expect(phase.allocatedKBPerRequest, phase.name).toBeGreaterThan(10);
        expect(phase.allocatedKBPerRequest, phase.name).toBeLessThan(phase.name === "sign-in" ? 40_000 : 10_000);
        expect(phase.gcShare, phase.name).toBeTypeOf("number");
        expect(phase.gcShare, phase.name).toBeGreaterThanOrEqual(0);
        expect(phase.gcShare, phase.name).toBeLessThan(1);
        expect(phase.gcCollections, phase.name).toBeTypeOf("number");
        expect(phase.gcLongestPauseMs, phase.name).toBeTypeOf("number");
        expect(phase.gcLongestPauseMs, phase.name).toBeLessThan(phase.seconds * 1000);
      }
      // A second of hundreds of requests at hundreds of KB each fills the young generation.
      expect(results.phases.find((phase) => phase.name === "landing")?.gcCollections).toBeGreaterThan(0);
      const { listeningMs, firstAnswerMs } = results.setup.startup;
      expect(listeningMs).toBeTypeOf("number");
      expect(firstAnswerMs).toBeTypeOf("number");
      expect(listeningMs).toBeGreaterThan(0);
      expect(firstAnswerMs).toBeGreaterThan(listeningMs);
      expect(firstAnswerMs).toBeLessThan(60_000);
      expect(results.app.preload).toMatch(/^--import file:.*gc-probe\.mjs/);
      expect(results.targets.map((target) => target.status)).not.toContain("SKIP");
      // The figures cover what npm start runs, the local Kinde server left out.
      expect(results.app.server).toMatch(/^node .*build\/node\/server\/index\.js$/);
      expect(results.app.processes.map((entry) => entry.pid)).toContain(results.app.pid);
      // The local Kinde server, and anything it runs (tsx's esbuild service), are not counted.
      expect(results.app.notCounted[0]?.command).toContain("kinde-local/main.ts");
      for (const entry of results.app.processes) expect(entry.command).toContain("build/node/server/index.js");
    },
    TIMEOUT_MS,
  );

  it(
    "runs the databases mode (two instances behind HAProxy on PostgreSQL) and reports each process's CPU",
    async () => {
      const { code, stdout, stderr } = await runBench(resultsDir, { BENCH_DATABASES: "postgres-2" });
      expect(code, `${stdout}\n${stderr}`).toBe(0);
      expect(stdout).toMatch(
        /^setup\s+phase\s+rps\s+p50 ms\s+p99 ms\s+errors\s+app1 %\s+app2 %\s+postgres %\s+haproxy %/m,
      );
      expect(stdout).toMatch(/^postgres-2\s+dashboard\s+\d+/m);
      expect(stdout).toMatch(/^postgres-2\s+auth-success\s+\d+/m);
      const results = JSON.parse(readFileSync(join(resultsDir, "databases-latest.json"), "utf8")) as {
        ok: boolean;
        results: Array<{
          setup: string;
          phase: string;
          rps: number;
          errors: number;
          cpuPercent: Record<string, number | null>;
        }>;
      };
      expect(results.ok).toBe(true);
      expect(results.results.map((result) => `${result.setup} ${result.phase}`)).toEqual([
        "postgres-2 dashboard",
        "postgres-2 auth-success",
      ]);
      for (const result of results.results) {
        expect(result.rps).toBeGreaterThan(0);
        for (const group of ["app1", "app2", "haproxy", "load"]) {
          expect(result.cpuPercent[group], `${result.phase} ${group}`).toBeGreaterThan(0);
        }
        // PostgreSQL's share may round to 0 in a one-second window, but it is measured.
        expect(result.cpuPercent.postgres, `${result.phase} postgres`).toBeTypeOf("number");
      }
    },
    TIMEOUT_MS,
  );

  it(
    "runs a short soak: every kind of request, token refreshes included, without errors, and the app's memory trend",
    async () => {
      // Access tokens of 2 s in a 4 s soak: the signed-in pages must refresh them on the way.
      const soakDir = join(resultsDir, "soak");
      const { code, stdout, stderr } = await runBench(soakDir, { BENCH_SOAK: "4", BENCH_SOAK_TOKEN_TTL: "2" });
      expect(code, `${stdout}\n${stderr}`).toBe(0);
      expect(stdout).toMatch(/^kind\s+requests\s+rps\s+p50 ms\s+p99 ms\s+errors$/m);
      expect(stdout).toMatch(/^memory\s+start MB\s+middle MB\s+end MB\s+slope MB\/min$/m);
      const results = JSON.parse(readFileSync(join(soakDir, "latest.json"), "utf8")) as {
        ok: boolean;
        phases: unknown[];
        soak: {
          errors: number;
          kinds: Record<string, { count: number; errors: number }>;
          memory: Record<string, Record<string, number | null>>;
        };
      };
      expect(results.ok).toBe(true);
      expect(results.phases).toEqual([]);
      expect(results.soak.errors).toBe(0);
      for (const kind of ["public", "dashboard", "profile-post", "sign-in", "refresh"]) {
        expect(results.soak.kinds[kind]?.count, kind).toBeGreaterThan(0);
        expect(results.soak.kinds[kind]?.errors, kind).toBe(0);
      }
      for (const figure of ["rssMB", "heapUsedMB"]) {
        for (const field of ["startMB", "middleMB", "endMB"]) {
          expect(results.soak.memory[figure]?.[field], `${figure} ${field}`).toBeGreaterThan(0);
        }
        expect(results.soak.memory[figure]?.slopeMBPerMinute, figure).toBeTypeOf("number");
      }
    },
    TIMEOUT_MS,
  );
});

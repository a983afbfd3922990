/**
 * Where a V8 CPU profile (.cpuprofile, from `node --cpu-prof`) spent its time: self time by
 * package (or Node core module), time with a package anywhere on the stack ("inclusive"), and
 * the top functions by self time.
 *
 *   npx tsx bench/profile-summary.ts <file.cpuprofile> [--from <us>] [--to <us>] [--top N] [--json]
 *
 * --from/--to keep only samples taken in that window, in microseconds of the monotonic clock
 * (process.hrtime.bigint() / 1000n in any process on the same machine; bench/run.ts records
 * each phase's window this way).
 *
 * "Inclusive" only sees synchronous stacks: time a package spends waiting on a promise is not
 * on the CPU, and work resumed after an await is attributed to whoever resumed it.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number; scriptId?: string };
  children?: number[];
  hitCount?: number;
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Row {
  name: string;
  ms: number;
  /** Share of the window's sampled time, 0..1. */
  share: number;
}

export interface ProfileSummary {
  // selfByPackage charges V8 built-ins and native bindings to their nearest caller with a URL.
  /** Sampled milliseconds in the window, idle included. */
  totalMs: number;
  /** Milliseconds on the CPU: everything but "(idle)". */
  busyMs: number;
  samples: number;
  selfByPackage: Row[];
  inclusiveByPackage: Row[];
  selfByFunction: Array<Row & { package: string }>;
  inclusiveByFunction: Array<Row & { package: string }>;
}

export interface SummaryOptions {
  fromUs?: number;
  toUs?: number;
  /** Rows per table. Default 15. */
  top?: number;
  /** Paths are shown relative to this directory (default: the current one). */
  root?: string;
}

const META_FRAMES = new Set(["(root)", "(program)", "(idle)", "(garbage collector)"]);
const NATIVE = "(V8 built-ins / native)";

/** A profile frame's file: a path for file:// URLs, the URL itself otherwise. */
function localPath(url: string): string {
  if (!url.startsWith("file://")) return url;
  try {
    return fileURLToPath(url);
  } catch {
    return url;
  }
}

/** The package (or Node core module, or pseudo-frame) a call frame belongs to. */
export function packageOf(url: string, functionName: string, root = process.cwd()): string {
  if (url === "") return META_FRAMES.has(functionName) ? functionName : NATIVE;
  if (url.startsWith("node:")) {
    const parts = url.slice(5).split("/");
    if (parts[0] !== "internal") return `node:${parts.slice(0, 2).join("/")}`;
    // node:internal/deps/undici/..., node:internal/crypto/..., node:internal/streams/...
    const depth = parts[1] === "deps" ? 3 : 2;
    return parts.length > depth ? `node:${parts.slice(0, depth).join("/")}` : `node:${parts.join("/")}`;
  }
  if (url.startsWith("wasm://")) return "(wasm)";
  const path = localPath(url);
  const marker = "/node_modules/";
  const at = path.lastIndexOf(marker);
  if (at >= 0) {
    const rest = path.slice(at + marker.length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1] ?? ""}` : (rest[0] ?? path);
  }
  // The app's server bundle, wherever it was served from (bench/run.ts serves a copy).
  if (/(?:^|\/)build\/server\//.test(path)) return "app (build/server)";
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}

function shortLocation(url: string, line: number, root: string): string {
  if (url === "") return "";
  let path = localPath(url);
  const marker = "/node_modules/";
  const at = path.lastIndexOf(marker);
  const bundle = /(?:^|\/)(build\/server\/.*)$/.exec(path);
  if (at >= 0) path = path.slice(at + marker.length);
  else if (bundle) path = bundle[1]!;
  else if (path.startsWith(`${root}/`)) path = path.slice(root.length + 1);
  return `${path}:${line + 1}`;
}

export function summarizeProfile(profile: CpuProfile, options: SummaryOptions = {}): ProfileSummary {
  const top = options.top ?? 15;
  const root = options.root ?? process.cwd();
  const byId = new Map<number, CpuProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const packageOfNode = new Map<number, string>();
  const functionOfNode = new Map<number, string>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    packageOfNode.set(node.id, packageOf(url, functionName, root));
    const where = shortLocation(url, lineNumber, root);
    functionOfNode.set(node.id, `${functionName || "(anonymous)"}${where ? ` ${where}` : ""}`);
  }
  // V8 built-ins and native bindings (JSON.parse, RegExp, writev, crypto...) have no URL of
  // their own: for self time by package they are charged to the nearest caller that has one.
  const ownerCache = new Map<number, string>();
  const ownerOf = (id: number): string => {
    const cached = ownerCache.get(id);
    if (cached !== undefined) return cached;
    const own = packageOfNode.get(id)!;
    let owner = own;
    if (own === NATIVE) {
      const up = parent.get(id);
      const upOwner = up === undefined ? NATIVE : ownerOf(up);
      owner = META_FRAMES.has(upOwner) ? NATIVE : upOwner;
    }
    ownerCache.set(id, owner);
    return owner;
  };
  // Distinct packages and functions on each node's stack, computed once per node.
  const stackCache = new Map<number, { packages: string[]; functions: number[] }>();
  const stackOf = (id: number): { packages: string[]; functions: number[] } => {
    const cached = stackCache.get(id);
    if (cached) return cached;
    const chain: number[] = [];
    for (let current: number | undefined = id; current !== undefined; current = parent.get(current))
      chain.push(current);
    const packages = [...new Set(chain.map((node) => packageOfNode.get(node)!))];
    const functionKeys = new Map<string, number>();
    for (const node of chain) functionKeys.set(functionOfNode.get(node)!, node);
    const result = { packages, functions: [...functionKeys.values()] };
    stackCache.set(id, result);
    return result;
  };

  const selfPackage = new Map<string, number>();
  const inclusivePackage = new Map<string, number>();
  const selfFunction = new Map<string, { ms: number; package: string }>();
  const inclusiveFunction = new Map<string, { ms: number; package: string }>();
  let total = 0;
  let idle = 0;
  let counted = 0;
  const from = options.fromUs ?? Number.NEGATIVE_INFINITY;
  const to = options.toUs ?? Number.POSITIVE_INFINITY;

  // Sample i was taken at startTime + sum(timeDeltas[0..i]); it stands for the time until the
  // next sample (the DevTools convention).
  let timestamp = profile.startTime;
  const count = profile.samples.length;
  for (let i = 0; i < count; i++) {
    timestamp += profile.timeDeltas[i] ?? 0;
    if (timestamp < from || timestamp > to) continue;
    const next = i + 1 < count ? (profile.timeDeltas[i + 1] ?? 0) : 0;
    const ms = Math.max(0, next) / 1000;
    const id = profile.samples[i]!;
    const node = byId.get(id);
    if (!node) continue;
    counted++;
    total += ms;
    const pkg = packageOfNode.get(id)!;
    if (pkg === "(idle)") idle += ms;
    const owner = ownerOf(id);
    selfPackage.set(owner, (selfPackage.get(owner) ?? 0) + ms);
    const fn = functionOfNode.get(id)!;
    const selfEntry = selfFunction.get(fn) ?? { ms: 0, package: pkg };
    selfEntry.ms += ms;
    selfFunction.set(fn, selfEntry);
    const stack = stackOf(id);
    for (const name of stack.packages) inclusivePackage.set(name, (inclusivePackage.get(name) ?? 0) + ms);
    for (const frame of stack.functions) {
      const key = functionOfNode.get(frame)!;
      if (key.startsWith("(root)")) continue;
      const entry = inclusiveFunction.get(key) ?? { ms: 0, package: packageOfNode.get(frame)! };
      entry.ms += ms;
      inclusiveFunction.set(key, entry);
    }
  }
  const busy = total - idle;
  const share = (ms: number) => (busy > 0 ? ms / busy : 0);
  // Shares are of the busy (non-idle) time: what the CPU did while the app was working.
  const rows = (map: Map<string, number>): Row[] =>
    [...map]
      .filter(([name]) => name !== "(idle)" && name !== "(root)")
      .map(([name, ms]) => ({ name, ms, share: share(ms) }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top);
  const functionRows = (map: Map<string, { ms: number; package: string }>) =>
    [...map]
      .filter(([name]) => !name.startsWith("(idle)"))
      .map(([name, entry]) => ({ name, ms: entry.ms, share: share(entry.ms), package: entry.package }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top);
  return {
    totalMs: total,
    busyMs: busy,
    samples: counted,
    selfByPackage: rows(selfPackage),
    inclusiveByPackage: rows(inclusivePackage),
    selfByFunction: functionRows(selfFunction),
    inclusiveByFunction: functionRows(inclusiveFunction),
  };
}

const percent = (share: number) => `${(share * 100).toFixed(1).padStart(5)}%`;
const millis = (ms: number) => `${ms.toFixed(0).padStart(7)} ms`;

/** `requests`: how many requests the window served, to print CPU milliseconds per request. */
export function formatSummary(summary: ProfileSummary, title = "CPU profile", requests?: number): string {
  const lines: string[] = [];
  const busyShare = summary.totalMs > 0 ? summary.busyMs / summary.totalMs : 0;
  const perRequest = requests
    ? `, ${(summary.busyMs / requests).toFixed(2)} ms of CPU per request (${requests} requests)`
    : "";
  lines.push(
    `${title}: ${summary.samples} samples, ${(summary.totalMs / 1000).toFixed(2)} s sampled, CPU busy ${(busyShare * 100).toFixed(0)}%${perRequest}. Shares are of busy time.`,
  );
  const table = (heading: string, rows: Array<Row & { package?: string }>) => {
    lines.push(`  ${heading}`);
    for (const row of rows) lines.push(`    ${percent(row.share)} ${millis(row.ms)}  ${row.name}`);
  };
  table(
    "Self time by package (built-ins and native code charged to the package that called them):",
    summary.selfByPackage,
  );
  table("Inclusive time by package (package anywhere on the stack):", summary.inclusiveByPackage);
  table("Self time by function:", summary.selfByFunction);
  table("Inclusive time by function:", summary.inclusiveByFunction);
  return lines.join("\n");
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
}

function main(argv: string[]) {
  const args = [...argv];
  const file = args.find(
    (arg, index) => !arg.startsWith("--") && !["--from", "--to", "--top"].includes(args[index - 1] ?? ""),
  );
  const option = (name: string) => {
    const index = args.indexOf(name);
    if (index < 0) return undefined;
    const value = Number(args[index + 1]);
    if (!Number.isFinite(value)) throw new Error(`${name} needs a number`);
    return value;
  };
  if (!file || args.includes("--help")) {
    console.error("usage: tsx bench/profile-summary.ts <file.cpuprofile> [--from <us>] [--to <us>] [--top N] [--json]");
    process.exit(file ? 0 : 2);
  }
  const summary = summarizeProfile(readProfile(file), {
    fromUs: option("--from"),
    toUs: option("--to"),
    top: option("--top"),
  });
  console.log(args.includes("--json") ? JSON.stringify(summary, null, 2) : formatSummary(summary, file));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));

// Self bytes of a sampling heap profile by package and by function: `npx tsx bench/heap-profile.ts <file> [top]`.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

type HeapProfileSummary = ReturnType<typeof summarizeHeapProfile>;

export function packageOf(url: string): string {
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) return inModules[1]!;
  if (url.startsWith("node:") || /^(?:internal|node)\//.test(url)) return "node (built-in)";
  if (url === "") return "(V8, no script)";
  const inBuild = /\/build\/(server|node)\//.exec(url);
  if (inBuild) return `app (build/${inBuild[1]})`;
  return url.replace(/^file:\/\//, "");
}

export function summarizeHeapProfile(profile: { head: ProfileNode }, top = 15) {
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let totalBytes = 0;
  const stack: ProfileNode[] = [profile.head];
  while (stack.length > 0) {
    const node = stack.pop()!;
    stack.push(...node.children);
    if (node.selfSize === 0) continue;
    totalBytes += node.selfSize;
    const { functionName, url, lineNumber } = node.callFrame;
    const pkg = packageOf(url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + node.selfSize);
    const fn = `${functionName || "(anonymous)"} ${pkg}${url ? `:${lineNumber + 1}` : ""}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + node.selfSize);
  }
  const rank = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, bytes]) => ({ name, bytes, share: totalBytes > 0 ? bytes / totalBytes : 0 }));
  return { totalBytes, byPackage: rank(byPackage), byFunction: rank(byFunction) };
}

export function formatHeapProfileSummary(summary: HeapProfileSummary): string {
  const row = ({ name, bytes, share }: { name: string; bytes: number; share: number }) =>
    `  ${(bytes / 2 ** 20).toFixed(1).padStart(8)} MB  ${(share * 100).toFixed(1).padStart(5)}%  ${name}`;
  return [
    `Allocated while profiling (sampled): ${(summary.totalBytes / 2 ** 20).toFixed(1)} MB. Self bytes by package:`,
    ...summary.byPackage.map(row),
    "By function:",
    ...summary.byFunction.map(row),
  ].join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error("usage: npx tsx bench/heap-profile.ts <file.heapprofile> [top]");
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, "utf8")) as { head: ProfileNode };
  console.log(formatHeapProfileSummary(summarizeHeapProfile(profile, top ? Number(top) : 15)));
}

/**
 * npm run count-lines [-- <git revision>]
 *
 * Code lines and comment share per top-level folder, over the files git tracks (at HEAD, or at
 * the revision given). A code line is neither blank nor a comment; comment lines are `//`, `/*`
 * blocks and SQL `--` lines. Counted: ts, tsx, js, mjs, css, prisma, sql; generated and
 * migration files are left out, as in issue #15's table.
 */
import { execFileSync } from "node:child_process";

const revision = process.argv[2] ?? "HEAD";
const COUNTED = /\.(ts|tsx|js|mjs|css|prisma|sql)$/;
const SKIPPED = /(^|\/)(migrations|generated)\//;

function git(...args: string[]): string {
  return execFileSync("git", args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
}

function classify(text: string, sql: boolean): { code: number; comment: number } {
  let code = 0;
  let comment = 0;
  let inBlock = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    if (inBlock) {
      comment++;
      if (line.includes("*/")) inBlock = false;
    } else if (line.startsWith("/*")) {
      comment++;
      inBlock = !line.includes("*/");
    } else if (line.startsWith("//") || (sql && line.startsWith("--"))) {
      comment++;
    } else {
      code++;
    }
  }
  return { code, comment };
}

const totals = new Map<string, { code: number; comment: number }>();
for (const path of git("ls-tree", "-r", "--name-only", revision).split("\n")) {
  if (!COUNTED.test(path) || SKIPPED.test(path)) continue;
  const folder = path.includes("/") ? path.slice(0, path.indexOf("/")) : "(root)";
  const counts = classify(git("show", `${revision}:${path}`), path.endsWith(".sql"));
  const total = totals.get(folder) ?? { code: 0, comment: 0 };
  total.code += counts.code;
  total.comment += counts.comment;
  totals.set(folder, total);
}

const rows = [...totals].sort(([a], [b]) => a.localeCompare(b));
const all = rows.reduce((sum, [, t]) => ({ code: sum.code + t.code, comment: sum.comment + t.comment }), {
  code: 0,
  comment: 0,
});
const share = (t: { code: number; comment: number }) =>
  `${((100 * t.comment) / (t.code + t.comment || 1)).toFixed(1)}%`;
console.log(`code lines at ${revision}\n`);
console.log("| folder | code lines | comment lines | comment share |\n| --- | ---: | ---: | ---: |");
for (const [folder, t] of [...rows, ["all", all] as const]) {
  console.log(`| ${folder} | ${t.code} | ${t.comment} | ${share(t)} |`);
}

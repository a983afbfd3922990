// A one-line CLI's flags: --help prints the usage (exit 0), anything not `allowed` prints it (exit 2).
export function readFlags(command: string, usage: string, allowed: readonly string[]): Set<string> {
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usage);
    process.exit(0);
  }
  const unknown = args.find((arg) => !allowed.includes(arg));
  if (unknown !== undefined) {
    console.error(`${command}: unknown argument ${unknown}\n${usage}`);
    process.exit(2);
  }
  return new Set(args);
}

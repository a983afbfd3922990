/**
 * The flags of a one-line CLI (npm run users:sync, db:users): --help prints the usage and exits
 * 0, anything not in `allowed` prints it and exits 2. Returns the flags given.
 */
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

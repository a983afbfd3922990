import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { z } from "zod";

/** A crash mid-write leaves the old file or the new one, never half of each. */
export async function writeFileAtomic(path: string, contents: string, mode = 0o600): Promise<void> {
  const temporary = join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await open(temporary, "wx", mode);
    try {
      await handle.writeFile(contents, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if (isErrnoException(error) && error.code === "ENOENT") return undefined;
    throw error;
  }
}

/** The file checked against `schema`, or undefined when there is none; `fix` tells the developer what to do. */
export async function readJsonFile<T extends z.ZodType>(path: string, schema: T, what: string, fix: string) {
  const text = await readTextIfExists(path);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not valid JSON; ${fix}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new Error(`${path} is not a valid ${what}; ${fix}`);
  return parsed.data;
}

export async function ensureDirectory(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
}

export function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && "code" in error;
}

/** Two servers would overwrite each other's store; a lock whose pid no longer runs is taken over. */
const locksHeldHere = new Set<string>();

export async function acquireDataDirLock(dataDir: string): Promise<() => Promise<void>> {
  const lockPath = join(dataDir, "server.lock");
  if (locksHeldHere.has(lockPath)) {
    throw new Error(`Another local Kinde server in this process already uses ${dataDir}`);
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lockPath, String(process.pid), { flag: "wx", mode: 0o600 });
      locksHeldHere.add(lockPath);
      return async () => {
        locksHeldHere.delete(lockPath);
        await rm(lockPath, { force: true });
      };
    } catch (error) {
      if (!isErrnoException(error) || error.code !== "EEXIST") throw error;
      const owner = Number.parseInt((await readTextIfExists(lockPath)) ?? "", 10);
      if (Number.isInteger(owner) && owner !== process.pid && isRunning(owner)) {
        throw new Error(
          `Another local Kinde server (pid ${owner}) already uses ${dataDir}; stop it or set KINDE_LOCAL_DATA_DIR`,
        );
      }
      await rm(lockPath, { force: true });
    }
  }
  throw new Error(`Could not lock ${dataDir}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isErrnoException(error) && error.code === "EPERM";
  }
}

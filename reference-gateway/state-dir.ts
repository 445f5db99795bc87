import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { StateError } from "./errors";

/**
 * The files of a state directory. The admin CLI and a running server share it, so every write is atomic
 * (temp file + rename) and every read-modify-write holds the lock file.
 */
export interface StatePaths {
  readonly dir: string;
  /** Token hashes and metadata; never a token value. */
  readonly tokens: string;
  /** Held (O_EXCL-created) around every read-modify-write of tokens.json. */
  readonly lock: string;
  /** Append-only request log, one JSON object per line. */
  readonly requests: string;
}

export function statePaths(dir: string): StatePaths {
  return {
    dir,
    tokens: join(dir, "tokens.json"),
    lock: join(dir, "tokens.json.lock"),
    requests: join(dir, "requests.jsonl"),
  };
}

export function ensureStateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new StateError(`cannot create state dir ${dir}`, { hint: "pass a writable --state-dir", cause });
  }
}

/** Writes `path` so that readers see the old or the new content, never a half-written file. */
export function writeFileAtomic(path: string, content: string, mode = 0o600): void {
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    writeFileSync(temp, content, { mode, flag: "wx" });
    renameSync(temp, path);
  } catch (cause) {
    try {
      unlinkSync(temp);
    } catch {
      // The temp file was never created or is already gone; the original error is what matters.
    }
    throw new StateError(`cannot write ${path}`, { hint: "check that the state dir is writable", cause });
  }
}

/** A lock older than this is left over from a crashed process and may be broken. */
export const LOCK_STALE_MS = 10_000;
const LOCK_RETRY_MS = 5;
const LOCK_GIVE_UP_MS = LOCK_STALE_MS + 5_000;

/**
 * Runs `fn` while holding the state dir's lock file. `fn` is synchronous on purpose: the critical section is
 * one read and one write of a small file, and nothing else in this process can interleave with it.
 */
export async function withStateLock<T>(paths: StatePaths, fn: () => T): Promise<T> {
  await acquireLock(paths.lock);
  try {
    return fn();
  } finally {
    try {
      unlinkSync(paths.lock);
    } catch {
      // Broken as stale by another process after 10 s: nothing left to release.
    }
  }
}

async function acquireLock(lockPath: string): Promise<void> {
  const giveUpAt = Date.now() + LOCK_GIVE_UP_MS;
  for (;;) {
    try {
      const fd = openSync(lockPath, "wx", 0o600);
      writeFileSync(fd, JSON.stringify({ pid: process.pid, at: new Date().toISOString() }));
      closeSync(fd);
      return;
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new StateError(`cannot create lock file ${lockPath}`, { hint: "check that the state dir is writable", cause });
      }
    }
    if (breakIfStale(lockPath)) continue;
    if (Date.now() > giveUpAt) {
      throw new StateError(`state dir is locked: ${lockPath} has been held for too long`, {
        hint: `make sure no other reference-gateway process is stuck, then delete ${lockPath}`,
      });
    }
    await sleep(LOCK_RETRY_MS);
  }
}

function breakIfStale(lockPath: string): boolean {
  try {
    if (Date.now() - statSync(lockPath).mtimeMs < LOCK_STALE_MS) return false;
    unlinkSync(lockPath);
    return true;
  } catch {
    // Released between our open and our stat: simply try again.
    return true;
  }
}

/**
 * Reads a file only when it has changed since the last read, detected by one stat. Atomic writes rename a
 * new inode into place, so the inode number changes on every write even when mtime granularity is coarse.
 */
export class ChangeTrackedFile {
  readonly path: string;
  #version: string | undefined;

  constructor(path: string) {
    this.path = path;
  }

  /** The new content, or undefined when unchanged since the last read (or when the file does not exist). */
  readIfChanged(): string | undefined {
    const version = this.#stat();
    if (version === undefined || version === this.#version) return undefined;
    // Read through a descriptor and take the version from that same descriptor: if another writer renames a
    // newer file in meanwhile, the next stat differs and that content is read next time.
    const fd = openSync(this.path, "r");
    try {
      const stat = fstatSync(fd, { bigint: true });
      const content = readFileSync(fd, "utf8");
      this.#version = versionOf(stat);
      return content;
    } finally {
      closeSync(fd);
    }
  }

  /** Records the file as seen, after this process wrote it itself. */
  markSeen(): void {
    this.#version = this.#stat();
  }

  #stat(): string | undefined {
    try {
      return versionOf(statSync(this.path, { bigint: true }));
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw cause;
    }
  }
}

function versionOf(stat: { ino: bigint; mtimeNs: bigint; size: bigint }): string {
  return `${stat.ino}:${stat.mtimeNs}:${stat.size}`;
}

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { StateError } from "./errors";

/**
 * The files of a state directory, shared by the admin CLI and a running server. The registry database holds
 * everything; tokens.json is read only to import a state dir written by an earlier version.
 */
export interface StatePaths {
  readonly dir: string;
  /** The registry database (registry-db.ts): tokens, request log, consumer aggregates. Mode 0600. */
  readonly database: string;
  /** Earlier versions' token file, imported once into the database when found and left as it was. */
  readonly tokens: string;
}

export function statePaths(dir: string): StatePaths {
  return { dir, database: join(dir, "registry.sqlite"), tokens: join(dir, "tokens.json") };
}

export function ensureStateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new StateError(`cannot create state dir ${dir}`, { hint: "pass a writable --state-dir", cause });
  }
}

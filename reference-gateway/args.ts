import { UsageError } from "./errors";

export interface OptionSpec {
  readonly type: "string" | "boolean";
  /** May be given more than once (`--scope a --scope b`). @default false */
  readonly multiple?: boolean;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/**
 * Command-line options parsed against a spec: `--name value`, `--name=value`, boolean `--flag`, and
 * positionals. Anything unexpected is a UsageError that names the command and the fix.
 */
export class ParsedArgs {
  readonly command: string;
  readonly positionals: readonly string[];
  readonly #values: ReadonlyMap<string, readonly string[]>;

  constructor(command: string, positionals: readonly string[], values: ReadonlyMap<string, readonly string[]>) {
    this.command = command;
    this.positionals = positionals;
    this.#values = values;
  }

  string(name: string): string | undefined {
    return this.#values.get(name)?.[0];
  }

  requiredString(name: string): string {
    const value = this.string(name);
    if (value === undefined) throw new UsageError(`${this.command} needs --${name}`);
    return value;
  }

  strings(name: string): readonly string[] {
    return this.#values.get(name) ?? [];
  }

  flag(name: string): boolean {
    return this.#values.has(name);
  }
}

export function parseArgs(command: string, argv: readonly string[], specs: OptionSpecs): ParsedArgs {
  const positionals: string[] = [];
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = specs[name];
    if (!spec) {
      const known = Object.keys(specs).map((n) => `--${n}`).join(", ");
      throw new UsageError(`unknown option --${name} for ${command}; it accepts ${known}`);
    }
    let value: string;
    if (spec.type === "boolean") {
      if (eq !== -1) throw new UsageError(`--${name} is a flag and takes no value`);
      value = "true";
    } else if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) throw new UsageError(`--${name} needs a value`);
      value = next;
      i++;
    }
    const seen = values.get(name);
    if (seen && !spec.multiple) throw new UsageError(`--${name} may be given only once`);
    values.set(name, [...(seen ?? []), value]);
  }
  return new ParsedArgs(command, positionals, values);
}

import { parseArgs as parseTokens } from "node:util";
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

/**
 * node:util parseArgs, run non-strict so that each mistake gets this CLI's own message (which option, and what
 * the command accepts) rather than Node's.
 */
export function parseArgs(command: string, argv: readonly string[], specs: OptionSpecs): ParsedArgs {
  const { tokens } = parseTokens({ args: [...argv], options: { ...specs }, strict: false, allowPositionals: true, tokens: true });
  const positionals: string[] = [];
  const values = new Map<string, string[]>();
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const name = token.name;
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (!spec || !token.rawName.startsWith("--")) {
      const known = Object.keys(specs).map((n) => `--${n}`).join(", ");
      throw new UsageError(`unknown option ${token.rawName} for ${command}; it accepts ${known}`);
    }
    let value: string;
    if (spec.type === "boolean") {
      if (token.value !== undefined) throw new UsageError(`--${name} is a flag and takes no value`);
      value = "true";
    } else {
      if (token.value === undefined || (!token.inlineValue && token.value.startsWith("--"))) throw new UsageError(`--${name} needs a value`);
      value = token.value;
    }
    const seen = values.get(name);
    if (seen && !spec.multiple) throw new UsageError(`--${name} may be given only once`);
    values.set(name, [...(seen ?? []), value]);
  }
  return new ParsedArgs(command, positionals, values);
}

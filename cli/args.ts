/**
 * The command line, parsed with node:util parseArgs against the tables of spec.ts:
 * `<command> [ARG] [--option value | --option=value | --flag]...`, options before or after the command.
 * parseArgs runs non-strict so that every mistake becomes a UsageError of ours, naming the closest valid word.
 */
import { parseArgs as parseTokens } from "node:util";
import { UsageError } from "./errors";
import { Command, COMMAND_NAMES, COMMANDS, isCommand, OptionName, OPTIONS } from "./spec";
import { closest } from "../src/domain/suggest";

export { Command } from "./spec";
export type { OptionName } from "./spec";

export interface ParsedArgs {
  readonly command: Command;
  /** The positional arguments after the command (a token name, a shell, a command to explain). */
  readonly positionals: readonly string[];
  /** The token name, for commands that take one. */
  readonly name: string | undefined;
  /** Values of the options given on the command line (flags as "true"). */
  readonly options: Readonly<Partial<Record<OptionName, string>>>;
  /** `--help` was given: print the command's help instead of running it. */
  readonly help: boolean;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const { tokens } = parseTokens({ args: [...argv], options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const positionals: string[] = [];
  const options: Partial<Record<OptionName, string>> = {};
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const name = token.name;
    if (!isOption(name)) throw unknownOption(token.rawName, Object.keys(OPTIONS) as OptionName[]);
    if (options[name] !== undefined) throw new UsageError(`--${name} is given twice`, "give it once");
    if (OPTIONS[name].type === "boolean") {
      if (token.value !== undefined) throw new UsageError(`--${name} is a flag and takes no value`, `write just --${name}`);
      options[name] = "true";
      continue;
    }
    const value = token.value;
    if (value === undefined || value === "" || (!token.inlineValue && value.startsWith("--"))) {
      throw new UsageError(`--${name} needs a value`, `write --${name} ${OPTIONS[name].value ?? "VALUE"} or --${name}=${OPTIONS[name].value ?? "VALUE"}`);
    }
    options[name] = value;
  }

  const help = options.help !== undefined;
  const [word, ...rest] = positionals;
  if (word === undefined) {
    if (options.version) return { command: Command.Version, positionals: [], name: undefined, options, help: false };
    if (help) return { command: Command.Help, positionals: [], name: undefined, options, help: false };
    throw new UsageError("no command given", `name one: ${COMMAND_NAMES.join(", ")}`);
  }
  if (!isCommand(word)) {
    const suggestion = closest(word, COMMAND_NAMES);
    throw new UsageError(`unknown command "${word}"`, suggestion ? `did you mean \`openclaw-tokens ${suggestion}\`?` : `use one of ${COMMAND_NAMES.join(", ")}`);
  }
  const command = word;
  const spec = COMMANDS[command];
  if (rest.some((arg) => /^(openclaw_gw_|sk-)/.test(arg))) {
    throw new UsageError(
      "a token value was given as an argument; it is never taken from the command line (shell history and ps would keep it)",
      "revoke it if this machine's history is shared; pipe it on stdin or set OPENCLAW_GATEWAY_TOKEN instead",
      command,
    );
  }
  if (help) return { command, positionals: rest, name: rest[0], options, help: true };

  // Options are parsed against the union of all commands; each command accepts only its own.
  for (const name of Object.keys(options) as OptionName[]) {
    if (name === "version" && command === Command.Version) continue;
    if (!spec.options.includes(name)) {
      const suggestion = closest(name, spec.options);
      throw new UsageError(
        `${command} has no option --${name}`,
        suggestion && suggestion !== name ? `did you mean --${suggestion}?` : `${command} accepts ${spec.options.map((o) => `--${o}`).join(", ")}`,
        command,
      );
    }
  }
  const required = spec.positionals.filter((p) => !p.endsWith("?"));
  if (rest.length < required.length) {
    throw new UsageError(`${command} needs ${required.join(" ")}`, `write ${usageLine(command)}, e.g. ${spec.examples[0]}`, command);
  }
  if (rest.length > spec.positionals.length) {
    const takes = spec.positionals.length ? spec.positionals.join(" ").replace(/\?/g, "") : "no arguments";
    throw new UsageError(`${command} takes ${spec.positionals.length === 1 ? `one ${takes}` : takes}, but got: ${rest.join(" ")}`, "one command at a time", command);
  }
  if (command === Command.Revoke && !options.emergency) {
    throw new UsageError(
      "revoke is only for a leaked token and needs --emergency",
      "to replace a token routinely, without breaking its consumers, run `openclaw-tokens rotate NAME`; " +
        "if the token leaked, run `openclaw-tokens revoke NAME --emergency` (consumers fail until they reload)",
      command,
    );
  }
  return { command, positionals: rest, name: rest[0], options, help: false };
}

/** `openclaw-tokens rotate NAME [options]`. */
export function usageLine(command: Command): string {
  const spec = COMMANDS[command];
  const args = spec.positionals.map((p) => (p.endsWith("?") ? `[${p.slice(0, -1)}]` : p));
  return ["openclaw-tokens", command, ...args, spec.options.length > 1 ? "[options]" : ""].filter(Boolean).join(" ");
}

function unknownOption(raw: string, known: readonly OptionName[]): UsageError {
  const bare = raw.replace(/^-+/, "").replace(/=.*$/s, "");
  if (bare === "token") {
    return new UsageError(
      "the token is never taken from the command line (shell history and ps would keep it)",
      "pipe it on stdin or set OPENCLAW_GATEWAY_TOKEN",
    );
  }
  const suggestion = closest(bare, known);
  return new UsageError(
    `unknown option ${raw}`,
    suggestion ? `did you mean --${suggestion}?` : `use one of ${known.map((o) => `--${o}`).join(", ")}`,
  );
}

function isOption(name: string): name is OptionName {
  return Object.hasOwn(OPTIONS, name);
}

/**
 * The command line, parsed by hand: `<command> [NAME] [--option value | --option=value | --flag]...`, options
 * before or after the command. Anything unexpected is a UsageError that says what to write instead.
 */
import { UsageError } from "./errors";

export const Command = {
  Status: "status",
  Rotate: "rotate",
  Revoke: "revoke",
  Verify: "verify",
  Help: "help",
} as const;
export type Command = (typeof Command)[keyof typeof Command];

/** Options every command accepts, and whether each takes a value. */
const OPTIONS = {
  environment: "value",
  "gateway-url": "value",
  backend: "value",
  "admin-secret-id": "value",
  "ledger-table": "value",
  "quiet-period": "value",
  json: "flag",
  debug: "flag",
  help: "flag",
  emergency: "flag",
} as const;
export type OptionName = keyof typeof OPTIONS;

/** How many token names each command takes. */
const ARITY: Readonly<Record<Command, 0 | 1>> = { status: 0, rotate: 1, revoke: 1, verify: 1, help: 0 };

export interface ParsedArgs {
  readonly command: Command;
  /** The token name, for commands that take one. */
  readonly name: string | undefined;
  /** Values of the options given on the command line (flags as "true"). */
  readonly options: Readonly<Partial<Record<OptionName, string>>>;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positionals: string[] = [];
  const options: Partial<Record<OptionName, string>> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h") {
      options.help = "true";
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith("--")) throw new UsageError(`unknown option ${arg}`, "options are spelled out: --environment, --json, ...");
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (!isOption(name)) {
      throw new UsageError(`unknown option --${name}`, `use one of ${Object.keys(OPTIONS).map((o) => `--${o}`).join(", ")}`);
    }
    if (options[name] !== undefined) throw new UsageError(`--${name} is given twice`, "give it once");
    if (OPTIONS[name] === "flag") {
      if (eq !== -1) throw new UsageError(`--${name} is a flag and takes no value`, `write just --${name}`);
      options[name] = "true";
      continue;
    }
    const value = eq !== -1 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === "" || (eq === -1 && value.startsWith("--"))) {
      throw new UsageError(`--${name} needs a value`, `write --${name} VALUE or --${name}=VALUE`);
    }
    options[name] = value;
  }

  const [word, ...rest] = positionals;
  if (word === undefined) {
    if (options.help) return { command: Command.Help, name: undefined, options };
    throw new UsageError("no command given", "name one: status, rotate, revoke, verify or help");
  }
  if (!isCommand(word)) throw new UsageError(`unknown command "${word}"`, "use status, rotate, revoke, verify or help");
  const command = options.help ? Command.Help : word;
  if (command === Command.Help) return { command, name: undefined, options };

  if (ARITY[command] === 1 && rest.length === 0) {
    throw new UsageError(`${command} needs a token name`, `write openclaw-tokens ${command} NAME${command === Command.Revoke ? " --emergency" : ""}, e.g. ci-runner`);
  }
  if (rest.length > ARITY[command]) {
    throw new UsageError(`${command} takes ${ARITY[command] ? "one token name" : "no arguments"}, but got: ${rest.join(" ")}`, "one command at a time");
  }
  if (options.emergency && command !== Command.Revoke) throw new UsageError(`--emergency belongs to revoke, not ${command}`, "drop it");
  if (command === Command.Revoke && !options.emergency) {
    throw new UsageError(
      "revoke is only for a leaked token and needs --emergency",
      "to replace a token routinely, without breaking its consumers, run `openclaw-tokens rotate NAME`; " +
        "if the token leaked, run `openclaw-tokens revoke NAME --emergency` (consumers fail until they reload)",
    );
  }
  return { command, name: rest[0], options };
}

function isOption(name: string): name is OptionName {
  return Object.hasOwn(OPTIONS, name);
}

function isCommand(word: string): word is Command {
  return (Object.values(Command) as string[]).includes(word);
}

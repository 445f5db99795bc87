/** The usage text and each command's help, derived from the tables of spec.ts. */
import { usageLine } from "./args";
import { Command, COMMAND_NAMES, COMMANDS, OPTIONS, OptionName } from "./spec";

/** The command column of the usage text: as wide as the longest command name. */
const COMMAND_COLUMN = Math.max(...COMMAND_NAMES.map((name) => name.length)) + 1;

/** What scripts can rely on; documented in every help text. */
export const EXIT_CODES = "Exit codes: 0 success, 1 operation failed, 2 usage error, 3 status, doctor or audit found problems, or consumers found some still on an old token.";

export const USAGE = [
  "usage: openclaw-tokens <command> [options]",
  "",
  "commands:",
  ...COMMAND_NAMES.map((name) => `  ${name.padEnd(COMMAND_COLUMN)} ${COMMANDS[name].summary}`),
  "",
  "Run `openclaw-tokens <command> --help` for a command's options and an example.",
  "Common options: --environment dev|stage|prod (or OPENCLAW_ENVIRONMENT), --json, --debug, --help, --version.",
  "NAME is a token's declared name (ci-runner), not its secret name (openclaw/<env>/ci-runner).",
  "AWS is reached through the SDK's usual settings: AWS_PROFILE, AWS_REGION, and AWS_ENDPOINT_URL for the",
  "local stack. Colour only on a terminal (NO_COLOR turns it off, FORCE_COLOR on).",
  `${EXIT_CODES} Token values are never printed.`,
].join("\n");

/** `openclaw-tokens COMMAND --help`: usage, what it does, its options, an example. */
export function commandHelp(command: Command): string {
  const spec = COMMANDS[command];
  const width = Math.max(...spec.options.map((o) => optionLabel(o).length));
  return [
    `usage: ${usageLine(command)}`,
    "",
    spec.summary.charAt(0).toUpperCase() + spec.summary.slice(1) + ".",
    ...(spec.details ? [spec.details] : []),
    "",
    "options:",
    ...spec.options.map((o) => {
      const env = "env" in OPTIONS[o] ? ` (${(OPTIONS[o] as { env: string }).env})` : "";
      return `  ${optionLabel(o).padEnd(width)}  ${OPTIONS[o].description}${env}`;
    }),
    "",
    spec.examples.length > 1 ? "examples:" : "example:",
    ...spec.examples.map((e) => `  ${e}`),
    "",
    EXIT_CODES,
  ].join("\n");
}

function optionLabel(name: OptionName): string {
  const spec = OPTIONS[name];
  const short = "short" in spec ? `-${spec.short}, ` : "";
  return `${short}--${name}${spec.type === "string" ? ` ${spec.value}` : ""}`;
}

/** After a usage error of one command: its usage line and where its help is. */
export function usageHelpLine(command: Command): string {
  return `usage: ${usageLine(command)}\nRun \`openclaw-tokens ${command} --help\` for its options and an example.`;
}

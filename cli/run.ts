/** Parses the command line, runs one command and turns every outcome into an exit code. Never throws. */
import { Command, parseArgs, ParsedArgs } from "./args";
import { audit } from "./commands/audit";
import { consumers } from "./commands/consumers";
import { bootstrapRotator } from "./commands/bootstrap-rotator";
import { doctor } from "./commands/doctor";
import { revokeEmergency } from "./commands/revoke";
import { rotate } from "./commands/rotate";
import { status } from "./commands/status";
import { verify } from "./commands/verify";
import { completionScript } from "./completion";
import { CliContext } from "./context";
import { UsageError } from "./errors";
import { outputFlags, resolveOptions } from "./options";
import { ExitCode, Output, Streams } from "./output";
import { COMMAND_NAMES, isCommand } from "./spec";
import { closest } from "../src/domain/suggest";
import { commandHelp, USAGE } from "./usage";
import { cliVersion } from "./version";

/** What a command may read besides its options: the token doctor is given on stdin. */
export interface Io extends Streams {
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
}

export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv, io: Io): Promise<ExitCode> {
  let output = new Output(io, { ...outputFlags(rawFlags(argv)), awsEndpointUrl: env.AWS_ENDPOINT_URL });
  let ctx: CliContext | undefined;
  try {
    const args = parseArgs(argv);
    const early = answerWithoutOptions(args);
    if (early !== undefined) {
      io.stdout.write(`${early}\n`);
      return ExitCode.Ok;
    }
    if (args.command === Command.Doctor) return await doctor({ args, env, io, output });
    const options = resolveOptions(args, env);
    output = new Output(io, options);
    ctx = new CliContext(options, output);
    return await dispatch(ctx, args);
  } catch (error) {
    return output.fail(error);
  } finally {
    ctx?.close();
  }
}

/** help, --help, --version and completion: printed without reading any option or environment variable. */
function answerWithoutOptions(args: ParsedArgs): string | undefined {
  if (args.help) return commandHelp(args.command);
  switch (args.command) {
    case Command.Help: {
      const topic = args.positionals[0];
      if (topic === undefined) return USAGE;
      if (isCommand(topic)) return commandHelp(topic);
      const suggestion = closest(topic, COMMAND_NAMES);
      throw new UsageError(`no command "${topic}" to explain`, suggestion ? `did you mean \`openclaw-tokens help ${suggestion}\`?` : `use one of ${COMMAND_NAMES.join(", ")}`);
    }
    case Command.Version:
      return `openclaw-tokens ${cliVersion()}`;
    case Command.Completion:
      return completionScript(args.positionals[0]);
    default:
      return undefined;
  }
}

function dispatch(ctx: CliContext, args: ParsedArgs): Promise<ExitCode> {
  const name = args.name as string;
  switch (args.command) {
    case Command.Status:
      return status(ctx);
    case Command.Rotate:
      return rotate(ctx, name);
    case Command.Revoke:
      return revokeEmergency(ctx, name);
    case Command.Verify:
      return verify(ctx, name);
    case Command.Audit:
      return audit(ctx, name);
    case Command.Consumers:
      return consumers(ctx, name);
    case Command.BootstrapRotator:
      return bootstrapRotator(ctx);
    default:
      throw new Error(`${args.command} is not dispatched here`);
  }
}

/** --json and --debug, read before parsing so that even a usage error is reported as asked. */
function rawFlags(argv: readonly string[]): ParsedArgs["options"] {
  return { json: argv.includes("--json") ? "true" : undefined, debug: argv.includes("--debug") ? "true" : undefined };
}

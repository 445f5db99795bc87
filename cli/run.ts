/** Parses the command line, runs one command and turns every outcome into an exit code. Never throws. */
import { Command, parseArgs, ParsedArgs } from "./args";
import { revokeEmergency } from "./commands/revoke";
import { rotate } from "./commands/rotate";
import { status } from "./commands/status";
import { verify } from "./commands/verify";
import { CliContext } from "./context";
import { outputFlags, resolveOptions } from "./options";
import { ExitCode, Output, Streams } from "./output";
import { USAGE } from "./usage";

export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv, streams: Streams): Promise<ExitCode> {
  let output = new Output(streams, { ...outputFlags(rawFlags(argv)), awsEndpointUrl: env.AWS_ENDPOINT_URL });
  let ctx: CliContext | undefined;
  try {
    const args = parseArgs(argv);
    if (args.command === Command.Help) {
      streams.stdout.write(`${USAGE}\n`);
      return ExitCode.Ok;
    }
    const options = resolveOptions(args, env);
    output = new Output(streams, options);
    ctx = new CliContext(options, output);
    return await dispatch(ctx, args);
  } catch (error) {
    return output.fail(error);
  } finally {
    ctx?.close();
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
    case Command.Help:
      return Promise.resolve(ExitCode.Ok);
  }
}

/** --json and --debug, read before parsing so that even a usage error is reported as asked. */
function rawFlags(argv: readonly string[]): ParsedArgs["options"] {
  return { json: argv.includes("--json") ? "true" : undefined, debug: argv.includes("--debug") ? "true" : undefined };
}

import { CliContext } from "../context";
import { CommandFailedError } from "../errors";
import { ExitCode } from "../output";

export async function audit(_ctx: CliContext, name: string): Promise<ExitCode> {
  throw new CommandFailedError("not_implemented", `audit ${name} is not implemented yet`);
}

import { ParsedArgs } from "../args";
import { CommandFailedError } from "../errors";
import { ExitCode, Output } from "../output";
import { Io } from "../run";

export interface DoctorRun {
  readonly args: ParsedArgs;
  readonly env: NodeJS.ProcessEnv;
  readonly io: Io;
  readonly output: Output;
}

export async function doctor(_run: DoctorRun): Promise<ExitCode> {
  throw new CommandFailedError("not_implemented", "doctor is not implemented yet");
}

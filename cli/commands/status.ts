import { computeTokenStatus } from "../../src/status/token-status";
import { renderStatusTable, statusRowsToJson } from "../../src/status/table";
import { CliContext } from "../context";
import { ExitCode } from "../output";

/** `status`: the environment's tokens as a table (or JSON). Problems are shown, and exit with code 3. */
export async function status(ctx: CliContext): Promise<ExitCode> {
  const secrets = await ctx.managedSecrets();
  const rows = secrets.length ? await computeTokenStatus({ store: ctx.store, backend: await ctx.backend(), clock: ctx.clock }, { secrets }) : [];
  ctx.output.data(statusRowsToJson(rows));
  ctx.output.text(renderStatusTable(rows, ctx.clock.now()));
  return rows.some((row) => row.problems.length) ? ExitCode.ProblemsFound : ExitCode.Ok;
}

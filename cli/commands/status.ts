import { computeTokenStatus } from "../../src/status/token-status";
import { renderStatusTable, statusRowsToJson } from "../../src/status/table";
import { CliContext } from "../context";
import { ExitCode } from "../output";

/** `status`: the environment's tokens as a table (or JSON). Problems are shown, not turned into a failure. */
export async function status(ctx: CliContext): Promise<ExitCode> {
  const entries = await ctx.managedTokens();
  const rows = entries.length ? await computeTokenStatus({ ledger: ctx.ledger, backend: await ctx.backend(), clock: ctx.clock }, { entries }) : [];
  ctx.output.data(statusRowsToJson(rows));
  ctx.output.text(renderStatusTable(rows, ctx.clock.now()));
  return ExitCode.Ok;
}

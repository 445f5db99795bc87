import { TokenOpsError } from "../../src/domain/errors";
import { GatewayBackend } from "../../src/gateway/backend";
import { computeTokenStatus } from "../../src/status/token-status";
import { renderStatusTable, statusRowsToJson } from "../../src/status/table";
import { CliContext } from "../context";
import { ExitCode } from "../output";

/**
 * `status`: the environment's tokens as a table (or JSON), from the ledger alone: no gateway credential, so a
 * read-only viewer can run it. `--live` also asks the gateway (with the admin token) whether each token is live and
 * when consumers last used it. Problems are shown, and exit with code 3.
 */
export async function status(ctx: CliContext): Promise<ExitCode> {
  const entries = await ctx.managedTokens();
  const backend = entries.length && ctx.options.live ? await backendIfAllowed(ctx) : undefined;
  const rows = entries.length ? await computeTokenStatus({ ledger: ctx.ledger, backend, clock: ctx.clock }, { entries }) : [];
  ctx.output.data(statusRowsToJson(rows));
  ctx.output.text(renderStatusTable(rows, ctx.clock.now()));
  return rows.some((row) => row.problems.length) ? ExitCode.ProblemsFound : ExitCode.Ok;
}

async function backendIfAllowed(ctx: CliContext): Promise<GatewayBackend | undefined> {
  try {
    return await ctx.backend();
  } catch (error) {
    if (!(error instanceof TokenOpsError && error.code === "store_AccessDeniedException")) throw error;
    ctx.output.warn("this role may not read the gateway admin token (read-only viewer): --live is not possible, status shows the ledger only");
    return undefined;
  }
}

import { TokenOpsError } from "../../src/domain/errors";
import { GatewayBackend } from "../../src/gateway/backend";
import { computeTokenStatus } from "../../src/status/token-status";
import { renderStatusTable, statusRowsToJson } from "../../src/status/table";
import { CliContext } from "../context";
import { ExitCode } from "../output";

/**
 * `status`: the environment's tokens as a table (or JSON), from the ledger. Problems are shown, not turned into a
 * failure. The gateway is asked about liveness and traffic when this role may read the admin token; a read-only
 * viewer (whose policy denies every secret value) gets the ledger's view alone.
 */
export async function status(ctx: CliContext): Promise<ExitCode> {
  const entries = await ctx.managedTokens();
  const backend = entries.length ? await backendIfAllowed(ctx) : undefined;
  const rows = entries.length ? await computeTokenStatus({ ledger: ctx.ledger, backend, clock: ctx.clock }, { entries }) : [];
  ctx.output.data(statusRowsToJson(rows));
  ctx.output.text(renderStatusTable(rows, ctx.clock.now()));
  return ExitCode.Ok;
}

async function backendIfAllowed(ctx: CliContext): Promise<GatewayBackend | undefined> {
  try {
    return await ctx.backend();
  } catch (error) {
    if (!(error instanceof TokenOpsError && error.code === "store_AccessDeniedException")) throw error;
    ctx.output.warn("this role may not read the gateway admin token (read-only viewer): status shows the ledger only, last traffic unknown");
    return undefined;
  }
}

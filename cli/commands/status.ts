import { TokenOpsError } from "../../src/domain/errors";
import { GatewayBackend } from "../../src/gateway/backend";
import { computeTokenStatus } from "../../src/status/token-status";
import { renderStatusTable, statusRowsToJson } from "../../src/status/table";
import { CliContext, GatewayChoice } from "../context";
import { ExitCode } from "../output";

/** `status`: the environment's tokens as a table (or JSON). Problems are shown, not turned into a failure. */
export async function status(ctx: CliContext): Promise<ExitCode> {
  const secrets = await ctx.managedSecrets();
  const gateway = secrets.length ? await backendOrTagsOnly(ctx) : undefined;
  const rows = gateway ? await computeTokenStatus({ store: ctx.store, backend: gateway.backend, clock: ctx.clock, readValues: gateway.readValues }, { secrets }) : [];
  ctx.output.data(statusRowsToJson(rows));
  ctx.output.text(renderStatusTable(rows, ctx.clock.now()));
  return ExitCode.Ok;
}

/**
 * The gateway, or, for a role that may not read the admin token (the read-only viewer policy denies every secret
 * value), a stand-in that answers nothing: status then comes from names and tags alone, with last traffic unknown.
 */
async function backendOrTagsOnly(ctx: CliContext): Promise<{ backend: GatewayBackend; readValues: boolean }> {
  try {
    return { backend: await ctx.backend(), readValues: true };
  } catch (error) {
    if (!(error instanceof TokenOpsError && error.code === "store_AccessDeniedException")) throw error;
    // A role that may not read the admin token reads no other value either (the viewer policy denies them all).
    return { backend: withoutAdminToken(await ctx.gateway()), readValues: false };
  }
}

function withoutAdminToken(gateway: GatewayChoice): GatewayBackend {
  const refuse = () => Promise.reject(new Error("this role may not read the gateway admin token (read-only viewer); status shows names and tags only"));
  return { kind: gateway.kind, url: gateway.url, trafficShowsCaller: false, whoami: refuse, mint: refuse, describe: refuse, findByName: refuse, revoke: refuse, traffic: refuse };
}

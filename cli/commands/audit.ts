import { TokenStatus } from "../../src/gateway/backend";
import { Stage } from "../../src/store/token-store";
import { AuditedToken, buildAuditReport, renderAuditReport } from "../audit/report";
import { parseTimeOption } from "../audit/time";
import { CliContext } from "../context";
import { ExitCode } from "../output";

/** The window audited when --since is not given: a week, the guide's "recent activity". */
const DEFAULT_SINCE = "7d";

/**
 * `audit NAME [--since T] [--new-after T] [--token-id ID]`: the request logs of the token's current, pending and
 * previous tokens (and any named ID) by consumer, endpoint and status. Exit code 3 when something is flagged.
 */
export async function audit(ctx: CliContext, name: string): Promise<ExitCode> {
  const now = ctx.clock.now();
  const since = parseTimeOption("since", ctx.options.since ?? DEFAULT_SINCE, now);
  const newAfter = ctx.options.newAfter === undefined ? undefined : parseTimeOption("new-after", ctx.options.newAfter, now);
  const secret = await ctx.findToken(name);

  // The token IDs come from the ledger, never from a secret's value (which others can write).
  const ids = new Map<string, string>();
  const { state } = secret;
  for (const [token, role] of [[state.current, Stage.Current], [state.pending, Stage.Pending], [state.retiring, Stage.Previous]] as const) {
    if (token && !ids.has(token.tokenId)) ids.set(token.tokenId, role);
  }
  if (ctx.options.tokenId && !ids.has(ctx.options.tokenId)) ids.set(ctx.options.tokenId, "--token-id");

  const backend = await ctx.backend();
  const tokens: AuditedToken[] = [];
  for (const [tokenId, role] of ids) {
    const meta = await backend.describe(tokenId);
    const entries = meta ? await backend.traffic(tokenId, since) : [];
    const revokedAt = meta?.status === TokenStatus.Revoked ? (meta.revokedAt ?? null) : null;
    tokens.push({ tokenId, role, status: meta?.status ?? null, revokedAt, entries });
  }

  const report = buildAuditReport(tokens, since, newAfter);
  ctx.output.data({ name, secretName: secret.declaration.secretName, ...report });
  ctx.output.text(renderAuditReport(name, report));
  return report.flagged ? ExitCode.ProblemsFound : ExitCode.Ok;
}

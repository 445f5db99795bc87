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

  const ids = new Map<string, string>();
  for (const stage of [Stage.Current, Stage.Pending, Stage.Previous]) {
    if (!secret.stages[stage]) continue;
    const record = await ctx.store.read(secret.name, stage);
    if (record && !ids.has(record.tokenId)) ids.set(record.tokenId, stage);
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
  ctx.output.data({ name, secretName: secret.name, ...report });
  ctx.output.text(renderAuditReport(name, report));
  return report.flagged ? ExitCode.ProblemsFound : ExitCode.Ok;
}

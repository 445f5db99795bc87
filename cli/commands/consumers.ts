import { formatDuration } from "../../src/domain/duration";
import { ConsumerSeen } from "../../src/gateway/backend";
import { judgeConsumers, oldConsumersSince } from "../../src/rotation/consumer-evidence";
import { shortDate } from "../../src/status/table";
import { CliContext } from "../context";
import { CommandFailedError } from "../errors";
import { ExitCode } from "../output";

/** One consumer of NAME's tokens: which token it was last seen on, when, and whether it holds a drain up. */
export interface ConsumerRow {
  readonly consumer: string;
  /** "new" (the current token), "old" (the retiring one), or "both" */
  readonly on: "new" | "old" | "both";
  readonly lastSeenOnNew: string | null;
  readonly lastSeenOnOld: string | null;
  readonly requests: number;
  readonly lastStatus: number;
  /** The rotator would wait for it: seen on the retiring token and neither moved nor silent long enough. */
  readonly stillOnOldToken: boolean;
}

/**
 * `consumers NAME`: who calls with NAME's current and retiring tokens (the gateway's consumers aggregate), each with
 * when it was last seen on which, and the ones a drain waits for. Exit code 3 when consumers are still on the old token.
 */
export async function consumers(ctx: CliContext, name: string): Promise<ExitCode> {
  const entry = await ctx.findToken(name);
  const { state, declaration } = entry;
  if (!state.current) {
    throw new CommandFailedError("no_current_token", `${name} has no current token recorded in the ledger`, { hint: `run \`openclaw-tokens rotate ${name}\` (or pulumi up) to issue one` });
  }
  const backend = await ctx.backend();
  const now = ctx.clock.now();
  const cacheTtlMs = declaration.consumerCacheTtlSeconds * 1000;
  // The window a drain judges; without one, the last day (the gateway's per-minute tallies reach back 24 hours).
  const since = state.retiring && state.promotedAt ? oldConsumersSince(state.promotedAt, cacheTtlMs) : new Date(now.getTime() - 86_400_000);
  const onNew = await backend.consumers(state.current.tokenId, state.promotedAt ?? since);
  const onOld: ConsumerSeen[] = state.retiring ? await backend.consumers(state.retiring.tokenId, since).catch(() => []) : [];
  const evidence = judgeConsumers(onOld, onNew, { now, consumerCacheTtlMs: cacheTtlMs, settleMs: 0 });
  const holding = new Set(evidence.stillOnOld.map((v) => v.consumer));

  const names = [...new Set([...onNew, ...onOld].map((c) => c.consumer))];
  const rows: ConsumerRow[] = names.map((consumer) => {
    const n = onNew.find((c) => c.consumer === consumer);
    const o = onOld.find((c) => c.consumer === consumer);
    const latest = [n, o].filter((c): c is ConsumerSeen => !!c).reduce((a, b) => (a.lastSeenAt >= b.lastSeenAt ? a : b));
    return {
      consumer,
      on: n && o ? "both" : n ? "new" : "old",
      lastSeenOnNew: n?.lastSeenAt.toISOString() ?? null,
      lastSeenOnOld: o?.lastSeenAt.toISOString() ?? null,
      requests: (n?.requests ?? 0) + (o?.requests ?? 0),
      lastStatus: latest.lastStatus,
      stillOnOldToken: holding.has(consumer),
    };
  });
  rows.sort((a, b) => Number(b.stillOnOldToken) - Number(a.stillOnOldToken) || a.consumer.localeCompare(b.consumer));
  ctx.output.data({ name, tokenId: state.current.tokenId, retiringTokenId: state.retiring?.tokenId ?? null, phase: state.phase, consumers: rows });
  ctx.output.text(renderConsumers(rows, now, state.retiring?.tokenId));
  return holding.size ? ExitCode.ProblemsFound : ExitCode.Ok;
}

const COLUMNS = ["CONSUMER", "ON", "LAST SEEN (NEW)", "LAST SEEN (OLD)", "REQUESTS", "LAST STATUS", ""];

function renderConsumers(rows: readonly ConsumerRow[], now: Date, retiringTokenId: string | undefined): string {
  if (!rows.length) return "No consumers seen.";
  const ago = (iso: string | null) => (iso ? `${shortDate(new Date(iso))} (${formatDuration(Math.max(0, (now.getTime() - Date.parse(iso)) / 1000))} ago)` : "-");
  const cells = rows.map((r) => [r.consumer, r.on, ago(r.lastSeenOnNew), ago(r.lastSeenOnOld), String(r.requests), String(r.lastStatus), r.stillOnOldToken ? "still on the old token" : ""]);
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...cells.map((c) => c[i].length)));
  const line = (values: readonly string[]) => values.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  const still = rows.filter((r) => r.stillOnOldToken).length;
  const footer = retiringTokenId ? [`${still} consumer${still === 1 ? "" : "s"} still on the old token ${retiringTokenId}`] : [];
  return [line(COLUMNS), ...cells.map(line), ...(footer.length ? ["", ...footer] : [])].join("\n");
}

/**
 * The local run's per-consumer report: for each token, which consumers (by their X-OpenClaw-Consumer header) the
 * gateway saw on the current token and on the token it replaced, so that a newcomer sees the evidence the rotator
 * drains on. Identities and token IDs only: never a token value.
 */
import { ConsumerSeen, GatewayBackend } from "../src/gateway/backend";
import { TokenStatusRow } from "../src/status/token-status";

/** A token that was retired during the run, and when its successor was promoted. */
export interface RetiredToken {
  readonly tokenId: string;
  readonly promotedAt: Date | undefined;
}

/** One report line per token and role; `consumers` is what the gateway answered, or why it could not. */
export interface ConsumerReportLine {
  readonly name: string;
  readonly role: "current" | "retiring";
  readonly tokenId: string;
  readonly consumers: readonly ConsumerSeen[] | { readonly error: string };
  /** For the retiring token: when the new token was promoted, to tell the calls after it. */
  readonly promotedAt?: Date;
}

/**
 * Asks the gateway, per token, for the consumers of its current token (since it was issued) and of its retiring one
 * (the row's, while a rotation drains; else the last one the run retired), all time so the move is visible.
 */
export async function consumerReport(
  backend: Pick<GatewayBackend, "consumers">,
  rows: readonly TokenStatusRow[],
  retired: ReadonlyMap<string, RetiredToken>,
): Promise<ConsumerReportLine[]> {
  const lines: ConsumerReportLine[] = [];
  const ask = async (tokenId: string, since?: Date) =>
    backend.consumers(tokenId, since).catch((error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }));
  for (const row of rows) {
    if (row.tokenId) lines.push({ name: row.name, role: "current", tokenId: row.tokenId, consumers: await ask(row.tokenId, row.issuedAt) });
    const retiring = row.retiringTokenId ? { tokenId: row.retiringTokenId, promotedAt: undefined } : retired.get(row.name);
    if (retiring) lines.push({ name: row.name, role: "retiring", tokenId: retiring.tokenId, consumers: await ask(retiring.tokenId), promotedAt: retiring.promotedAt });
  }
  return lines;
}

/** "ci-runner    current  tok_…  ci-runner-worker (812 requests, last status 201)". */
export function renderConsumerReport(lines: readonly ConsumerReportLine[]): string[] {
  return lines.map((line) => {
    const head = `${line.name.padEnd(12)} ${line.role.padEnd(8)} ${line.tokenId}`;
    if ("error" in line.consumers) return `${head}  consumers unknown: ${line.consumers.error}`;
    if (line.consumers.length === 0) return `${head}  no consumers`;
    const seen = line.consumers.map((c) => `${c.consumer} (${c.requests} requests, last status ${c.lastStatus}${afterPromotion(c, line.promotedAt)})`);
    return `${head}  ${seen.join(", ")}`;
  });
}

/** How long after the promotion a consumer last used the retiring token: its secrets cache, at most. */
function afterPromotion(consumer: ConsumerSeen, promotedAt: Date | undefined): string {
  if (!promotedAt) return "";
  const seconds = (consumer.lastSeenAt.getTime() - promotedAt.getTime()) / 1000;
  return seconds <= 0 ? ", none after the promotion" : `, last seen ${seconds.toFixed(1)}s after the promotion`;
}

/**
 * The leak response's third step ("check request logs for calls you did not make"): a token's request log
 * grouped by consumer (User-Agent), endpoint and status, with what deserves a look flagged.
 */
import { OWN_USER_AGENT_PREFIX, TrafficEntry } from "../../src/gateway/backend";

/** One token whose log is audited, and what the gateway and the secret say about it. */
export interface AuditedToken {
  readonly tokenId: string;
  /** Where the ID came from: AWSCURRENT, AWSPREVIOUS, AWSPENDING or --token-id. */
  readonly role: string;
  readonly status: string | null;
  readonly revokedAt: Date | null;
  readonly entries: readonly TrafficEntry[];
}

export interface ConsumerSummary {
  readonly consumer: string;
  readonly requests: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly tokenIds: readonly string[];
  readonly endpoints: ReadonlyArray<{ readonly endpoint: string; readonly status: number; readonly count: number }>;
  /** First seen after --new-after. */
  readonly newConsumer: boolean;
  /** Requests made with a token after its revocation. */
  readonly afterRevocation: number;
}

export interface AuditReport {
  readonly since: string;
  readonly newAfter: string | null;
  /** Each audited token; `requests` counts consumers' requests only, like `consumers`. */
  readonly tokens: ReadonlyArray<{ readonly tokenId: string; readonly role: string; readonly status: string | null; readonly revokedAt: string | null; readonly requests: number; readonly truncated: boolean }>;
  readonly consumers: readonly ConsumerSummary[];
  /** Calls this project made (provider, rotator, CLI), left out of the consumers. */
  readonly ownRequests: number;
  readonly flagged: number;
}

/** The gateway keeps the last 1000 entries per token: a full page may not reach back to --since. */
export const LOG_PAGE = 1000;
export const NO_USER_AGENT = "(no User-Agent)";

export function buildAuditReport(tokens: readonly AuditedToken[], since: Date, newAfter: Date | undefined): AuditReport {
  const byConsumer = new Map<string, Array<{ entry: TrafficEntry; token: AuditedToken }>>();
  let ownRequests = 0;
  for (const token of tokens) {
    for (const entry of token.entries) {
      if (entry.userAgent.startsWith(OWN_USER_AGENT_PREFIX)) {
        ownRequests++;
        continue;
      }
      const consumer = entry.userAgent || NO_USER_AGENT;
      byConsumer.set(consumer, [...(byConsumer.get(consumer) ?? []), { entry, token }]);
    }
  }
  const consumers = [...byConsumer].map(([consumer, calls]): ConsumerSummary => {
    calls.sort((a, b) => a.entry.at.getTime() - b.entry.at.getTime());
    const endpoints = new Map<string, { endpoint: string; status: number; count: number }>();
    for (const { entry } of calls) {
      const endpoint = `${entry.method} ${entry.path}`;
      const key = `${endpoint} ${entry.status}`;
      const seen = endpoints.get(key) ?? { endpoint, status: entry.status, count: 0 };
      endpoints.set(key, { ...seen, count: seen.count + 1 });
    }
    const first = calls[0].entry.at;
    return {
      consumer,
      requests: calls.length,
      firstSeen: first.toISOString(),
      lastSeen: calls[calls.length - 1].entry.at.toISOString(),
      tokenIds: [...new Set(calls.map((c) => c.token.tokenId))],
      endpoints: [...endpoints.values()].sort((a, b) => b.count - a.count || a.endpoint.localeCompare(b.endpoint)),
      newConsumer: newAfter !== undefined && first.getTime() > newAfter.getTime(),
      afterRevocation: calls.filter((c) => c.token.revokedAt && c.entry.at.getTime() >= c.token.revokedAt.getTime()).length,
    };
  });
  consumers.sort((a, b) => a.firstSeen.localeCompare(b.firstSeen));
  return {
    since: since.toISOString(),
    newAfter: newAfter?.toISOString() ?? null,
    tokens: tokens.map((t) => ({
      tokenId: t.tokenId,
      role: t.role,
      status: t.status,
      revokedAt: t.revokedAt?.toISOString() ?? null,
      requests: t.entries.filter((e) => !e.userAgent.startsWith(OWN_USER_AGENT_PREFIX)).length,
      truncated: t.entries.length >= LOG_PAGE,
    })),
    consumers,
    ownRequests,
    flagged: consumers.filter((c) => c.newConsumer || c.afterRevocation > 0).length,
  };
}

export function renderAuditReport(name: string, report: AuditReport): string {
  const lines = [`${name}: requests since ${report.since}${report.newAfter ? `, consumers new after ${report.newAfter} flagged` : ""}`, ""];
  lines.push("tokens:");
  for (const t of report.tokens) {
    const revoked = t.revokedAt ? `, revoked ${t.revokedAt}` : "";
    lines.push(`  ${t.tokenId}  ${t.role}, ${t.status ?? "unknown to the gateway"}${revoked}: ${t.requests} request${t.requests === 1 ? "" : "s"}${t.truncated ? ` (the gateway's last ${LOG_PAGE}; older ones are in its requests.jsonl)` : ""}`);
  }
  lines.push("");
  if (!report.consumers.length) lines.push("No consumer requests in the window.");
  for (const c of report.consumers) {
    const flags = [c.newConsumer ? "NEW CONSUMER" : "", c.afterRevocation ? `${c.afterRevocation} AFTER REVOCATION` : ""].filter(Boolean);
    lines.push(`${c.consumer}${flags.length ? `  [${flags.join(", ")}]` : ""}`);
    lines.push(`  ${c.requests} request${c.requests === 1 ? "" : "s"}, first ${c.firstSeen}, last ${c.lastSeen}, token ${c.tokenIds.join(", ")}`);
    for (const e of c.endpoints) lines.push(`  ${String(e.count).padStart(5)}  ${e.status}  ${e.endpoint}`);
  }
  if (report.ownRequests) lines.push("", `(${report.ownRequests} request${report.ownRequests === 1 ? "" : "s"} by openclaw-token-ops itself left out)`);
  lines.push(
    "",
    report.flagged
      ? `${report.flagged} consumer${report.flagged === 1 ? "" : "s"} flagged: check that these calls are yours; a call you did not make means the token was used by someone else.`
      : "Nothing flagged.",
  );
  return lines.join("\n");
}

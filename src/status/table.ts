/**
 * Renders status rows for people (an aligned text table, then one line per problem or warning) and for programs
 * (plain JSON with ISO timestamps). Pure functions of the rows and "now": no console, no process.
 */
import { formatDuration } from "../domain/duration";
import { LastTraffic, StatusPhase, TokenStatusRow } from "./token-status";

const COLUMNS = ["NAME", "PHASE", "TOKEN ID", "SCOPES", "AGE", "TTL USED", "NEXT ROTATION", "LAST TRAFFIC", "RETIRING"] as const;

/** Phases in which a rotation is running right now: the due time of the token being replaced means nothing then. */
const UNDER_WAY: ReadonlySet<StatusPhase> = new Set([StatusPhase.Creating, StatusPhase.Minting, StatusPhase.Staged]);

/** Placeholder for a value that does not apply; "?" stands for one that could not be found out. */
const NONE = "-";
const UNKNOWN = "?";

/**
 * The rows as a table, columns padded to their widest cell, followed by every row's problems and warnings on lines
 * of their own ("ci-runner: problem: ..."). Ends without a newline.
 */
export function renderStatusTable(rows: readonly TokenStatusRow[], now: Date): string {
  if (rows.length === 0) return "No managed tokens.";
  const cells = rows.map((row) => [
    row.name,
    row.phase,
    row.tokenId ?? UNKNOWN,
    row.scopes ? row.scopes.join(",") || NONE : UNKNOWN,
    row.ageSeconds === undefined ? UNKNOWN : formatDuration(row.ageSeconds),
    row.ttlUsedPercent === undefined ? UNKNOWN : formatPercent(row.ttlUsedPercent),
    nextRotation(row, now),
    trafficText(row.lastTraffic, now),
    row.retiringTokenId ? `${row.retiringTokenId} (${retiringUse(row, now)})` : NONE,
  ]);
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...cells.map((c) => c[i].length)));
  const line = (values: readonly string[]) => values.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  const notes = rows.flatMap((row) => [
    ...row.problems.map((p) => `${row.name}: problem: ${p}`),
    ...row.warnings.map((w) => `${row.name}: warning: ${w}`),
  ]);
  return [line(COLUMNS), ...cells.map(line), ...(notes.length ? ["", ...notes] : [])].join("\n");
}

/** A row as plain JSON: timestamps as ISO strings, absent values as null, the last traffic flattened. */
export interface TokenStatusJson {
  readonly name: string;
  readonly secretName: string;
  readonly tokenId: string | null;
  readonly scopes: readonly string[] | null;
  readonly phase: StatusPhase;
  readonly issuedAt: string | null;
  readonly expiresAt: string | null;
  readonly ageSeconds: number | null;
  readonly ttlSeconds: number | null;
  readonly ttlUsedPercent: number | null;
  readonly nextRotationAt: string | null;
  /** When the current token was last used; null if never used or unknown (see lastUsedKnown). */
  readonly lastUsedAt: string | null;
  /** False when the gateway could not be asked (a warning says why). */
  readonly lastUsedKnown: boolean;
  readonly retiringTokenId: string | null;
  /** When a consumer last used the retiring token since the new one was promoted; null if not since, or unknown. */
  readonly retiringLastUsedAt: string | null;
  /** Consumers the rotator last saw still on the retiring token; null without one. */
  readonly consumersOnOldToken: number | null;
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}

export function statusRowsToJson(rows: readonly TokenStatusRow[]): TokenStatusJson[] {
  return rows.map((row) => ({
    name: row.name,
    secretName: row.secretName,
    tokenId: row.tokenId ?? null,
    scopes: row.scopes ?? null,
    phase: row.phase,
    issuedAt: row.issuedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    ageSeconds: row.ageSeconds ?? null,
    ttlSeconds: row.ttlSeconds ?? null,
    ttlUsedPercent: row.ttlUsedPercent ?? null,
    nextRotationAt: row.nextRotationAt?.toISOString() ?? null,
    lastUsedAt: row.lastTraffic.kind === "used" ? row.lastTraffic.at.toISOString() : null,
    lastUsedKnown: row.lastTraffic.kind !== "unknown",
    retiringTokenId: row.retiringTokenId ?? null,
    retiringLastUsedAt: row.retiringLastTraffic?.kind === "used" ? row.retiringLastTraffic.at.toISOString() : null,
    consumersOnOldToken: row.consumersOnOldToken ?? null,
    problems: row.problems,
    warnings: row.warnings,
  }));
}

/** An ISO timestamp cut to the minute: "2026-07-01 10:00Z". */
export function shortDate(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")}Z`;
}

function formatPercent(percent: number): string {
  return percent > 0 && percent < 1 ? "<1%" : `${Math.round(percent)}%`;
}

function nextRotation(row: TokenStatusRow, now: Date): string {
  if (UNDER_WAY.has(row.phase)) return "under way";
  if (!row.nextRotationAt) return UNKNOWN;
  const seconds = (row.nextRotationAt.getTime() - now.getTime()) / 1000;
  const relative = seconds > 0 ? `in ${formatDuration(seconds)}` : `overdue ${formatDuration(-seconds)}`;
  return `${shortDate(row.nextRotationAt)} (${relative})`;
}

function trafficText(traffic: LastTraffic, now: Date): string {
  switch (traffic.kind) {
    case "never":
      return "never";
    case "unknown":
      return UNKNOWN;
    case "used":
      return `${formatDuration((now.getTime() - traffic.at.getTime()) / 1000)} ago`;
  }
}

/** The retiring token's use since promotion: what the rotator waits on before it revokes the token. */
function retiringUse(row: TokenStatusRow, now: Date): string {
  const traffic = row.retiringLastTraffic;
  const still = row.consumersOnOldToken ? `, ${row.consumersOnOldToken} consumer${row.consumersOnOldToken === 1 ? "" : "s"} still on it` : "";
  if (!traffic || traffic.kind === "unknown") return `used ${UNKNOWN}${still}`;
  return (traffic.kind === "never" ? "unused since rotation" : `used ${trafficText(traffic, now)}`) + still;
}

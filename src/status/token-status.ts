/**
 * One environment's managed tokens at a glance: where each one's rotation stands, how old it is, when it falls
 * due, and whether consumers use it. Everything but the traffic comes from the ledger (never from a secret's tags or
 * value, which others can write); the gateway, when given, is asked whether each live token is live and used.
 * Never prints, exits or logs, so that any front end can render it.
 *
 * "Last traffic" is the last request by a consumer: this project's own calls (the rotator's whoami of a new token,
 * `verify`) are left out, as the rotator leaves them out when it decides whether consumers have moved.
 */
import { Clock } from "../domain/clock";
import { redactTokens } from "../domain/redact";
import { GatewayBackend, OWN_USER_AGENT_PREFIX, TokenStatus } from "../gateway/backend";
import { dueAt, Ledger, LedgerEntry, LedgerPhase } from "../ledger/ledger";
import { DEFAULT_SETTINGS } from "../rotation/settings";

/** A token's phase as the status shows it: the rotation phases, with "idle" split into "idle" and "due". */
export const StatusPhase = {
  Creating: LedgerPhase.Creating,
  Idle: LedgerPhase.Idle,
  /** Idle and past its due time: the next scheduled run starts a rotation. */
  Due: "due",
  Minting: LedgerPhase.Minting,
  Staged: LedgerPhase.Staged,
  Draining: LedgerPhase.Draining,
  /** The old token is suspended for the grace window before its revocation. */
  Suspended: LedgerPhase.Suspended,
  Revoking: LedgerPhase.Revoking,
  /** Another environment's gateway, or a token the gateway refuses: the rotator reports it. */
  BadState: "bad-state",
} as const;
export type StatusPhase = (typeof StatusPhase)[keyof typeof StatusPhase];

/** When a consumer last used a token, as far as the gateway could tell us. */
export type LastTraffic =
  | { readonly kind: "used"; readonly at: Date }
  | { readonly kind: "never" }
  /** The gateway could not be asked (see the row's warnings). */
  | { readonly kind: "unknown" };

/** One managed token. Identifies tokens by name and ID only: no value is ever part of a row. */
export interface TokenStatusRow {
  /** The declared token name. */
  readonly name: string;
  readonly secretName: string;
  /** The current token's ID on the gateway; undefined while the token is being created. */
  readonly tokenId: string | undefined;
  /** The declared scopes (every mint gets exactly these). */
  readonly scopes: readonly string[] | undefined;
  readonly phase: StatusPhase;
  readonly issuedAt: Date | undefined;
  readonly expiresAt: Date | undefined;
  /** now - issuedAt. */
  readonly ageSeconds: number | undefined;
  readonly ttlSeconds: number | undefined;
  /** Share of the TTL already used, in percent (may pass 100 for an expired token). */
  readonly ttlUsedPercent: number | undefined;
  /** When the token falls due for rotation (a fraction of its TTL, and in any case before expiry). */
  readonly nextRotationAt: Date | undefined;
  /** The current token's last use by a consumer. */
  readonly lastTraffic: LastTraffic;
  /** The superseded token still valid while consumers move off it (phase "draining"). */
  readonly retiringTokenId: string | undefined;
  /** The retiring token's last use by a consumer since the new one was promoted ("never" once they all moved). */
  readonly retiringLastTraffic: LastTraffic | undefined;
  /** How many consumers the rotator last saw still on the retiring token (from the ledger; names: `consumers NAME`). */
  readonly consumersOnOldToken: number | undefined;
  /** What is wrong with the token or its secret; the rotator will not touch a "bad-state" token. */
  readonly problems: readonly string[];
  /** What could not be found out (the gateway did not answer); the row is otherwise right. */
  readonly warnings: readonly string[];
}

export interface TokenStatusDependencies {
  readonly ledger: Ledger;
  /** The environment's gateway, for liveness and traffic; without it the rows say what the ledger says. */
  readonly backend?: GatewayBackend;
  readonly clock: Clock;
}

export interface TokenStatusOptions {
  /** A token is due this long before expiry even if its rotation fraction says later. @default 1 hour (the rotator's) */
  readonly expiryMarginMs?: number;
  /** The environment's ledger entries, if the caller has listed them already. @default ledger.list() */
  readonly entries?: readonly LedgerEntry[];
}

/** One row per managed token of the ledger, sorted by name. A failing token never fails the table. */
export async function computeTokenStatus(deps: TokenStatusDependencies, options: TokenStatusOptions = {}): Promise<TokenStatusRow[]> {
  const entries = options.entries ?? (await listAll(deps.ledger));
  const now = deps.clock.now();
  const margin = options.expiryMarginMs ?? DEFAULT_SETTINGS.expiryMarginMs;
  const rows = await Promise.all(entries.map((entry) => rowOf(deps, entry, now, margin)));
  return rows.sort((a, b) => a.name.localeCompare(b.name));
}

async function listAll(ledger: Ledger): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  for await (const entry of ledger.list()) entries.push(entry);
  return entries;
}

async function rowOf(deps: TokenStatusDependencies, entry: LedgerEntry, now: Date, marginMs: number): Promise<TokenStatusRow> {
  const { declaration: d, state } = entry;
  const current = state.current;
  const backend = deps.backend;
  const ownGateway = !backend || (sameUrl(d.gatewayUrl, backend.url) && d.backend === backend.kind);
  const gateway: GatewayView =
    backend && ownGateway && current
      ? await gatewayView(backend, current.tokenId, current.issuedAt, state.phase === LedgerPhase.Draining || state.phase === LedgerPhase.Suspended ? state.retiring?.tokenId : undefined, state.promotedAt)
      : { traffic: UNKNOWN, retiringTraffic: undefined };
  const stateProblems = [
    ...(ownGateway ? [] : [`belongs to ${d.gatewayUrl} (${d.backend}), not this environment's gateway ${backend?.url} (${backend?.kind})`]),
    ...(state.lastError ? [`last run: ${state.lastError}`] : []),
  ];
  const due = current ? dueAt(current, d, marginMs) : undefined;
  const phase: StatusPhase = !ownGateway
    ? StatusPhase.BadState
    : state.phase === LedgerPhase.Idle && due && now >= due
      ? StatusPhase.Due
      : state.phase;
  const ageMs = current ? now.getTime() - current.issuedAt.getTime() : undefined;
  return {
    name: d.name,
    secretName: d.secretName,
    tokenId: current?.tokenId,
    scopes: d.scopes,
    phase,
    issuedAt: current?.issuedAt,
    expiresAt: current?.expiresAt,
    ageSeconds: ageMs === undefined ? undefined : Math.max(0, Math.round(ageMs / 1000)),
    ttlSeconds: d.ttlSeconds,
    ttlUsedPercent: ageMs === undefined ? undefined : Math.max(0, Math.round((ageMs / (d.ttlSeconds * 1000)) * 1000) / 10),
    nextRotationAt: due,
    lastTraffic: gateway.traffic,
    retiringTokenId: state.retiring?.tokenId,
    retiringLastTraffic: gateway.retiringTraffic,
    consumersOnOldToken: state.retiring ? (state.consumersOnOldToken?.length ?? 0) : undefined,
    problems: [...stateProblems, ...(gateway.problem ? [gateway.problem] : [])],
    warnings: gateway.warning ? [gateway.warning] : [],
  };
}
interface GatewayView {
  readonly traffic: LastTraffic;
  readonly retiringTraffic: LastTraffic | undefined;
  readonly problem?: string;
  readonly warning?: string;
}

const UNKNOWN: LastTraffic = { kind: "unknown" };

/**
 * What the gateway says about the current token (is it live?) and when consumers last used it, and the retiring
 * token's use since promotion. A gateway that does not answer costs a warning, not the row.
 */
async function gatewayView(backend: GatewayBackend, tokenId: string, issuedAt: Date, retiringTokenId: string | undefined, promotedAt: Date | undefined): Promise<GatewayView> {
  try {
    const [token, traffic, retiringTraffic] = await Promise.all([
      backend.describe(tokenId),
      lastConsumerUse(backend, tokenId, issuedAt),
      retiringTokenId ? lastConsumerUse(backend, retiringTokenId, promotedAt ?? issuedAt) : undefined,
    ]);
    if (!token) {
      return { traffic, retiringTraffic, problem: `token ${tokenId} is unknown to the gateway; issue a new one with \`openclaw-tokens rotate\`` };
    }
    if (token.status !== TokenStatus.Active) {
      return {
        traffic,
        retiringTraffic,
        problem: `token ${tokenId} is ${token.status} on the gateway; consumers are refused until a new one is issued (\`openclaw-tokens rotate\`)`,
      };
    }
    return { traffic, retiringTraffic };
  } catch (error) {
    return { traffic: UNKNOWN, retiringTraffic: retiringTokenId ? UNKNOWN : undefined, warning: `last traffic unknown: ${describe(error)}` };
  }
}

/** The newest request with a token after `since` that was not made by this project's own tools. */
async function lastConsumerUse(backend: GatewayBackend, tokenId: string, since: Date): Promise<LastTraffic> {
  const entries = await backend.traffic(tokenId, since);
  // A request without a User-Agent is a consumer's too.
  const last = entries.filter((e) => !(e.userAgent ?? "").startsWith(OWN_USER_AGENT_PREFIX)).at(-1);
  return last ? { kind: "used", at: last.at } : { kind: "never" };
}

function describe(error: unknown): string {
  return redactTokens(error instanceof Error ? error.message : String(error));
}

function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, "") === b.replace(/\/+$/, "");
}


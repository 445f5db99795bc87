/**
 * The ledger: one item per managed token, the only state the rotator, the provider and the CLI decide anything from.
 * It lives in a DynamoDB table that only the deployer (provider) and the rotator (and an operator's leak response) may
 * write, unlike a secret's tags and values, which many principals of an account can write (docs/threat-model.md).
 *
 * An entry has three parts:
 *  - the declaration (name, scopes, TTL, gateway...): written by the provider on `pulumi up`, never by the rotator;
 *  - the rotation state (phase, token IDs and expiries, the Secrets Manager version of each token, a SHA-256 of each
 *    value): written by whoever holds the entry's lease;
 *  - a version number that every write increments and is conditional on: the fence that makes concurrent actors
 *    (scheduled runs, the leak response, pulumi up/destroy, Secrets Manager's own rotation steps) exclude each other
 *    without trusting any clock.
 */
import { Environment } from "../domain/environments";
import { TokenOpsError } from "../domain/errors";

/** Where a token's rotation stands, as recorded in the ledger (never derived from tags). */
export const LedgerPhase = {
  /** The provider recorded the mint name of a token it is creating; no secret may exist yet. */
  Creating: "creating",
  /** One live token, AWSCURRENT; the token may be due. */
  Idle: "idle",
  /** A rotation's intent is recorded (mint name, version ID) before anything is minted. */
  Minting: "minting",
  /** The new token is stored as AWSPENDING: verify, then promote it. */
  Staged: "staged",
  /** The new token is AWSCURRENT; the old one stays valid until consumers have moved off it. */
  Draining: "draining",
  /**
   * Consumers moved: the old token is suspended for a grace window (a reversible stop) before it is revoked. A refused
   * call with it during the window reinstates it and puts the drain back to waiting.
   */
  Suspended: "suspended",
  /** The old token is being revoked (recorded before the revocation, so a resumed run never mistakes 401s for consumers). */
  Revoking: "revoking",
} as const;
export type LedgerPhase = (typeof LedgerPhase)[keyof typeof LedgerPhase];

/** What a stack declares for a token: written only by the provider. */
export interface Declaration {
  readonly name: string;
  readonly secretName: string;
  readonly environment: Environment;
  readonly gatewayUrl: string;
  readonly backend: string;
  /** The scopes every mint of this token gets, canonical order. */
  readonly scopes: readonly string[];
  readonly allowAdminScope: boolean;
  readonly ttlSeconds: number;
  readonly rotationFraction: number;
  /** How long consumers may cache the token: the drain waits this (plus a margin) for a silent consumer. */
  readonly consumerCacheTtlSeconds: number;
}

/** The consumer cache TTL an entry written before it was declared gets: the AWS caching clients' default. */
export const DEFAULT_CONSUMER_CACHE_TTL_SECONDS = 3600;

/** A token the ledger knows to be live (or to have been live): the gateway's ID and name, and where its value is. */
export interface LedgerToken {
  readonly tokenId: string;
  /** The token's name on the gateway: the second witness that a token belongs to this entry before it is revoked. */
  readonly gatewayName: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  /** The Secrets Manager version holding its value. */
  readonly versionId: string;
  /** SHA-256 (hex) of the value: a value read back from Secrets Manager is used only if it matches. */
  readonly valueSha256: string;
}

/** A token as the gateway names it: enough to revoke it after checking the gateway's own record. */
export type TokenRef = Pick<LedgerToken, "tokenId" | "gatewayName">;

/** A rotation under way: recorded before anything is minted. */
export interface RotationIntent {
  readonly id: string;
  /** The unique gateway name this attempt mints under; a crash after minting is found by it. */
  readonly mintName: string;
  /** The Secrets Manager version this attempt stores its token as (new per attempt: versions are immutable). */
  readonly versionId: string;
  readonly startedAt: Date;
  /** Who started it: "schedule", "operator", "secrets-manager", "provider". */
  readonly origin: string;
}

/** A mint name whose tokens must be revoked: an abandoned attempt whose mint may still land after it was abandoned. */
export interface AbandonedMint {
  readonly mintName: string;
  /** When it was abandoned (the abandoning actor's clock); swept until well past any in-flight mint. */
  readonly at: Date;
}

/** Who may step the entry now. Expiry is judged with a bounded clock skew (see isLeaseFree). */
export interface LeaseRecord {
  readonly owner: string;
  /** The holder's clock when it last took or renewed the lease. */
  readonly renewedAt: Date;
  readonly ttlMs: number;
}

export interface RotationState {
  readonly phase: LedgerPhase;
  readonly current: LedgerToken | undefined;
  readonly pending: LedgerToken | undefined;
  readonly retiring: LedgerToken | undefined;
  readonly rotation: RotationIntent | undefined;
  /** When the current token became AWSCURRENT (draining counts consumer traffic from then). */
  readonly promotedAt: Date | undefined;
  readonly lastRotatedAt: Date | undefined;
  readonly abandonedMints: readonly AbandonedMint[];
  /** Tokens to revoke at the next opportunity, by any actor (the leak response's, when it could not finish). */
  readonly revokeNow: readonly TokenRef[];
  /** When a scheduled run should next look at this entry (due time, next drain check, next sweep). */
  readonly nextCheckAt: Date;
  /** The last failure a run recorded, for status and alarms; never a token value. */
  readonly lastError: string | undefined;
  /** The old token is being revoked at its deadline with consumers still on it (reported once it is done). */
  readonly forcedRevocation?: boolean;
  /**
   * The current token is gone (revoked by a leak response that could not issue a replacement, unknown to the gateway):
   * the entry is due at once, and the next token replaces it without keeping it as retiring.
   */
  readonly replaceNow?: boolean;
  /** When the gateway confirmed the old token's suspension (unset while the decision is recorded but not yet carried out). */
  readonly suspendedAt?: Date;
  /** Consumers (identities, never credentials) the last drain check saw still on the retiring token. */
  readonly consumersOnOldToken?: readonly string[];
}

export interface LedgerEntry {
  readonly declaration: Declaration;
  readonly state: RotationState;
  readonly lease: LeaseRecord | undefined;
  /** Incremented by every write; every write is conditional on it. */
  readonly version: number;
}

/**
 * The ledger's operations. Every write names the version it read; a write after someone else's fails with
 * LedgerConflictError and changes nothing.
 */
export interface Ledger {
  readonly tableName: string;
  /** A strongly consistent read of one entry. */
  get(secretName: string): Promise<LedgerEntry | undefined>;
  /** Creates an entry; fails with LedgerConflictError if one exists. */
  create(entry: Omit<LedgerEntry, "version">): Promise<LedgerEntry>;
  /** Replaces the rotation state and the lease (never the declaration): the rotator's only kind of write. */
  writeState(entry: LedgerEntry, state: RotationState, lease: LeaseRecord | undefined): Promise<LedgerEntry>;
  /** Replaces the declaration and the state: the provider's write. */
  writeAll(entry: LedgerEntry, declaration: Declaration, state: RotationState, lease: LeaseRecord | undefined): Promise<LedgerEntry>;
  /** Deletes an entry at the version read. */
  delete(entry: LedgerEntry): Promise<void>;
  /** Entries whose next check is at or before `now`: cost grows with what is due, not with the number of tokens. */
  due(now: Date): AsyncIterable<LedgerEntry>;
  /** Every entry (status, audits). */
  list(): AsyncIterable<LedgerEntry>;
}

/** Another actor wrote the entry since it was read: the write was not made. */
export class LedgerConflictError extends TokenOpsError {
  override name = "LedgerConflictError";
  constructor(secretName: string, expectedVersion: number | undefined) {
    super(
      "ledger_conflict",
      expectedVersion === undefined
        ? `the ledger already has an entry for ${secretName}`
        : `the ledger entry of ${secretName} changed since version ${expectedVersion} was read (another run, the leak response or pulumi)`,
      { hint: "nothing was written; the next run continues from what the ledger says" },
    );
  }
}

/** A ledger call that failed for another reason (table missing, access denied, throttled past retries). */
export class LedgerError extends TokenOpsError {
  override name = "LedgerError";
  constructor(operation: string, tableName: string, cause: unknown) {
    const awsName = (cause as { name?: string })?.name ?? "Error";
    super("ledger_failed", `ledger ${operation} on table ${tableName} failed: ${awsName}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
      // Other failures (network, credentials) get their hint where they are reported (the CLI's AWS hints).
      hint:
        awsName === "ResourceNotFoundException"
          ? `create the ledger table ${tableName} (the rotator's deployment does; locally \`npm start\` does), or pass the right table name`
          : awsName === "AccessDeniedException"
            ? `this role may not use the ledger table ${tableName}: see docs/runbook.md for the operator and viewer policies`
            : undefined,
    });
  }
}

/**
 * The largest clock difference between actors that exclusion tolerates: a lease is taken from another owner only
 * this long after it would have expired by the taker's own clock. AWS refuses requests signed more than 15 minutes
 * off (SigV4), so no actor that can reach the ledger at all is further off than that without knowing.
 */
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;

/** Whether `owner` may take the lease now: free, its own, or expired by more than the skew bound. */
export function isLeaseFree(lease: LeaseRecord | undefined, owner: string, now: Date): boolean {
  if (!lease || lease.owner === owner) return true;
  return now.getTime() > lease.renewedAt.getTime() + lease.ttlMs + MAX_CLOCK_SKEW_MS;
}

/** An idle state with one current token, due at its fraction of the TTL. */
export function idleState(current: LedgerToken, declaration: Declaration, expiryMarginMs: number, extra: Partial<RotationState> = {}): RotationState {
  return {
    phase: LedgerPhase.Idle,
    current,
    pending: undefined,
    retiring: undefined,
    rotation: undefined,
    promotedAt: undefined,
    lastRotatedAt: undefined,
    abandonedMints: [],
    revokeNow: [],
    lastError: undefined,
    ...extra,
    nextCheckAt: extra.nextCheckAt ?? dueAt(current, declaration, expiryMarginMs),
  };
}

/** When a token falls due: at `rotationFraction` of its TTL, and in any case `margin` before it expires. */
export function dueAt(current: Pick<LedgerToken, "issuedAt" | "expiresAt">, declaration: Pick<Declaration, "ttlSeconds" | "rotationFraction">, expiryMarginMs: number): Date {
  const byFraction = current.issuedAt.getTime() + declaration.rotationFraction * declaration.ttlSeconds * 1000;
  return new Date(Math.min(byFraction, current.expiresAt.getTime() - expiryMarginMs));
}

/**
 * The state with its next check no later than its sweeps need: at once for tokens listed for revocation, and once an
 * abandoned mint name may be dropped (a mint in flight when it was abandoned has landed by then, and is swept).
 */
export function withSweepDeadlines(state: RotationState, now: Date, leaseTtlMs: number): RotationState {
  const deadlines = [
    state.nextCheckAt.getTime(),
    ...(state.revokeNow.length ? [now.getTime()] : []),
    ...state.abandonedMints.map((m) => m.at.getTime() + leaseTtlMs + MAX_CLOCK_SKEW_MS + 1),
  ];
  const next = Math.min(...deadlines);
  return next === state.nextCheckAt.getTime() ? state : { ...state, nextCheckAt: new Date(next) };
}

/** Every token ID the entry knows to be possibly live. */
export function liveTokenIds(state: RotationState): string[] {
  return [...new Set([state.current, state.pending, state.retiring].filter((t): t is LedgerToken => t !== undefined).map((t) => t.tokenId))];
}

/** Every mint name whose tokens may be live without a recorded ID: the running intent's and the abandoned ones. */
export function mintNamesToSweep(state: RotationState): string[] {
  return [...new Set([...(state.rotation ? [state.rotation.mintName] : []), ...state.abandonedMints.map((m) => m.mintName)])];
}

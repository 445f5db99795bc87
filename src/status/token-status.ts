/**
 * One environment's managed tokens at a glance: where each one's rotation stands, how old it is, when it falls
 * due, and whether consumers use it. Reads tags for everything but the scopes (one AWSCURRENT read per token) and
 * asks the gateway about each live token; never prints, exits or logs, so that any front end can render it.
 *
 * "Last traffic" is the last request by a consumer: this project's own calls (the rotator's whoami of a new token,
 * `verify`) are left out, as the rotator leaves them out when it decides whether consumers have moved. The gateway's
 * lastUsedAt counts them, so right after a rotation it would show traffic that no consumer made.
 */
import { Clock } from "../domain/clock";
import { redactTokens } from "../domain/redact";
import { GatewayBackend, OWN_USER_AGENT_PREFIX, TokenStatus } from "../gateway/backend";
import { DEFAULT_SETTINGS } from "../rotation/settings";
import { deriveState, dueAt, isDue, Phase, RotationState } from "../rotation/state";
import { secretNamespace, Tag, TokenMetadata } from "../store/metadata";
import { Stage, StoredSecret, TokenStore } from "../store/token-store";

/** A token's phase as the status shows it: the rotation phases, with "idle" split into "idle" and "due". */
export const StatusPhase = {
  Idle: Phase.Idle,
  /** Idle and past its due time: the next scheduled run starts a rotation. */
  Due: "due",
  Minting: Phase.Minting,
  Staged: Phase.Staged,
  Promoting: Phase.Promoting,
  Draining: Phase.Draining,
  /** Tags or value this project did not write: the rotator reports it and leaves it alone. */
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
  /** The declared token name (openclaw:token-name), or the secret's name inside the namespace if the tag is missing. */
  readonly name: string;
  readonly secretName: string;
  /** The current token's ID on the gateway; undefined when the tags do not say. */
  readonly tokenId: string | undefined;
  /** From the AWSCURRENT record; undefined when it could not be read. */
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
  /** What is wrong with the token or its secret; the rotator will not touch a "bad-state" token. */
  readonly problems: readonly string[];
  /** What could not be found out (the gateway did not answer); the row is otherwise right. */
  readonly warnings: readonly string[];
}

export interface TokenStatusDependencies {
  readonly store: TokenStore;
  /** The environment's gateway; a secret naming another gateway is reported as bad-state, and that gateway is not called. */
  readonly backend: GatewayBackend;
  readonly clock: Clock;
  /**
   * Whether the caller may read secret values (AWSCURRENT, for the scopes and the tags' consistency). A read-only
   * viewer may not: its rows come from names and tags, with a warning instead of a bad-state. @default true
   */
  readonly readValues?: boolean;
}

const VALUES_NOT_READ = "scopes not checked: this role may not read secret values (read-only viewer)";

export interface TokenStatusOptions {
  /** A token is due this long before expiry even if its rotation fraction says later. @default 1 hour (the rotator's) */
  readonly expiryMarginMs?: number;
  /** The environment's managed secrets, if the caller has listed them already. @default store.list() */
  readonly secrets?: readonly StoredSecret[];
}

/** One row per managed token of the store's environment, sorted by name. A failing token never fails the table. */
export async function computeTokenStatus(deps: TokenStatusDependencies, options: TokenStatusOptions = {}): Promise<TokenStatusRow[]> {
  const secrets = options.secrets ?? (await listAll(deps.store));
  const now = deps.clock.now();
  const margin = options.expiryMarginMs ?? DEFAULT_SETTINGS.expiryMarginMs;
  const rows = await Promise.all(
    secrets.filter((s) => !s.deletedAt).map((secret) => rowOf(deps, secret, now, margin)),
  );
  return rows.sort((a, b) => a.name.localeCompare(b.name));
}

async function listAll(store: TokenStore): Promise<StoredSecret[]> {
  const secrets: StoredSecret[] = [];
  for await (const secret of store.list()) secrets.push(secret);
  return secrets;
}

async function rowOf(deps: TokenStatusDependencies, secret: StoredSecret, now: Date, marginMs: number): Promise<TokenStatusRow> {
  const name = secret.tags[Tag.TokenName] || secret.name.slice(secretNamespace(deps.store.environment).length);
  const meta = secret.metadata;
  if ("problems" in meta) {
    return {
      ...EMPTY,
      name,
      secretName: secret.name,
      tokenId: secret.tags[Tag.TokenId] || undefined,
      phase: StatusPhase.BadState,
      problems: [`bad tags: ${meta.problems.join("; ")}; restore them or run pulumi up (do not edit managed secrets by hand)`],
    };
  }

  const state = deriveState(secret, meta);
  const ownGateway = sameUrl(meta.gatewayUrl, deps.backend.url) && meta.backend === deps.backend.kind;
  const [current, gateway] = await Promise.all([
    deps.readValues === false ? Promise.resolve<CurrentView>({}) : readScopes(deps.store, secret, meta, state.phase),
    // Another gateway's token IDs mean nothing to this one: it is not asked.
    ownGateway ? gatewayView(deps.backend, meta, state) : Promise.resolve<GatewayView>({ traffic: UNKNOWN, retiringTraffic: undefined }),
  ]);
  // What the rotator would refuse to act on makes the row bad-state; what the gateway says about the token does not.
  const stateProblems = [
    ...(ownGateway ? [] : [`belongs to ${meta.gatewayUrl} (${meta.backend}), not this environment's gateway ${deps.backend.url} (${deps.backend.kind})`]),
    ...(current.problem ? [current.problem] : []),
  ];
  const phase: StatusPhase = stateProblems.length
    ? StatusPhase.BadState
    : state.phase === Phase.Idle && isDue(meta, now, marginMs)
      ? StatusPhase.Due
      : state.phase;

  const ageMs = now.getTime() - meta.issuedAt.getTime();
  return {
    name,
    secretName: secret.name,
    tokenId: meta.tokenId,
    scopes: current.scopes,
    phase,
    issuedAt: meta.issuedAt,
    expiresAt: meta.expiresAt,
    ageSeconds: Math.max(0, Math.round(ageMs / 1000)),
    ttlSeconds: meta.ttlSeconds,
    ttlUsedPercent: Math.max(0, Math.round((ageMs / (meta.ttlSeconds * 1000)) * 1000) / 10),
    nextRotationAt: dueAt(meta, marginMs),
    lastTraffic: gateway.traffic,
    retiringTokenId: state.phase === Phase.Draining ? state.retiringTokenId : undefined,
    retiringLastTraffic: gateway.retiringTraffic,
    problems: [...stateProblems, ...(gateway.problem ? [gateway.problem] : [])],
    warnings: [...(gateway.warning ? [gateway.warning] : []), ...(deps.readValues === false ? [VALUES_NOT_READ] : [])],
  };
}

interface CurrentView {
  readonly scopes?: readonly string[];
  readonly problem?: string;
}

/** The AWSCURRENT record's scopes; a missing or foreign record, or one the tags contradict, is a problem. */
async function readScopes(store: TokenStore, secret: StoredSecret, meta: TokenMetadata, phase: Phase): Promise<CurrentView> {
  try {
    const current = await store.read(secret.name, Stage.Current);
    if (!current) return { problem: "there is no AWSCURRENT version; restore it or run pulumi up" };
    // While a rotation is being promoted, AWSCURRENT runs ahead of the tags; otherwise they must agree.
    if (current.tokenId !== meta.tokenId && phase !== Phase.Promoting) {
      return { scopes: current.scopes, problem: `AWSCURRENT holds token ${current.tokenId} but the tags say ${meta.tokenId}` };
    }
    return { scopes: current.scopes };
  } catch (error) {
    return { problem: describe(error) };
  }
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
async function gatewayView(backend: GatewayBackend, meta: TokenMetadata, state: RotationState): Promise<GatewayView> {
  const draining = state.phase === Phase.Draining ? state : undefined;
  try {
    const [token, traffic, retiringTraffic] = await Promise.all([
      backend.describe(meta.tokenId),
      lastConsumerUse(backend, meta.tokenId, meta.issuedAt),
      draining ? lastConsumerUse(backend, draining.retiringTokenId, draining.promotedAt) : undefined,
    ]);
    if (!token) {
      return { traffic, retiringTraffic, problem: `token ${meta.tokenId} is unknown to the gateway; issue a new one with \`openclaw-tokens rotate\`` };
    }
    if (token.status !== TokenStatus.Active) {
      return {
        traffic,
        retiringTraffic,
        problem: `token ${meta.tokenId} is ${token.status} on the gateway; consumers are refused until a new one is issued (\`openclaw-tokens rotate\`)`,
      };
    }
    return { traffic, retiringTraffic };
  } catch (error) {
    return { traffic: UNKNOWN, retiringTraffic: draining ? UNKNOWN : undefined, warning: `last traffic unknown: ${describe(error)}` };
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

const EMPTY = {
  scopes: undefined,
  issuedAt: undefined,
  expiresAt: undefined,
  ageSeconds: undefined,
  ttlSeconds: undefined,
  ttlUsedPercent: undefined,
  nextRotationAt: undefined,
  lastTraffic: { kind: "unknown" },
  retiringTokenId: undefined,
  retiringLastTraffic: undefined,
  warnings: [],
} as const satisfies Partial<TokenStatusRow>;

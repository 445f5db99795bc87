import { Sensitive } from "../domain/sensitive";

/**
 * What the product needs from a gateway, whatever kind it is. The documented token API (documented-api.ts) and
 * the real OpenClaw gateway's paired devices each implement this; the provider, the rotator and the CLI only
 * ever see this interface.
 */
export interface GatewayBackend {
  /** Which implementation this is; recorded with each token so that the right one manages it later. */
  readonly kind: BackendKind;
  readonly url: string;
  /**
   * Whether traffic() tells this project's own calls from consumers', whichever process made them (the documented
   * API's request log carries each request's User-Agent). When false, a whoami made by any process other than the
   * rotator while a token drains looks like consumers moving to it: such checks must use describe() instead.
   */
  readonly trafficShowsCaller: boolean;
  /**
   * Whether a token's name on the gateway is fixed at mint (the documented API) or can be changed by whoever holds the
   * token (an OpenClaw device's display name is rewritten by every connect). Only a fixed name can serve as the second
   * witness before a revocation; otherwise the ledger's record of the ID is what counts.
   */
  readonly namesAreFixed: boolean;

  /** Who a token is, as the gateway sees it. Throws InvalidTokenError / TokenExpiredError when it is refused. */
  whoami(token: Sensitive): Promise<TokenIdentity>;

  /**
   * Mints a token. `name` must be unique to this mint (see gatewayTokenName): after an AmbiguousOutcomeError the
   * caller finds what was minted, if anything, with findByName.
   */
  mint(request: MintRequest): Promise<IssuedToken>;

  /** A token's metadata, or undefined if the gateway does not know the ID. */
  describe(tokenId: string): Promise<TokenMetadata | undefined>;

  /** Every token the gateway holds under exactly this name, whatever its status. */
  findByName(name: string): Promise<TokenMetadata[]>;

  /** Revokes a token; revoking a revoked or unknown token succeeds (idempotent). */
  revoke(tokenId: string): Promise<void>;

  /** Requests made with a token after `since`, oldest first: the evidence that consumers moved to it. */
  traffic(tokenId: string, since: Date): Promise<TrafficEntry[]>;

  /**
   * The distinct consumers that used a token after `since` (all time without it), most recently seen first; this
   * project's own calls left out. Throws GatewayRequestError 404 when the gateway does not know the token.
   */
  consumers(tokenId: string, since?: Date): Promise<ConsumerSeen[]>;

  /** Whether suspend/reinstate exist: a reversible stop of a token. False when revoking is the only way to stop one. */
  readonly supportsSuspension: boolean;

  /** Refuses a token (401 token_suspended) until reinstated; idempotent. Only when supportsSuspension. */
  suspend(tokenId: string): Promise<TokenMetadata>;

  /** Lifts a suspension; reinstating an active token is a no-op. Only when supportsSuspension. */
  reinstate(tokenId: string): Promise<TokenMetadata>;
}

/** One consumer of a token, as the gateway's aggregate has it: an identity, never a credential. */
export interface ConsumerSeen {
  /** The X-OpenClaw-Consumer header, else "<address> <User-Agent>". */
  readonly consumer: string;
  readonly source: "header" | "address" | "unknown";
  readonly firstSeenAt: Date;
  readonly lastSeenAt: Date;
  readonly requests: number;
  readonly lastStatus: number;
}

export const BackendKind = {
  /** The token API of the gateway-token guide (docs/gateway-api.md). */
  DocumentedApi: "documented-api",
  /** The real self-hosted OpenClaw gateway; a token is a paired operator device (src/gateway/openclaw/). */
  OpenClawDevices: "openclaw-devices",
} as const;
export type BackendKind = (typeof BackendKind)[keyof typeof BackendKind];

export interface MintRequest {
  readonly name: string;
  readonly scopes: readonly string[];
  readonly expiresAt: Date;
}

export interface TokenIdentity {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly expiresAt: Date | undefined;
}

export const TokenStatus = { Active: "active", Suspended: "suspended", Revoked: "revoked", Expired: "expired" } as const;
export type TokenStatus = (typeof TokenStatus)[keyof typeof TokenStatus];

/** Whether a token may still be (or again become) accepted: a suspension can be lifted, so it is not yet revoked. */
export function isRevocable(status: TokenStatus | undefined): boolean {
  return status === TokenStatus.Active || status === TokenStatus.Suspended;
}

export interface TokenMetadata extends TokenIdentity {
  readonly createdAt: Date;
  readonly status: TokenStatus;
  readonly lastUsedAt: Date | undefined;
  /** When it was revoked, if the gateway says (the documented API does; an audit flags calls after it). */
  readonly revokedAt?: Date;
  /** When it was suspended, while it is (documented API extension). */
  readonly suspendedAt?: Date;
}

/** A freshly minted token: the only moment its value is known outside the secret store. */
export interface IssuedToken {
  readonly metadata: TokenMetadata;
  readonly value: Sensitive;
}

export interface TrafficEntry {
  readonly at: Date;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly userAgent: string;
}

/** The User-Agent prefix of this project's own calls; traffic checks ignore these so they count consumers only. */
export const OWN_USER_AGENT_PREFIX = "openclaw-token-ops/";

export function ownUserAgent(component: "provider" | "rotator" | "cli"): string {
  return `${OWN_USER_AGENT_PREFIX}0.1 (${component})`;
}

/**
 * The name a token gets on the gateway: the declared name plus a mint stamp, which makes every mint findable
 * by name (the guide's "clear new name" per rotation, e.g. ci-runner-prod-20260401t120000z-3f9a).
 */
export function gatewayTokenName(declaredName: string, mintedAt: Date, nonce: string): string {
  const stamp = mintedAt.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "").toLowerCase();
  return `${declaredName}-${stamp}-${nonce}`;
}

/** Whether the gateway's record of a token agrees with the name recorded at mint (always, where names can change). */
export function sameGatewayName(backend: Pick<GatewayBackend, "namesAreFixed">, onGateway: string, recorded: string): boolean {
  return !backend.namesAreFixed || onGateway === recorded;
}

/**
 * The parts of the OpenClaw gateway protocol (v4) this backend speaks, as the gateway sends them
 * (docs/gateway/protocol/handshake.md, docs/gateway/protocol/rpc-devices-nodes-and-approvals.md,
 * docs/plugins/admin-http-rpc.md). Only the fields used here are typed; the gateway sends many more.
 */

/** The wire protocol this client speaks: `minProtocol = maxProtocol = 4`. */
export const PROTOCOL_VERSION = 4;

/** Gateway RPC methods this backend calls. */
export const RpcMethod = {
  Connect: "connect",
  PairList: "device.pair.list",
  PairApprove: "device.pair.approve",
  PairReject: "device.pair.reject",
  PairRemove: "device.pair.remove",
} as const;
export type RpcMethod = (typeof RpcMethod)[keyof typeof RpcMethod];

/** The event the gateway sends first on every WebSocket; the client signs its nonce. */
export const CONNECT_CHALLENGE_EVENT = "connect.challenge";

/** Top-level `error.code` values of RPC responses (the HTTP status of admin RPC follows them). */
export const WireErrorCode = {
  InvalidRequest: "INVALID_REQUEST",
  Forbidden: "FORBIDDEN",
  Unavailable: "UNAVAILABLE",
  NotPaired: "NOT_PAIRED",
  NotLinked: "NOT_LINKED",
  ApprovalNotFound: "APPROVAL_NOT_FOUND",
} as const;

/** `error.details.code` of a refused connect (packages/gateway-protocol/src/connect-error-details.ts, in part). */
export const ConnectDetailCode = {
  PairingRequired: "PAIRING_REQUIRED",
  AuthTokenMismatch: "AUTH_TOKEN_MISMATCH",
  AuthDeviceTokenMismatch: "AUTH_DEVICE_TOKEN_MISMATCH",
  AuthScopeMismatch: "AUTH_SCOPE_MISMATCH",
  AuthRateLimited: "AUTH_RATE_LIMITED",
  ProtocolMismatch: "PROTOCOL_MISMATCH",
} as const;

export interface WireError {
  readonly code: string;
  readonly message?: string;
  readonly retryable?: boolean;
  readonly retryAfterMs?: number;
  readonly details?: {
    readonly code?: string;
    readonly reason?: string;
    readonly requestId?: string;
    readonly missingScope?: string;
    readonly [key: string]: unknown;
  };
}

export interface ResponseFrame {
  readonly type: "res";
  readonly id: string;
  readonly ok: boolean;
  readonly payload?: unknown;
  readonly error?: WireError;
}

export interface EventFrame {
  readonly type: "event";
  readonly event: string;
  readonly payload?: unknown;
}

export interface ChallengePayload {
  readonly nonce: string;
  readonly ts: number;
}

export interface HelloOk {
  readonly type: "hello-ok";
  readonly protocol: number;
  readonly server?: { readonly version?: string; readonly connId?: string };
  readonly auth: HelloAuth;
}

/**
 * `hello-ok.auth`: the negotiated role and live scopes; `deviceToken` when the gateway issued (or echoes) one.
 * OpenClawConnection moves deviceToken into a Sensitive before anything else sees the frame.
 */
export interface HelloAuth {
  readonly role: string;
  readonly scopes: readonly string[];
  /** "token" (shared secret), "device-token", ... */
  readonly method?: string;
  readonly deviceToken?: string;
  readonly issuedAtMs?: number;
}

/** One entry of `device.pair.list` → `paired[].tokens`. */
export interface WireDeviceToken {
  readonly role: string;
  readonly scopes?: readonly string[];
  readonly createdAtMs?: number;
  readonly rotatedAtMs?: number;
  readonly revokedAtMs?: number;
  readonly lastUsedAtMs?: number;
}

export interface WirePairedDevice {
  readonly deviceId: string;
  readonly displayName?: string;
  /** Set by `device.pair.rename`; preferred over displayName (docs/cli/devices.md). */
  readonly operatorLabel?: string;
  readonly clientId?: string;
  readonly platform?: string;
  readonly role?: string;
  readonly roles?: readonly string[];
  readonly scopes?: readonly string[];
  readonly approvedVia?: string;
  readonly createdAtMs?: number;
  readonly approvedAtMs?: number;
  readonly tokens?: readonly WireDeviceToken[];
}

export interface WirePendingRequest {
  readonly requestId: string;
  readonly deviceId: string;
  readonly displayName?: string;
  readonly role?: string;
  readonly roles?: readonly string[];
  readonly scopes?: readonly string[];
}

export interface WirePairList {
  readonly pending: readonly WirePendingRequest[];
  readonly paired: readonly WirePairedDevice[];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

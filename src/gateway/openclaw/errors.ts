import { redactTokens } from "../../domain/redact";
import { Sensitive } from "../../domain/sensitive";
import {
  GatewayCallContext,
  GatewayError,
  GatewayRequestError,
  GatewayUnavailableError,
  InsufficientScopeError,
} from "../errors";
import { WireError, WireErrorCode } from "./wire";

/**
 * Errors particular to the real OpenClaw gateway. Everything callers act on is one of the shared classes of
 * ../errors.ts (InvalidTokenError, InsufficientScopeError, GatewayUnavailableError, AmbiguousOutcomeError, ...);
 * the classes here add what only this gateway can say.
 */

/**
 * The WebSocket closed (or never opened, or timed out) before the answer came. `requestSent` says whether the
 * gateway may have acted: false means nothing reached it and the call is safe to repeat, even a pairing.
 */
export class ConnectionLostError extends GatewayUnavailableError {
  override name = "ConnectionLostError";
  readonly requestSent: boolean;
  constructor(context: GatewayCallContext, detail: string, requestSent: boolean, cause?: unknown) {
    super(context, detail, { cause });
    this.requestSent = requestSent;
  }
}

/** The gateway said "not now, retry in a moment" (startup sidecars, suspension, a rate limit). */
export class GatewayBusyError extends GatewayUnavailableError {
  override name = "GatewayBusyError";
  readonly retryAfterMs: number | undefined;
  constructor(context: GatewayCallContext, detail: string, retryAfterMs: number | undefined) {
    super(context, detail);
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * The gateway answered `connect` with an error. Internal to this module: the backend turns it into what it means
 * for the credential at hand (InvalidTokenError for a device token, a pairing request for a new device, ...).
 */
export class HandshakeRefusedError extends GatewayError {
  override name = "HandshakeRefusedError";
  /** `error.code`, e.g. INVALID_REQUEST or NOT_PAIRED. */
  readonly wireCode: string;
  /** `error.details.code`, e.g. AUTH_TOKEN_MISMATCH or PAIRING_REQUIRED. */
  readonly detailCode: string | undefined;
  /** `error.details.reason`, e.g. not-paired or metadata-upgrade. */
  readonly reason: string | undefined;
  /** The pending pairing request the refusal created, when it says PAIRING_REQUIRED. */
  readonly requestId: string | undefined;

  constructor(context: GatewayCallContext, error: WireError, detail: string) {
    super("handshake_refused", context, detail, { status: 401 });
    this.wireCode = error.code;
    this.detailCode = error.details?.code;
    this.reason = error.details?.reason;
    this.requestId = typeof error.details?.requestId === "string" ? error.details.requestId : undefined;
  }
}

/** The gateway does not serve `POST /api/v1/admin/rpc`: the bundled admin-http-rpc plugin is disabled. */
export class AdminRpcDisabledError extends GatewayError {
  override name = "AdminRpcDisabledError";
  constructor(context: GatewayCallContext, status: number) {
    super("admin_rpc_disabled", context, "the admin HTTP RPC route is not registered", {
      status,
      hint:
        "enable the bundled plugin on the gateway (`openclaw plugins enable admin-http-rpc`, or " +
        'plugins.entries["admin-http-rpc"].enabled = true in openclaw.json): the openclaw-devices backend lists, ' +
        "approves and removes paired devices through it with the gateway's shared token",
    });
  }
}

/** The device the gateway issued does not match what was asked for (role, scopes, missing device token). */
export class PairingMismatchError extends GatewayError {
  override name = "PairingMismatchError";
  constructor(context: GatewayCallContext, detail: string) {
    super("pairing_mismatch", context, detail, {
      hint:
        "the device was removed again; check gateway.roles / identity scope ceilings on the gateway, which can " +
        "narrow what a pairing grants",
    });
  }
}

/**
 * Text from the gateway (an error message, a close reason) with every known secret and every token-shaped
 * substring cut out, so it can go into an error message.
 */
export function scrub(text: string, secrets: readonly Sensitive[]): string {
  let out = text;
  for (const secret of secrets) {
    const value = secret.reveal();
    if (value.length >= 8) out = out.split(value).join("[REDACTED]");
  }
  return redactTokens(out).slice(0, 500);
}

/** The error an RPC answer with `ok: false` stands for, whichever transport (WebSocket, admin HTTP) carried it. */
export function rpcFailure(context: GatewayCallContext, error: WireError, secrets: readonly Sensitive[]): GatewayError {
  const detail = `${error.code}: ${scrub(error.message ?? "no message", secrets)}`;
  switch (error.code) {
    case WireErrorCode.Forbidden:
      return new InsufficientScopeError(
        context,
        typeof error.details?.missingScope === "string" ? error.details.missingScope : undefined,
      );
    case WireErrorCode.InvalidRequest:
      return new GatewayRequestError(context, 400, detail);
    case WireErrorCode.ApprovalNotFound:
      return new GatewayRequestError(context, 404, detail);
    case WireErrorCode.NotPaired:
    case WireErrorCode.NotLinked:
      return new GatewayRequestError(context, 409, detail);
    case WireErrorCode.Unavailable:
      return new GatewayBusyError(context, detail, error.retryAfterMs);
    default:
      return error.retryable
        ? new GatewayBusyError(context, detail, error.retryAfterMs)
        : new GatewayUnavailableError(context, detail, { status: 500 });
  }
}

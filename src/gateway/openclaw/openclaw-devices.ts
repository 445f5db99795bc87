import { Clock, systemClock } from "../../domain/clock";
import { Environment } from "../../domain/environments";
import { EnvironmentMismatchError, ValidationError } from "../../domain/errors";
import { Sensitive } from "../../domain/sensitive";
import {
  BackendKind,
  ConsumerSeen,
  GatewayBackend,
  IssuedToken,
  MintRequest,
  TokenIdentity,
  TokenMetadata,
  TokenStatus,
  TrafficEntry,
} from "../backend";
import {
  AmbiguousOutcomeError,
  GatewayCallContext,
  GatewayError,
  GatewayRequestError,
  GatewayUnavailableError,
  InvalidTokenError,
  TokenExpiredError,
} from "../errors";
import { HttpOptions } from "../http";
import { ADMIN_RPC_PATH, AdminRpcClient } from "./admin-rpc";
import { ClientMetadata, HandshakeTiming, OpenClawConnection, webSocketUrlOf, WebSocketConstructor } from "./connection";
import { CredentialFormatError, DeviceCredential, PairingClient, parseCredential, serializeCredential } from "./credential";
import { DeviceIdentity } from "./device-identity";
import { ConnectionLostError, GatewayBusyError, HandshakeRefusedError, PairingMismatchError } from "./errors";
import { realSleep, withRetries } from "./retry";
import { ALL_OPERATOR_SCOPES, canonicalOperatorScopes, isOperatorScope, OPERATOR_ROLE, OperatorScope, sameScopeSet } from "./scopes";
import { ConnectDetailCode, HelloAuth, isRecord, RpcMethod, WirePairedDevice, WirePairList } from "./wire";

/**
 * The real self-hosted OpenClaw gateway (npm `openclaw`), whose "tokens" are paired operator devices.
 *
 *   GatewayBackend   OpenClaw gateway
 *   --------------   -------------------------------------------------------------------------------------------
 *   mint             new Ed25519 keypair; WebSocket connect as that device with the SHARED token, role operator,
 *                    exactly the requested scopes and displayName = name → the gateway pairs it: silently on
 *                    loopback (autoApproveLocal), otherwise PAIRING_REQUIRED + requestId, which is checked against
 *                    device.pair.list and approved with device.pair.approve, then the connect is repeated;
 *                    hello-ok.auth.deviceToken + keypair + metadata = the credential (the token value)
 *   whoami           connect with the DEVICE token and keypair; identity from hello-ok.auth (role, scopes). A
 *                    refused connect is InvalidTokenError; a credential past its expiresAt is TokenExpiredError
 *                    without any call (the gateway has no expiry: this project enforces it)
 *   describe         device.pair.list → the paired device; lastUsedAtMs of its operator token → lastUsedAt
 *   findByName       device.pair.list → devices whose displayName (or operator label) is the name
 *   revoke           device.pair.remove (and device.pair.reject of any pending request of that device), then
 *                    confirmed by device.pair.list no longer listing it. Never device.token.rotate: it kills the
 *                    old token at once, which would break dual-active rotation
 *   traffic          the gateway keeps no request log: one synthetic entry at lastUsedAt when it is after `since`, with
 *                    this instance's User-Agent when that use was one of this instance's own connects, else "unknown"
 *
 * List, approve, reject and remove go over the admin-http-rpc plugin (POST /api/v1/admin/rpc) with the shared
 * token, so that plugin must be enabled on the gateway (AdminRpcDisabledError says so when it is not).
 *
 * Traffic caveat: lastUsedAtMs moves on every device-token connect, this project's own included (whoami, `connect`),
 * and it is the GATEWAY's clock (Date.now() at authentication, millisecond granularity), while the rotator compares it
 * with promotedAt from its own clock. Two guards: the rotator never connects as the current device after promotion
 * (its only whoami of a new device is verifyPending, before promotedAt is taken), and traffic() reports a lastUsedAt
 * that falls inside one of THIS instance's own connects (on the gateway's clock, from the handshake's challenge `ts`)
 * with this instance's User-Agent, which the rotator does not count as a consumer's. So within a rotator run, clock
 * skew between the rotator and the gateway cannot turn the rotator's own verification into "consumers moved". Other
 * processes' connects (a `pulumi refresh`, the CLI) do count as use: the gateway does not record who connected.
 */

/** Settings of a client for a real OpenClaw gateway; timeouts, retries and injected transport as for HTTP. */
export interface OpenClawDevicesOptions extends Omit<HttpOptions, "baseUrl" | "userAgent" | "timeoutMs"> {
  /** The gateway's HTTP(S) base URL; the WebSocket is on the same host and port. */
  readonly url: string;
  /** The environment this gateway serves: credentials of another environment are refused before any call. */
  readonly environment: Environment;
  /** The gateway's shared secret (gateway.auth.token): pairs, approves, lists and removes devices. */
  readonly adminToken: Sensitive;
  /** Sent as the connect's userAgent and the admin RPC's User-Agent. */
  readonly userAgent: string;
  /** Per handshake, per request. @default 10000 */
  readonly timeoutMs?: number;
  /** Decides whether a credential has expired. @default systemClock */
  readonly clock?: Clock;
  /** Client metadata new devices are paired with (and must always present). @default DEFAULT_PAIRING_CLIENT */
  readonly client?: PairingClient;
  /** @default globalThis.WebSocket */
  readonly WebSocket?: WebSocketConstructor;
}

/** What devices minted here present as: the gateway's CLI client on Linux (the Lambda's platform). */
export const DEFAULT_PAIRING_CLIENT: PairingClient = { id: "cli", mode: "cli", platform: "linux" };

const CLIENT_VERSION = "0.1.0";

/**
 * Allowance for the difference between a handshake's two one-way latencies (see HandshakeTiming). A consumer connect
 * authenticated within this long after one of the rotator's own is taken for the rotator's; the consumer's next
 * connect counts.
 */
const OWN_CONNECT_SLACK_MS = 25;
/** Own connects remembered per device: a rotator run makes one or two per device. */
const OWN_CONNECTS_KEPT = 16;

/** hello-ok.auth of a pairing, with the issued device token already wrapped. */
type IssuedAuth = Omit<HelloAuth, "deviceToken"> & { readonly deviceToken: Sensitive };

export class OpenClawDevicesGateway implements GatewayBackend {
  readonly kind = BackendKind.OpenClawDevices;
  /** A device's only trace of use is lastUsedAtMs, which says nothing of who connected. */
  readonly trafficShowsCaller = false;
  readonly namesAreFixed = false;
  /** Removing a paired device cannot be undone: revocation relies on the consumer evidence alone. */
  readonly supportsSuspension = false;
  readonly url: string;
  private readonly wsUrl: string;
  private readonly admin: AdminRpcClient;
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly client: PairingClient;
  /** Per device, the spans of the gateway's clock in which this instance's own device connects were authenticated. */
  private readonly ownConnects = new Map<string, Array<{ readonly from: number; readonly to: number }>>();

  constructor(private readonly options: OpenClawDevicesOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.wsUrl = webSocketUrlOf(this.url);
    this.clock = options.clock ?? systemClock;
    this.sleep = options.sleep ?? realSleep;
    this.client = options.client ?? DEFAULT_PAIRING_CLIENT;
    this.admin = new AdminRpcClient({
      gatewayUrl: this.url,
      adminToken: options.adminToken,
      userAgent: options.userAgent,
      timeoutMs: options.timeoutMs,
      retry: options.retry,
      fetch: options.fetch,
      sleep: this.sleep,
    });
  }

  async whoami(token: Sensitive): Promise<TokenIdentity> {
    const { credential, connection } = await this.open(token);
    try {
      const auth = connection.hello.auth;
      return { id: credential.deviceId, name: credential.name, scopes: [...auth.scopes], expiresAt: credential.expiresAt };
    } finally {
      await connection.close();
    }
  }

  /**
   * A live session as the device a credential holds, for RPCs under its scopes (the caller closes it). It moves the
   * device's lastUsedAt, which traffic() of this same instance reports as its own use (with its User-Agent).
   */
  async connect(token: Sensitive): Promise<OpenClawConnection> {
    return (await this.open(token)).connection;
  }

  async mint(request: MintRequest): Promise<IssuedToken> {
    const scopes = this.requireScopes(request);
    const identity = DeviceIdentity.generate();
    const context = this.wsContext("connect (pairing)", identity.deviceId);
    let auth: IssuedAuth;
    try {
      auth = await this.pair(identity, scopes, request.name, context);
    } catch (error) {
      throw await this.discardHalfPaired(identity.deviceId, error, context);
    }
    const credential: DeviceCredential = {
      deviceId: identity.deviceId,
      deviceToken: auth.deviceToken,
      identity,
      role: OPERATOR_ROLE,
      scopes,
      name: request.name,
      expiresAt: request.expiresAt,
      environment: this.options.environment,
      client: this.client,
    };
    return {
      metadata: {
        id: identity.deviceId,
        name: request.name,
        scopes,
        createdAt: new Date(auth.issuedAtMs ?? this.clock.now().getTime()),
        expiresAt: request.expiresAt,
        status: TokenStatus.Active,
        lastUsedAt: undefined,
      },
      value: serializeCredential(credential),
    };
  }

  async describe(tokenId: string): Promise<TokenMetadata | undefined> {
    const device = (await this.list(tokenId)).paired.find((d) => d.deviceId === tokenId);
    return device && toMetadata(device);
  }

  async findByName(name: string): Promise<TokenMetadata[]> {
    const list = await this.list();
    return list.paired.filter((d) => d.displayName === name || d.operatorLabel === name).map(toMetadata);
  }

  async revoke(tokenId: string): Promise<void> {
    const before = await this.list(tokenId);
    // A pending request of the device must not be approvable later.
    for (const request of before.pending.filter((p) => p.deviceId === tokenId)) {
      await this.ignoringRequestErrors(
        this.admin.call({ method: RpcMethod.PairReject, params: { requestId: request.requestId }, idempotent: true, tokenId }),
      );
    }
    if (!before.paired.some((d) => d.deviceId === tokenId)) return; // Unknown or already removed: nothing can use it.
    // "unknown deviceId" (a concurrent removal) is settled by the listing below, not by the message text.
    await this.ignoringRequestErrors(
      this.admin.call({ method: RpcMethod.PairRemove, params: { deviceId: tokenId }, idempotent: true, tokenId }),
    );
    if ((await this.list(tokenId)).paired.some((d) => d.deviceId === tokenId)) {
      throw new GatewayError("revoke_unconfirmed", this.adminContext(RpcMethod.PairRemove, tokenId), "the device is still listed after device.pair.remove", {
        hint: `remove it by hand: openclaw devices remove ${tokenId}`,
      });
    }
  }

  async traffic(tokenId: string, since: Date): Promise<TrafficEntry[]> {
    const lastUsedAt = (await this.describe(tokenId))?.lastUsedAt;
    if (!lastUsedAt || lastUsedAt.getTime() <= since.getTime()) return [];
    const at = lastUsedAt.getTime();
    const own = (this.ownConnects.get(tokenId) ?? []).some((span) => at >= span.from && at <= span.to);
    return [{ at: lastUsedAt, method: "WS", path: "device", status: 200, userAgent: own ? this.options.userAgent : "unknown" }];
  }

  /**
   * The gateway keeps no per-consumer record: what it has is the device's lastUsedAt, reported as one consumer
   * ("device <id>") when it is after `since` and not this instance's own connect.
   */
  async consumers(tokenId: string, since?: Date): Promise<ConsumerSeen[]> {
    const entries = await this.traffic(tokenId, since ?? new Date(0));
    return entries
      .filter((e) => e.userAgent !== this.options.userAgent)
      .map((e) => ({ consumer: `device ${tokenId}`, source: "unknown" as const, firstSeenAt: e.at, lastSeenAt: e.at, requests: 1, lastStatus: e.status }));
  }

  suspend(tokenId: string): Promise<TokenMetadata> {
    return Promise.reject(new GatewayError("unsupported", { method: "POST", endpoint: "suspend", gatewayUrl: this.url, tokenId }, "an OpenClaw device cannot be suspended (supportsSuspension is false)"));
  }

  reinstate(tokenId: string): Promise<TokenMetadata> {
    return Promise.reject(new GatewayError("unsupported", { method: "POST", endpoint: "reinstate", gatewayUrl: this.url, tokenId }, "an OpenClaw device cannot be reinstated (supportsSuspension is false)"));
  }

  // ---- whoami / connect ----------------------------------------------------------------------------------------

  private async open(token: Sensitive): Promise<{ credential: DeviceCredential; connection: OpenClawConnection }> {
    const credential = this.parse(token);
    const context = this.wsContext("connect", credential.deviceId);
    if (credential.environment !== this.options.environment) {
      throw new EnvironmentMismatchError(
        `the credential is for a ${credential.environment} gateway, but ${this.url} is the ${this.options.environment} gateway`,
        `use a ${this.options.environment} device credential with this gateway`,
      );
    }
    if (credential.expiresAt.getTime() <= this.clock.now().getTime()) throw new TokenExpiredError(context);
    try {
      const connection = await this.retrying(() =>
        OpenClawConnection.open({
          ...this.connectBase(context, credential.identity, credential.scopes),
          client: this.clientMetadata(credential.client, credential.name),
          token: credential.deviceToken,
          isDeviceToken: true,
        }),
        true,
      );
      this.recordOwnConnect(credential.deviceId, connection.handshakeTiming);
      if (connection.hello.auth.role !== OPERATOR_ROLE) {
        await connection.close();
        throw new InvalidTokenError(context, `the gateway accepted the device as ${connection.hello.auth.role}, not ${OPERATOR_ROLE}`);
      }
      return { credential, connection };
    } catch (error) {
      if (!(error instanceof HandshakeRefusedError)) throw error;
      if (error.detailCode === ConnectDetailCode.ProtocolMismatch) {
        throw new GatewayRequestError(context, 400, `the gateway does not speak protocol v4 (${error.detailCode})`);
      }
      const why =
        error.detailCode === ConnectDetailCode.AuthScopeMismatch
          ? "the gateway knows the device token but not with the credential's scopes"
          : "the gateway refused the device token";
      throw new InvalidTokenError(context, `${why} (${error.detailCode ?? error.wireCode}${error.reason ? `, ${error.reason}` : ""})`);
    }
  }

  /**
   * Remembers when, on the gateway's clock, the gateway authenticated one of this instance's connects as `deviceId`:
   * between the challenge's `ts` and that plus the time from challenge to hello-ok on this host (HandshakeTiming).
   */
  private recordOwnConnect(deviceId: string, timing: HandshakeTiming): void {
    const span = {
      // The gateway authenticates the connect after it sent the challenge: no allowance is needed before it.
      from: timing.challengeTs,
      to: timing.challengeTs + (timing.helloReceivedAt - timing.challengeReceivedAt) + OWN_CONNECT_SLACK_MS,
    };
    this.ownConnects.set(deviceId, [...(this.ownConnects.get(deviceId) ?? []), span].slice(-OWN_CONNECTS_KEPT));
  }

  private parse(token: Sensitive): DeviceCredential {
    try {
      return parseCredential(token);
    } catch (error) {
      if (!(error instanceof CredentialFormatError)) throw error;
      throw new InvalidTokenError(this.wsContext("connect"), `not an openclaw-devices credential (${error.problems.join("; ")})`);
    }
  }

  // ---- mint ----------------------------------------------------------------------------------------------------

  /** Pairs the device (approving its request when the gateway asks) and returns hello-ok.auth with its device token. */
  private async pair(
    identity: DeviceIdentity,
    scopes: readonly OperatorScope[],
    name: string,
    context: GatewayCallContext,
  ): Promise<IssuedAuth> {
    let outcome = await this.connectForPairing(identity, scopes, name, context);
    if ("requestId" in outcome) {
      await this.approve(outcome.requestId, identity.deviceId, scopes, context);
      outcome = await this.connectForPairing(identity, scopes, name, context);
      if ("requestId" in outcome) throw new PairingMismatchError(context, "the gateway still asks for approval after device.pair.approve");
    }
    const { auth, deviceToken } = outcome;
    if (!deviceToken) throw new PairingMismatchError(context, "the gateway accepted the device but issued no device token");
    if (auth.role !== OPERATOR_ROLE || !sameScopeSet(auth.scopes, scopes)) {
      throw new PairingMismatchError(context, `the gateway paired the device as ${auth.role} [${auth.scopes.join(", ")}], not ${OPERATOR_ROLE} [${scopes.join(", ")}]`);
    }
    return { ...auth, deviceToken };
  }

  /** One connect with the shared token: hello-ok (paired), or the pending request the gateway opened for it. */
  private async connectForPairing(
    identity: DeviceIdentity,
    scopes: readonly OperatorScope[],
    name: string,
    context: GatewayCallContext,
  ): Promise<{ auth: HelloAuth; deviceToken: Sensitive | undefined } | { requestId: string }> {
    let connection: OpenClawConnection;
    try {
      connection = await this.retrying(
        () =>
          OpenClawConnection.open({
            ...this.connectBase(context, identity, scopes),
            client: this.clientMetadata(this.client, name),
            token: this.options.adminToken,
            isDeviceToken: false,
          }),
        false,
      );
    } catch (error) {
      if (error instanceof ConnectionLostError && error.requestSent) {
        throw new AmbiguousOutcomeError(context, "the connection was lost after the pairing connect was sent", error);
      }
      if (!(error instanceof HandshakeRefusedError)) throw error;
      if (error.detailCode === ConnectDetailCode.PairingRequired && error.requestId) return { requestId: error.requestId };
      if (error.detailCode === ConnectDetailCode.AuthTokenMismatch) {
        throw new InvalidTokenError(context, "the gateway refused its shared token (the backend's adminToken)");
      }
      throw new PairingMismatchError(context, `the gateway refused the pairing connect (${error.detailCode ?? error.wireCode})`);
    }
    const { auth } = connection.hello;
    const deviceToken = connection.issuedDeviceToken;
    await connection.close();
    return { auth, deviceToken };
  }

  /** Approves a pending request, after checking it is exactly the one this mint opened. */
  private async approve(requestId: string, deviceId: string, scopes: readonly OperatorScope[], context: GatewayCallContext): Promise<void> {
    const pending = (await this.list(deviceId)).pending.find((p) => p.requestId === requestId);
    const role = pending?.role ?? pending?.roles?.[0];
    if (!pending || pending.deviceId !== deviceId || role !== OPERATOR_ROLE || !sameScopeSet(pending.scopes ?? [], scopes)) {
      throw new PairingMismatchError(context, `pending request ${requestId} is not the one this mint opened; it was not approved`);
    }
    await this.admin.call({ method: RpcMethod.PairApprove, params: { requestId }, idempotent: false, tokenId: deviceId });
  }

  /**
   * After a failed mint: removes whatever may have been paired for the new device ID. If that succeeds nothing was
   * minted, and the error says so; if it fails, the outcome is ambiguous and the caller cleans up by name.
   */
  private async discardHalfPaired(deviceId: string, error: unknown, context: GatewayCallContext): Promise<unknown> {
    const mayHavePaired = error instanceof AmbiguousOutcomeError || error instanceof PairingMismatchError || error instanceof ConnectionLostError;
    if (!mayHavePaired) return error;
    try {
      await this.revoke(deviceId);
    } catch (cleanupError) {
      return new AmbiguousOutcomeError(context, `the mint failed (${codeOf(error)}) and removing the half-paired device failed too`, cleanupError);
    }
    return error instanceof AmbiguousOutcomeError
      ? new GatewayUnavailableError(context, `the mint failed (${codeOf(error)}); the half-paired device was removed`, { cause: error })
      : error;
  }

  private requireScopes(request: MintRequest): OperatorScope[] {
    const unknown = request.scopes.filter((s) => !isOperatorScope(s));
    const problems = [
      ...(request.scopes.length === 0 ? [{ field: "scopes", message: "at least one operator scope is needed" }] : []),
      ...unknown.map((s) => ({ field: "scopes", message: `"${s}" is not an operator scope; use ${ALL_OPERATOR_SCOPES.join(", ")}` })),
      ...(request.name.trim() === "" ? [{ field: "name", message: "the device name must not be empty" }] : []),
    ];
    if (problems.length > 0) throw new ValidationError(`the openclaw-devices mint of "${request.name}"`, problems);
    return canonicalOperatorScopes(request.scopes as OperatorScope[]);
  }

  // ---- plumbing ------------------------------------------------------------------------------------------------

  private async list(tokenId?: string): Promise<WirePairList> {
    const payload = await this.admin.call<unknown>({ method: RpcMethod.PairList, params: {}, idempotent: true, tokenId });
    if (!isRecord(payload) || !Array.isArray(payload.pending) || !Array.isArray(payload.paired)) {
      throw new GatewayError("malformed_response", this.adminContext(RpcMethod.PairList, tokenId), "device.pair.list answered without pending/paired lists");
    }
    return payload as unknown as WirePairList;
  }

  /** Retries what the gateway calls temporary, and lost connections when nothing (or only something harmless) was sent. */
  private retrying<T>(attempt: () => Promise<T>, idempotent: boolean): Promise<T> {
    return withRetries(this.options.retry, this.sleep, attempt, (error) => {
      if (error instanceof GatewayBusyError) return error.retryAfterMs ?? 0;
      if (error instanceof ConnectionLostError && (idempotent || !error.requestSent)) return 0;
      return undefined;
    });
  }

  private async ignoringRequestErrors(call: Promise<unknown>): Promise<void> {
    try {
      await call;
    } catch (error) {
      if (!(error instanceof GatewayRequestError)) throw error;
    }
  }

  private connectBase(context: GatewayCallContext, identity: DeviceIdentity, scopes: readonly OperatorScope[]) {
    return {
      wsUrl: this.wsUrl,
      context,
      identity,
      role: OPERATOR_ROLE,
      scopes,
      userAgent: this.options.userAgent,
      timeoutMs: this.options.timeoutMs,
      WebSocket: this.options.WebSocket,
      secrets: [this.options.adminToken],
    };
  }

  private clientMetadata(client: PairingClient, displayName: string): ClientMetadata {
    return { ...client, displayName, version: CLIENT_VERSION };
  }

  private wsContext(what: string, tokenId?: string): GatewayCallContext {
    return { method: "WS", endpoint: `/ ${what}`, gatewayUrl: this.url, tokenId };
  }

  private adminContext(method: RpcMethod, tokenId?: string): GatewayCallContext {
    return { method: "POST", endpoint: `${ADMIN_RPC_PATH} ${method}`, gatewayUrl: this.url, tokenId };
  }
}

function toMetadata(device: WirePairedDevice): TokenMetadata {
  const token = device.tokens?.find((t) => t.role === OPERATOR_ROLE);
  const revoked = !token || token.revokedAtMs !== undefined;
  return {
    id: device.deviceId,
    name: device.operatorLabel ?? device.displayName ?? device.deviceId,
    scopes: [...(token?.scopes ?? device.scopes ?? [])],
    // The gateway has no expiry; the credential and the secret's tags carry it.
    expiresAt: undefined,
    createdAt: new Date(token?.createdAtMs ?? device.createdAtMs ?? 0),
    status: revoked ? TokenStatus.Revoked : TokenStatus.Active,
    lastUsedAt: token?.lastUsedAtMs === undefined ? undefined : new Date(token.lastUsedAtMs),
  };
}

function codeOf(error: unknown): string {
  return error instanceof GatewayError ? error.code : error instanceof Error ? error.name : "unknown error";
}

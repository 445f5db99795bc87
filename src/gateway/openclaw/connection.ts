import { randomUUID } from "node:crypto";
import { inspect } from "node:util";
import { Sensitive } from "../../domain/sensitive";
import { GatewayCallContext, GatewayError, GatewayRequestError } from "../errors";
import { DeviceIdentity, deviceAuthPayloadV3 } from "./device-identity";
import { ConnectionLostError, GatewayBusyError, HandshakeRefusedError, rpcFailure, scrub } from "./errors";
import {
  CONNECT_CHALLENGE_EVENT,
  ChallengePayload,
  HelloOk,
  isRecord,
  PROTOCOL_VERSION,
  ResponseFrame,
  RpcMethod,
  WireError,
  WireErrorCode,
} from "./wire";

/**
 * One WebSocket session with the gateway, as a paired (or pairing) operator device:
 *
 *   gateway → connect.challenge {nonce, ts}
 *   client  → req connect {role, scopes, client, auth.token, device {id, publicKey, signature(v3), signedAt, nonce}}
 *   gateway → res hello-ok {auth {role, scopes, deviceToken?}}      (or ok:false with error.details.code)
 *   client  ⇄ req/res RPCs, until close()
 *
 * Node 24's global WebSocket (undici) is the transport; nothing else is needed at runtime.
 */

/** Client metadata sent in `connect.params.client`. Platform and deviceFamily are bound by the signature. */
export interface ClientMetadata {
  /** One of the gateway's canonical client IDs (GATEWAY_CLIENT_IDS), e.g. "cli". */
  readonly id: string;
  /** One of the gateway's client modes, e.g. "cli". */
  readonly mode: string;
  readonly platform: string;
  readonly deviceFamily?: string;
  /** Shown in `device.pair.list` as the paired device's displayName. */
  readonly displayName?: string;
  readonly version: string;
}

export type WebSocketConstructor = new (url: string) => WebSocket;

export interface ConnectOptions {
  /** ws:// or wss:// URL of the gateway (it serves WebSocket and HTTP on one port). */
  readonly wsUrl: string;
  /** How errors name the call: method/endpoint/gatewayUrl/tokenId. */
  readonly context: GatewayCallContext;
  readonly identity: DeviceIdentity;
  /** Sent as `auth.token` and bound into the signature: the shared token when pairing, else the device token. */
  readonly token: Sensitive;
  /** Also send the token as `auth.deviceToken`, as @openclaw/gateway-client does for an explicit device token. */
  readonly isDeviceToken: boolean;
  readonly role: string;
  readonly scopes: readonly string[];
  readonly client: ClientMetadata;
  readonly userAgent: string;
  /** For the handshake and for each request. @default 10000 */
  readonly timeoutMs?: number;
  /** Injected in tests. @default globalThis.WebSocket */
  readonly WebSocket?: WebSocketConstructor;
  /** Other secrets to keep out of error messages (the device token is always kept out). */
  readonly secrets?: readonly Sensitive[];
}

interface PendingRequest {
  readonly method: string;
  readonly resolve: (payload: unknown) => void;
  readonly reject: (error: GatewayError) => void;
  readonly timer: NodeJS.Timeout;
}

type Phase = "opening" | "awaiting-challenge" | "connect-sent" | "open" | "closed";

/**
 * When a handshake happened, on both clocks: the gateway stamps connect.challenge with its own Date.now() and
 * authenticates the connect (moving a device token's lastUsedAtMs) before it answers hello-ok. So the gateway's clock
 * read at most `challengeTs + (helloReceivedAt - challengeReceivedAt)` (plus the difference of the two one-way
 * latencies) when it authenticated this connect, whatever the skew between the two clocks.
 */
export interface HandshakeTiming {
  /** connect.challenge's `ts`: the gateway's clock, in ms. */
  readonly challengeTs: number;
  /** This host's clock when the challenge arrived, in ms. */
  readonly challengeReceivedAt: number;
  /** This host's clock when hello-ok arrived, in ms. */
  readonly helloReceivedAt: number;
}

export class OpenClawConnection {
  private phase: Phase = "opening";
  private readonly pending = new Map<string, PendingRequest>();
  private readonly connectId = randomUUID();
  private readonly timeoutMs: number;
  private readonly secrets: readonly Sensitive[];
  private helloOk: HelloOk | undefined;
  private deviceToken: Sensitive | undefined;
  private challengeAt: { ts: number; receivedAt: number } | undefined;
  private timing: HandshakeTiming | undefined;
  private settleHandshake!: { resolve: (hello: HelloOk) => void; reject: (error: GatewayError) => void };
  private handshakeTimer: NodeJS.Timeout | undefined;
  private readonly closed: Promise<void>;
  private markClosed!: () => void;

  private constructor(
    private readonly ws: WebSocket,
    private readonly options: ConnectOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.secrets = [options.token, ...(options.secrets ?? [])];
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
  }

  /** Opens a socket and completes the handshake; rejects with HandshakeRefusedError, GatewayBusyError or ConnectionLostError. */
  static open(options: ConnectOptions): Promise<OpenClawConnection> {
    const Ctor: WebSocketConstructor = options.WebSocket ?? globalThis.WebSocket;
    let ws: WebSocket;
    try {
      ws = new Ctor(options.wsUrl);
    } catch (error) {
      return Promise.reject(new GatewayRequestError(options.context, 400, `not a WebSocket URL (${String(error)})`));
    }
    const connection = new OpenClawConnection(ws, options);
    return connection.handshake().then(() => connection);
  }

  /** The gateway's hello-ok, without `auth.deviceToken` (see issuedDeviceToken). */
  get hello(): HelloOk {
    if (!this.helloOk) throw new Error("the handshake has not completed");
    return this.helloOk;
  }

  /** hello-ok.auth.deviceToken: the device token the gateway issued (or, on a device-token connect, echoed). */
  get issuedDeviceToken(): Sensitive | undefined {
    return this.deviceToken;
  }

  /** When the handshake happened, on the gateway's clock and this host's. */
  get handshakeTiming(): HandshakeTiming {
    if (!this.timing) throw new Error("the handshake has not completed");
    return this.timing;
  }

  [inspect.custom](): string {
    return `OpenClawConnection(${this.options.wsUrl}, ${this.phase})`;
  }

  /** Calls a gateway RPC method and resolves with its payload; an `ok: false` answer rejects with its GatewayError. */
  request<T>(method: string, params: unknown = {}, tokenId?: string): Promise<T> {
    const context: GatewayCallContext = { ...this.options.context, endpoint: `/ ${method}`, tokenId: tokenId ?? this.options.context.tokenId };
    if (this.phase !== "open") {
      return Promise.reject(new ConnectionLostError(context, "the connection is not open", false));
    }
    const id = randomUUID();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ConnectionLostError(context, `no answer within ${this.timeoutMs} ms`, true));
      }, this.timeoutMs);
      this.pending.set(id, { method, resolve: (p) => resolve(p as T), reject, timer });
      this.send({ type: "req", id, method, params });
    });
  }

  /** Closes the socket (normal closure) and waits, briefly, for the close to complete. */
  async close(): Promise<void> {
    if (this.phase === "closed") return;
    try {
      this.ws.close(1000, "done");
    } catch {
      // Already closing.
    }
    await Promise.race([this.closed, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    this.finish("the client closed the connection");
  }

  private handshake(): Promise<HelloOk> {
    return new Promise<HelloOk>((resolve, reject) => {
      this.settleHandshake = { resolve, reject };
      this.handshakeTimer = setTimeout(
        () => this.failHandshake(new ConnectionLostError(this.options.context, `no hello-ok within ${this.timeoutMs} ms`, this.phase === "connect-sent")),
        this.timeoutMs,
      );
      this.ws.addEventListener("open", () => {
        if (this.phase === "opening") this.phase = "awaiting-challenge";
      });
      this.ws.addEventListener("message", (event) => this.onMessage(event.data));
      this.ws.addEventListener("error", (event) => {
        const message = (event as { message?: string }).message || "WebSocket error";
        this.onGone(`WebSocket error (${scrub(message, this.secrets)})`);
      });
      this.ws.addEventListener("close", (event) => {
        this.onGone(`the gateway closed the connection (${event.code}${event.reason ? ` ${scrub(event.reason, this.secrets)}` : ""})`);
        this.markClosed();
      });
    });
  }

  private onMessage(data: unknown): void {
    let frame: unknown;
    try {
      frame = JSON.parse(typeof data === "string" ? data : Buffer.from(data as ArrayBuffer).toString("utf8"));
    } catch {
      return; // Not a protocol frame; the gateway only sends JSON text frames.
    }
    if (!isRecord(frame)) return;
    if (frame.type === "event" && frame.event === CONNECT_CHALLENGE_EVENT) return this.onChallenge(frame.payload);
    if (frame.type === "res") return this.onResponse(frame as unknown as ResponseFrame);
    // Other events (tick, presence, ...) are not needed here.
  }

  private onChallenge(payload: unknown): void {
    if (this.phase !== "awaiting-challenge" && this.phase !== "opening") return;
    if (!isChallenge(payload)) {
      this.failHandshake(new GatewayRequestError(this.options.context, 400, "the gateway sent a malformed connect.challenge"));
      return;
    }
    this.challengeAt = { ts: payload.ts, receivedAt: Date.now() };
    const { identity, role, scopes, client, token } = this.options;
    const signature = identity.sign(
      deviceAuthPayloadV3({
        deviceId: identity.deviceId,
        clientId: client.id,
        clientMode: client.mode,
        role,
        scopes,
        signedAtMs: payload.ts,
        token: token.reveal(),
        nonce: payload.nonce,
        platform: client.platform,
        deviceFamily: client.deviceFamily,
      }),
    );
    this.send({
      type: "req",
      id: this.connectId,
      method: RpcMethod.Connect,
      params: {
        minProtocol: PROTOCOL_VERSION,
        maxProtocol: PROTOCOL_VERSION,
        client: {
          id: client.id,
          version: client.version,
          platform: client.platform,
          mode: client.mode,
          ...(client.deviceFamily ? { deviceFamily: client.deviceFamily } : {}),
          ...(client.displayName ? { displayName: client.displayName } : {}),
        },
        role,
        scopes: [...scopes],
        caps: [],
        auth: this.options.isDeviceToken ? { token: token.reveal(), deviceToken: token.reveal() } : { token: token.reveal() },
        userAgent: this.options.userAgent,
        device: {
          id: identity.deviceId,
          publicKey: identity.publicKey,
          signature,
          signedAt: payload.ts,
          nonce: payload.nonce,
        },
      },
    });
    this.phase = "connect-sent";
  }

  private onResponse(frame: ResponseFrame): void {
    if (frame.id === this.connectId) {
      if (this.phase !== "connect-sent") return;
      if (frame.ok && isHelloOk(frame.payload)) {
        clearTimeout(this.handshakeTimer);
        // The device token never stays in a plain field: it goes into Sensitive at once.
        const { deviceToken, ...auth } = frame.payload.auth;
        this.deviceToken = typeof deviceToken === "string" && deviceToken !== "" ? new Sensitive(deviceToken) : undefined;
        this.helloOk = { ...frame.payload, auth };
        const challenge = this.challengeAt as { ts: number; receivedAt: number };
        this.timing = { challengeTs: challenge.ts, challengeReceivedAt: challenge.receivedAt, helloReceivedAt: Date.now() };
        this.phase = "open";
        this.settleHandshake.resolve(this.helloOk);
      } else if (frame.ok) {
        this.failHandshake(new GatewayRequestError(this.options.context, 400, "the gateway answered connect without a hello-ok"));
      } else {
        this.failHandshake(this.refusal(frame.error));
      }
      return;
    }
    const pending = this.pending.get(frame.id);
    if (!pending) return;
    this.pending.delete(frame.id);
    clearTimeout(pending.timer);
    if (frame.ok) {
      pending.resolve(frame.payload);
    } else {
      const context = { ...this.options.context, endpoint: `/ ${pending.method}` };
      pending.reject(rpcFailure(context, frame.error ?? { code: "UNKNOWN" }, this.secrets));
    }
  }

  private refusal(error: WireError | undefined): GatewayError {
    const wire = error ?? { code: "UNKNOWN" };
    const detail = `${wire.details?.code ?? wire.code}: ${scrub(wire.message ?? "connect refused", this.secrets)}`;
    // "Not now" answers (startup sidecars, suspension) are retryable; an auth lockout is too, after its wait.
    if (wire.code === WireErrorCode.Unavailable || wire.retryable) {
      return new GatewayBusyError(this.options.context, detail, wire.retryAfterMs);
    }
    return new HandshakeRefusedError(this.options.context, wire, detail);
  }

  private onGone(detail: string): void {
    if (this.phase === "closed") return;
    if (this.phase !== "open") {
      this.failHandshake(new ConnectionLostError(this.options.context, detail, this.phase === "connect-sent"));
      return;
    }
    this.finish(detail);
  }

  private failHandshake(error: GatewayError): void {
    if (this.phase === "open" || this.phase === "closed") return;
    clearTimeout(this.handshakeTimer);
    this.settleHandshake.reject(error);
    this.finish("the handshake failed");
    try {
      this.ws.close(1000, "handshake failed");
    } catch {
      // Already closing.
    }
  }

  /** Marks the connection closed and fails every request still waiting: they were sent, so they may have acted. */
  private finish(detail: string): void {
    this.phase = "closed";
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new ConnectionLostError({ ...this.options.context, endpoint: `/ ${pending.method}` }, detail, true));
      this.pending.delete(id);
    }
  }

  private send(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }
}

function isChallenge(value: unknown): value is ChallengePayload {
  return (
    isRecord(value) &&
    typeof value.nonce === "string" &&
    value.nonce.length > 0 &&
    typeof value.ts === "number" &&
    Number.isInteger(value.ts) &&
    value.ts >= 0
  );
}

function isHelloOk(value: unknown): value is HelloOk {
  return (
    isRecord(value) &&
    value.type === "hello-ok" &&
    isRecord(value.auth) &&
    typeof value.auth.role === "string" &&
    Array.isArray(value.auth.scopes)
  );
}

/** The WebSocket URL of a gateway given by its HTTP(S) base URL (same host and port). */
export function webSocketUrlOf(gatewayUrl: string): string {
  const url = new URL(gatewayUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString().replace(/\/+$/, "");
}

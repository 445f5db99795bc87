import { Agent, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ApiError, ApiErrorCode } from "../errors";
import { errorReply, writeRawReply, writeReply } from "../http-io";
import { downstreamResponseHeaders, upstreamRequestHeaders, type UpstreamIdentity } from "./forward-headers";
import { ADMIN_RPC_PATH } from "./scope-map";

export interface UpstreamOptions {
  /** Base URL of the OpenClaw gateway, e.g. http://127.0.0.1:18789 (http only: it listens on loopback or a private network). */
  readonly url: URL;
  /** gateway.auth.trustedProxy.userHeader of the OpenClaw config. @default "x-forwarded-user" */
  readonly userHeader?: string;
  /**
   * Local address the front connects to the upstream from; set it to the one address in gateway.trustedProxies
   * (e.g. 127.0.0.2) so that another local process connecting from 127.0.0.1 is not a trusted proxy.
   */
  readonly sourceAddress?: string;
  /**
   * OpenClaw refuses proxied traffic it can only attribute to a loopback client (proxy_attribution_required).
   * Consumers on the front's own host are attributed to this address instead; unset, their requests are refused.
   */
  readonly localConsumerAddress?: string;
  /** Inactivity allowed on an upstream exchange (no byte either way) before it is cut. @default 120000 */
  readonly idleTimeoutMs?: number;
  /** Time allowed to open the upstream connection. @default 10000 */
  readonly connectTimeoutMs?: number;
  /** Inactivity allowed on a WebSocket tunnel before both ends are closed. @default 600000 */
  readonly tunnelIdleTimeoutMs?: number;
  /**
   * How often an open WebSocket connection is recorded in its token's request log (websocket-activity.ts).
   * @default DEFAULT_WEBSOCKET_ACTIVITY_INTERVAL_MS (60000)
   */
  readonly websocketActivityIntervalMs?: number;
}

/** What the owner of a tunnel learns about it while it is open (websocket-activity.ts records it). */
export interface TunnelObserver {
  /** The upstream switched protocols: the tunnel is open. */
  opened(): void;
  /** Bytes arrived from the client (its frames, pings and pongs); called per chunk, so it must be cheap. */
  clientData(): void;
  /** Either side closed; called once. */
  closed(): void;
}

/** A WebSocket tunnel, kept so the front can cut it when its token stops being valid. */
export interface Tunnel {
  readonly tokenId: string;
  close(): void;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/**
 * Forwarding to the upstream OpenClaw gateway with node:http (no proxy library: http-proxy, the one most others
 * wrap, has had no release since 2020 and leaves socket errors to the caller; what the front needs is 200 lines).
 *
 * - HTTP: the response is piped as it arrives (server-sent events are never buffered); `pipeline` gives
 *   backpressure both ways and tears down both sides on error or client abort.
 * - WebSocket: the upgrade is sent upstream on its own connection; on 101 the two sockets are piped together.
 * - Timeouts: connect, and inactivity per exchange; a failure before the response started answers 502/504 with
 *   the contract's error body, after it started the client connection is cut (the only honest signal left).
 */
export class UpstreamProxy {
  readonly userHeader: string;
  readonly #options: UpstreamOptions;
  readonly #agent: Agent;
  readonly #tunnels = new Set<Tunnel>();

  constructor(options: UpstreamOptions) {
    if (options.url.protocol !== "http:") throw new Error(`--upstream must be an http:// URL, got ${options.url.protocol}`);
    this.#options = options;
    this.userHeader = (options.userHeader ?? "x-forwarded-user").toLowerCase();
    this.#agent = new Agent({ keepAlive: true, maxSockets: 512, ...(options.sourceAddress && { localAddress: options.sourceAddress }) });
  }

  /** The address to send in X-Forwarded-For for a client seen at `remoteAddress`. */
  clientAddress(remoteAddress: string | undefined): string {
    const address = remoteAddress ?? "";
    return LOOPBACK.test(address) && this.#options.localConsumerAddress ? this.#options.localConsumerAddress : address;
  }

  /**
   * Forwards one HTTP exchange; `body` when the front already read it (to check an RPC method). Resolves to the
   * status the client got (the upstream's, or the front's 502/504), once the response has started.
   */
  forward(req: IncomingMessage, res: ServerResponse, path: string, identity: UpstreamIdentity, body?: Buffer): Promise<number> {
    return new Promise((resolve) => {
      const headers = upstreamRequestHeaders(req.headers, identity, this.userHeader);
      if (body !== undefined) headers["content-length"] = String(body.length);
      const upstream = request({ ...this.#target(path), method: req.method, headers, agent: this.#agent });
      let answered = false;
      const fail = (error: ApiError): void => {
        if (answered) return;
        answered = true;
        // A client that went away gets nothing; one whose response started gets a cut connection.
        if (res.headersSent || res.destroyed) res.destroy();
        else writeReply(res, errorReply(error));
        resolve(error.status);
      };
      this.#applyTimeouts(upstream, fail);
      upstream.on("error", (cause) => fail(badGateway(cause)));
      upstream.on("response", (upRes) => {
        if (answered) return upRes.destroy();
        answered = true;
        res.writeHead(upRes.statusCode ?? 502, downstreamResponseHeaders(upRes.headers));
        // An event stream's headers go out now, not with its first event.
        if (String(upRes.headers["content-type"] ?? "").startsWith("text/event-stream")) res.flushHeaders();
        resolve(upRes.statusCode ?? 502);
        pipeline(upRes, res).catch(() => {
          upstream.destroy();
          res.destroy();
        });
      });
      // A client that goes away takes its upstream exchange with it.
      res.once("close", () => {
        if (!res.writableFinished) upstream.destroy();
      });
      if (body !== undefined) upstream.end(body);
      else pipeline(req, upstream).catch(() => upstream.destroy());
    });
  }

  /**
   * Forwards a WebSocket upgrade. Resolves to the status the upstream answered (101 when the tunnel is open),
   * or the front's 502/504. The tunnel is registered under `tokenId` until either side closes; `observer` hears
   * of its opening, the client's bytes and its close.
   */
  upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    path: string,
    identity: UpstreamIdentity,
    tokenId: string,
    observer?: TunnelObserver,
  ): Promise<number> {
    return new Promise((resolve) => {
      const headers = upstreamRequestHeaders(req.headers, identity, this.userHeader);
      headers.connection = "Upgrade";
      headers.upgrade = "websocket";
      const upstream = request({
        ...this.#target(path),
        method: "GET",
        headers,
        ...(this.#options.sourceAddress && { localAddress: this.#options.sourceAddress }),
      });
      let answered = false;
      const fail = (error: ApiError): void => {
        if (answered) return;
        answered = true;
        writeRawReply(socket, errorReply(error));
        resolve(error.status);
      };
      this.#applyTimeouts(upstream, fail);
      upstream.on("error", (cause) => fail(badGateway(cause)));
      socket.on("error", () => upstream.destroy());
      upstream.on("response", (upRes) => {
        // The upstream refused to switch protocols: relay its (small) answer, then close.
        answered = true;
        const status = upRes.statusCode ?? 502;
        resolve(status);
        readSmall(upRes).then(
          (body) => {
            const headers = downstreamResponseHeaders(upRes.headers);
            delete headers["content-length"];
            writeRawReply(socket, { status, body: undefined, rawBody: body, headers: headers as Record<string, string> });
          },
          () => socket.destroy(),
        );
      });
      upstream.on("upgrade", (upRes, upSocket, upHead) => {
        answered = true;
        upstream.setTimeout(0);
        socket.write(statusBlock(upRes));
        if (upHead.length > 0) socket.write(upHead);
        if (head.length > 0) upSocket.write(head);
        let open = true;
        const tunnel: Tunnel = {
          tokenId,
          close: () => {
            this.#tunnels.delete(tunnel);
            if (open) {
              open = false;
              observer?.closed();
            }
            socket.destroy();
            upSocket.destroy();
          },
        };
        this.#tunnels.add(tunnel);
        const idle = this.#options.tunnelIdleTimeoutMs ?? 600_000;
        // node:http hands a net.Socket to 'upgrade' listeners on both sides; the Duplex type is wider than that.
        for (const side of [socket as Socket, upSocket]) {
          side.setTimeout(idle, tunnel.close);
          side.once("close", tunnel.close);
          side.on("error", tunnel.close);
        }
        (upSocket as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
        socket.pipe(upSocket);
        upSocket.pipe(socket);
        if (observer) {
          observer.opened();
          if (head.length > 0) observer.clientData();
          // A second 'data' listener beside pipe() only observes: the flow and its backpressure stay pipe()'s.
          socket.on("data", () => observer.clientData());
        }
        // A side that closed while the upgrade was under way emits no 'close' for the listeners above.
        if (socket.destroyed || upSocket.destroyed) tunnel.close();
        resolve(upRes.statusCode ?? 101);
      });
      upstream.end();
    });
  }

  /**
   * Calls one admin HTTP RPC method on the upstream as the front itself, on behalf of `identity` (for the guide's
   * routes the front translates, such as GET /v1/agents). Resolves to the method's payload; an upstream error is
   * an ApiError with the upstream's status and message.
   */
  rpc(method: string, params: unknown, identity: UpstreamIdentity): Promise<unknown> {
    const body = Buffer.from(JSON.stringify({ method, params }));
    const headers = upstreamRequestHeaders({ "content-type": "application/json" }, identity, this.userHeader);
    headers["content-length"] = String(body.length);
    return new Promise((resolve, reject) => {
      const upstream = request({ ...this.#target(ADMIN_RPC_PATH), method: "POST", headers, agent: this.#agent });
      this.#applyTimeouts(upstream, reject);
      upstream.on("error", (cause) => reject(badGateway(cause)));
      upstream.on("response", (upRes) => {
        readSmall(upRes, 4 * 1024 * 1024).then((raw) => {
          let answer: { ok?: boolean; payload?: unknown; error?: { message?: string } } | undefined;
          try {
            answer = JSON.parse(raw.toString("utf8")) as typeof answer;
          } catch {
            answer = undefined;
          }
          if (upRes.statusCode === 200 && answer?.ok === true) return resolve(answer.payload);
          const status = upRes.statusCode === 403 || upRes.statusCode === 404 ? upRes.statusCode : 502;
          reject(
            new ApiError(status, status === 502 ? ApiErrorCode.BadGateway : status === 403 ? ApiErrorCode.InsufficientScope : ApiErrorCode.NotFound, `OpenClaw refused ${method}: ${answer?.error?.message ?? `HTTP ${upRes.statusCode}`}`),
          );
        }, reject);
      });
      upstream.end(body);
    });
  }

  /** Open WebSocket tunnels (for cutting those whose token was revoked, suspended or expired). */
  tunnels(): readonly Tunnel[] {
    return [...this.#tunnels];
  }

  close(): void {
    for (const tunnel of this.#tunnels) tunnel.close();
    this.#agent.destroy();
  }

  /**
   * Host, port and path of the upstream request. `path` is the target as the front parsed and authorised it
   * (normalised pathname and query), never the raw one: what was checked is what is forwarded.
   */
  #target(path: string): { host: string; port: string; path: string } {
    const { hostname, port } = this.#options.url;
    return { host: hostname.replace(/^\[|\]$/g, ""), port: port || "80", path };
  }

  #applyTimeouts(upstream: ReturnType<typeof request>, fail: (error: ApiError) => void): void {
    const connectTimer = setTimeout(() => {
      fail(new ApiError(504, ApiErrorCode.UpstreamTimeout, "the OpenClaw gateway did not accept the connection in time"));
      upstream.destroy();
    }, this.#options.connectTimeoutMs ?? 10_000);
    upstream.once("socket", (s) => {
      if (!s.connecting) clearTimeout(connectTimer);
      else s.once("connect", () => clearTimeout(connectTimer));
    });
    upstream.once("close", () => clearTimeout(connectTimer));
    upstream.setTimeout(this.#options.idleTimeoutMs ?? 120_000, () => {
      fail(new ApiError(504, ApiErrorCode.UpstreamTimeout, "the OpenClaw gateway did not answer in time"));
      upstream.destroy();
    });
  }
}

function badGateway(cause: Error): ApiError {
  const code = (cause as NodeJS.ErrnoException).code ?? cause.message;
  return new ApiError(502, ApiErrorCode.BadGateway, `the OpenClaw gateway cannot be reached (${code}); retry later`, { cause });
}

/** The status line and headers of an upstream response, as raw bytes for a socket. */
function statusBlock(upRes: IncomingMessage): string {
  const lines = [`HTTP/1.1 ${upRes.statusCode ?? 502} ${upRes.statusMessage ?? ""}`];
  for (let i = 0; i < upRes.rawHeaders.length; i += 2) lines.push(`${upRes.rawHeaders[i]}: ${upRes.rawHeaders[i + 1]}`);
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/** A small upstream body (a refused upgrade, an RPC answer); anything past `maxBytes` is dropped. */
async function readSmall(stream: IncomingMessage, maxBytes = 64 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size <= maxBytes) chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

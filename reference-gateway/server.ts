import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { Environment } from "../src/domain/environments";
import { TokenOpsError, ValidationError } from "../src/domain/errors";
import { ANONYMOUS, identifyCaller, requireActiveToken, requireScope, type Caller } from "./auth";
import { OffsetClock } from "./clock";
import { ApiError, ApiErrorCode } from "./errors";
import { FaultInjector, FaultKind } from "./faults";
import { errorReply, invalidRequest, parseJson, readBody, writeRawReply, writeReply, type Reply } from "./http-io";
import { AgentStore, ToolStore } from "./catalog";
import { CONSUMER_HEADER, consumerOf } from "./consumers";
import { JobStore } from "./jobs";
import { RequestLog } from "./request-log";
import { matchRoute, type AuthenticatedContext, type Route } from "./router";
import { adminTokenRoutes } from "./routes/admin-tokens";
import { apiRoutes } from "./routes/api";
import { catalogRoutes } from "./routes/catalog";
import type { GatewayServices, TestControls } from "./routes/context";
import { testControlRoutes } from "./routes/test-control";
import { TokenRegistry, TokenStatus, tokenStatus, type TokenRecord } from "./token-registry";
import { Scope } from "../src/domain/scopes";
import type { UpstreamIdentity } from "./upstream/forward-headers";
import { frontAgentRoutes } from "./upstream/agent-routes";
import { UpstreamProxy, type UpstreamOptions } from "./upstream/proxy";
import { operatorScopesFor, RPC_METHOD_OPERATOR_SCOPES, rpcMethodOf, scopeOfRpcMethod, upstreamRouteOf } from "./upstream/scope-map";

export interface GatewayOptions {
  /** The one environment this gateway serves; it mints and accepts only that environment's prefix. */
  readonly environment: Environment;
  /** Holds tokens.json and requests.jsonl; shared with the admin CLI. */
  readonly stateDir: string;
  /** Mount `/_test/clock`, `/_test/faults` and `/_test/latency`. @default false */
  readonly testControl?: boolean;
  /** Latency added before every request, for benchmarks. @default 0 */
  readonly latencyMs?: number;
  /**
   * Serve in front of a real OpenClaw gateway (trusted-proxy mode): the token API stays local, everything else
   * is authorised by the scope map and forwarded. Absent: standalone, with the sample agents and jobs.
   */
  readonly upstream?: UpstreamOptions;
  /** A client must send all its headers within this time, and the whole request within 4 times it. @default 15000 */
  readonly headersTimeoutMs?: number;
}

/** Admin HTTP RPC bodies OpenClaw accepts up to 1 MB; the front reads them to check the method. */
const MAX_RPC_BODY_BYTES = 1024 * 1024;
/** Slow clients: all headers within this time, the whole request (headers and body) within the next. */
const HEADERS_TIMEOUT_MS = 15_000;
/** How often open WebSocket tunnels are checked against their token's status. */
const TUNNEL_SWEEP_MS = 1_000;

/** Time allowed for in-flight requests on close before their connections are cut. */
const CLOSE_GRACE_MS = 5_000;
const TEST_CONTROL_PREFIX = "/_test/";

/**
 * The reference gateway: the documented HTTP contract (docs/gateway-api.md) on node:http.
 *
 * Each request goes through: test-control routes (if enabled) → injected latency and faults → caller
 * identification → routing, authentication and scope check → handler → request log → response.
 */
export class ReferenceGateway {
  readonly environment: Environment;
  readonly #server: Server;
  readonly #services: GatewayServices;
  readonly #controls: TestControls;
  readonly #routes: readonly Route[];
  readonly #testRoutes: readonly Route[] | undefined;
  readonly #upstream: UpstreamProxy | undefined;
  readonly #tunnelSweep: NodeJS.Timeout | undefined;
  readonly #headersTimeoutMs: number;
  /** Requests held by a "timeout" fault; each function drops its connection. */
  readonly #held = new Set<() => void>();
  #closing: Promise<void> | undefined;

  private constructor(services: GatewayServices, options: GatewayOptions) {
    this.environment = services.environment;
    this.#services = services;
    this.#controls = { clock: services.clock, faults: new FaultInjector(), latencyMs: options.latencyMs ?? 0 };
    this.#upstream = options.upstream ? new UpstreamProxy(options.upstream) : undefined;
    this.#headersTimeoutMs = options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
    // In front of OpenClaw, the sample agents and jobs give way to the upstream's own routes.
    const api = this.#upstream ? frontApiRoutes(services) : apiRoutes(services);
    const upstream = this.#upstream;
    const catalog = upstream
      ? frontAgentRoutes((ctx, method, params) => upstream.rpc(method, params, this.#identity(upstream, ctx.req, ctx.token)))
      : catalogRoutes(services);
    this.#routes = [...api, ...catalog, ...adminTokenRoutes(services)];
    this.#testRoutes = options.testControl ? testControlRoutes(this.#controls) : undefined;
    // Timeouts are checked every second (node's default is 30 s, far too coarse for a 15 s headers limit).
    this.#server = createServer({ connectionsCheckingInterval: 1_000 }, (req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        process.stderr.write(`reference-gateway: cannot answer ${req.method} ${req.url}: ${String(error)}\n`);
        res.destroy();
      });
    });
    this.#hardenEdge();
    if (this.#upstream) {
      this.#server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        this.#handleUpgrade(req, socket, head).catch((error: unknown) => {
          process.stderr.write(`reference-gateway: cannot upgrade ${req.url}: ${String(error)}\n`);
          socket.destroy();
        });
      });
      this.#tunnelSweep = setInterval(() => this.#cutInvalidTunnels(), TUNNEL_SWEEP_MS).unref();
    }
  }

  /**
   * Limits for the HTTP edge: a client that sends its headers or body too slowly gets a 408, a request node:http
   * cannot parse (bad request line, header too large, bad chunking) an answer in the contract's error shape
   * instead of a silently closed connection.
   */
  #hardenEdge(): void {
    this.#server.headersTimeout = this.#headersTimeoutMs;
    this.#server.requestTimeout = this.#headersTimeoutMs * 4;
    this.#server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
      const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
      const message =
        status === 431 ? "request headers too large; send at most 16 KiB of headers" :
        status === 408 ? "request not received in time; send the whole request promptly" :
        "malformed HTTP request";
      const code = status === 400 ? ApiErrorCode.InvalidRequest : status === 408 ? ApiErrorCode.RequestTimeout : ApiErrorCode.HeadersTooLarge;
      if (socket.writable && !(socket as { _httpMessage?: unknown })._httpMessage) writeRawReply(socket, errorReply(new ApiError(status, code, message)));
      else socket.destroy();
    });
  }

  /** Opens the state dir (refusing one of another environment) and loads the request log. */
  static async open(options: GatewayOptions): Promise<ReferenceGateway> {
    const clock = new OffsetClock();
    const registry = await TokenRegistry.open(options.stateDir, options.environment, clock);
    const requestLog = RequestLog.open(registry.db);
    const services: GatewayServices = {
      environment: options.environment,
      clock,
      registry,
      requestLog,
      jobs: new JobStore(),
      agents: new AgentStore(),
      tools: new ToolStore(),
    };
    return new ReferenceGateway(services, options);
  }

  /** Starts listening; resolves to the base URL (with the actual port when `port` is 0). */
  async listen(port: number, host: string): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    const hostPart = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return `http://${hostPart}:${address.port}`;
  }

  /** Stops accepting connections, drops held requests, lets in-flight ones finish, flushes the log. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    for (const release of [...this.#held]) release();
    clearInterval(this.#tunnelSweep);
    this.#upstream?.close();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    const force = setTimeout(() => this.#server.closeAllConnections(), CLOSE_GRACE_MS);
    await closed;
    clearTimeout(force);
    await this.#services.requestLog.close();
    this.#services.registry.close();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = requestUrl(req);
    } catch (error) {
      writeReply(res, this.#errorReply(error));
      return;
    }
    if (this.#testRoutes && url.pathname.startsWith(TEST_CONTROL_PREFIX)) {
      writeReply(res, await this.#route(req, url, this.#testRoutes, ANONYMOUS).catch((e: unknown) => this.#errorReply(e)));
      return;
    }
    if (this.#controls.latencyMs > 0) await sleep(this.#controls.latencyMs);
    const fault = this.#controls.faults.pick(url.pathname);
    if (fault !== undefined) {
      this.#injectFault(fault, req, res);
      return;
    }

    const { clock, registry } = this.#services;
    let caller: Caller = ANONYMOUS;
    let reply: Reply;
    try {
      registry.refresh(); // one stat: picks up tokens created or revoked by the admin CLI
      caller = identifyCaller(registry, req.headers.authorization, clock.now().getTime());
      if (this.#upstream && matchRoute(this.#routes, req.method ?? "GET", url.pathname).kind === "not-found") {
        const status = await this.#forward(this.#upstream, req, res, url, caller);
        this.#log(req, url, caller, status);
        return;
      }
      reply = await this.#route(req, url, this.#routes, caller);
    } catch (error) {
      reply = this.#errorReply(error);
    }
    this.#log(req, url, caller, reply.status);
    writeReply(res, reply);
  }

  #log(req: IncomingMessage, url: URL, caller: Caller, status: number): void {
    if (!caller.record) return;
    const userAgent = req.headers["user-agent"] ?? null;
    const { consumer, source } = consumerOf(req.headers[CONSUMER_HEADER], req.socket.remoteAddress, userAgent);
    const entry = {
      at: this.#services.clock.now().toISOString(),
      method: req.method ?? "GET",
      path: url.pathname,
      status,
      userAgent,
      consumer,
    };
    this.#services.requestLog.record(caller.record.id, entry, caller.status === TokenStatus.Active, source);
  }

  /**
   * Authorises a request for the upstream by the scope map and forwards it. Throws (nothing written yet) when
   * the front refuses it; otherwise resolves to the status the client got.
   */
  async #forward(upstream: UpstreamProxy, req: IncomingMessage, res: ServerResponse, url: URL, caller: Caller): Promise<number> {
    const token = requireActiveToken(caller);
    const route = upstreamRouteOf(req.method ?? "GET", url.pathname);
    let body: Buffer | undefined;
    let extraScopes: readonly string[] = [];
    if (route?.requires === "rpc") {
      body = await readBody(req, MAX_RPC_BODY_BYTES);
      const method = rpcMethodOf(parseJson(body));
      if (method === undefined) throw new ValidationError("admin RPC request", [{ field: "method", message: 'required; a string such as "health"' }]);
      const required = scopeOfRpcMethod(method);
      requireScope(token, required);
      if (required !== Scope.AdminAll && !token.scopes.includes(Scope.AdminAll)) extraScopes = RPC_METHOD_OPERATOR_SCOPES[method] ?? [];
    } else {
      requireScope(token, route?.requires ?? Scope.AdminAll);
    }
    return upstream.forward(req, res, url.pathname + url.search, this.#identity(upstream, req, token, extraScopes), body);
  }

  #identity(upstream: UpstreamProxy, req: IncomingMessage, token: TokenRecord, extraScopes: readonly string[] = []): UpstreamIdentity {
    const operatorScopes = [...new Set([...operatorScopesFor(token.scopes), ...extraScopes])];
    return {
      user: token.name,
      operatorScopes,
      clientAddress: upstream.clientAddress(req.socket.remoteAddress),
      proto: "encrypted" in req.socket && req.socket.encrypted ? "https" : "http",
      host: req.headers.host,
    };
  }

  /** A WebSocket upgrade: any active token may open one; OpenClaw caps what it may do by x-openclaw-scopes. */
  async #handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const upstream = this.#upstream as UpstreamProxy;
    const { clock, registry } = this.#services;
    let caller: Caller = ANONYMOUS;
    let url: URL;
    let status: number;
    try {
      url = requestUrl(req);
    } catch (error) {
      writeRawReply(socket, this.#errorReply(error));
      return;
    }
    try {
      registry.refresh();
      caller = identifyCaller(registry, req.headers.authorization, clock.now().getTime());
      const token = requireActiveToken(caller);
      status = await upstream.upgrade(req, socket, head, url.pathname + url.search, this.#identity(upstream, req, token), token.id);
    } catch (error) {
      const reply = this.#errorReply(error);
      writeRawReply(socket, reply);
      status = reply.status;
    }
    this.#log(req, url, caller, status);
  }

  /** Cuts WebSocket tunnels whose token was revoked, expired or removed since they opened. */
  #cutInvalidTunnels(): void {
    const upstream = this.#upstream as UpstreamProxy;
    const tunnels = upstream.tunnels();
    if (tunnels.length === 0) return;
    try {
      this.#services.registry.refresh();
    } catch {
      return; // state trouble is reported by the next request; keep the tunnels meanwhile
    }
    const now = this.#services.clock.now().getTime();
    for (const tunnel of tunnels) {
      const record = this.#services.registry.get(tunnel.tokenId);
      if (!record || tokenStatus(record, now) !== TokenStatus.Active) tunnel.close();
    }
  }

  /** Routes, authenticates and runs the handler; throws what the client should be told. */
  async #route(req: IncomingMessage, url: URL, routes: readonly Route[], caller: Caller): Promise<Reply> {
    const method = req.method ?? "GET";
    const match = matchRoute(routes, method, url.pathname);
    if (match.kind === "not-found") {
      throw new ApiError(404, ApiErrorCode.NotFound, `no route ${method} ${url.pathname}; see docs/gateway-api.md`);
    }
    if (match.kind === "method-not-allowed") {
      const allow = match.allow.join(", ");
      throw new ApiError(405, ApiErrorCode.MethodNotAllowed, `${method} is not allowed on ${url.pathname}; use ${allow}`, {
        headers: { allow },
      });
    }
    const { route, params } = match;
    const ctx = { req, url, params };
    if (route.requires === null) return route.handle(ctx);
    const token = requireActiveToken(caller);
    if (route.requires !== "token") requireScope(token, route.requires);
    return route.handle({ ...ctx, token });
  }

  #errorReply(error: unknown): Reply {
    if (error instanceof ApiError) return errorReply(error);
    if (error instanceof ValidationError) return errorReply(invalidRequest(error));
    // State trouble (corrupt tokens.json, a stuck lock, another environment's dir) is the operator's to fix:
    // the details go to stderr, the client learns only that the gateway cannot serve right now.
    if (error instanceof TokenOpsError) {
      process.stderr.write(`reference-gateway: ${error.message}\n`);
      return errorReply(new ApiError(503, ApiErrorCode.Unavailable, "token state unavailable; the operator should check the gateway's stderr"));
    }
    process.stderr.write(`reference-gateway: internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
    return errorReply(new ApiError(500, ApiErrorCode.Internal, "internal error; the operator should check the gateway's stderr"));
  }

  /** Injected faults stand in for trouble in front of the gateway, so they are not in the request log. */
  #injectFault(kind: FaultKind, req: IncomingMessage, res: ServerResponse): void {
    const retryAfter = { "retry-after": String(this.#controls.faults.spec.retryAfterSeconds) };
    switch (kind) {
      case FaultKind.Internal:
        return writeReply(res, errorReply(new ApiError(500, ApiErrorCode.Internal, "internal error (injected fault)")));
      case FaultKind.Unavailable:
        return writeReply(
          res,
          errorReply(new ApiError(503, ApiErrorCode.Unavailable, "gateway unavailable (injected fault); retry later", { headers: retryAfter })),
        );
      case FaultKind.RateLimited:
        return writeReply(
          res,
          errorReply(
            new ApiError(429, ApiErrorCode.RateLimited, `rate limited (injected fault); retry after ${retryAfter["retry-after"]} s`, {
              headers: retryAfter,
            }),
          ),
        );
      case FaultKind.Reset:
        req.socket.destroy();
        return;
      case FaultKind.Timeout: {
        const release = (): void => {
          clearTimeout(timer);
          this.#held.delete(release);
          req.socket.destroy();
        };
        const timer = setTimeout(release, this.#controls.faults.spec.holdMs);
        this.#held.add(release);
        // A client that gives up first closes the socket: forget the request then, not 30 s later.
        req.socket.once("close", release);
        return;
      }
    }
  }
}

/**
 * The front's own client API: health, and whoami with the operator scopes OpenClaw will cap the token to (what a
 * consumer needs to know when OpenClaw answers "missing scope").
 */
function frontApiRoutes(services: GatewayServices): Route[] {
  return apiRoutes(services)
    .filter((r) => r.pattern === "/healthz" || r.pattern === "/v1/auth/whoami")
    .map((r): Route =>
      r.pattern === "/v1/auth/whoami" && r.requires !== null
        ? {
            ...r,
            handle: async (ctx: AuthenticatedContext) => {
              const reply = await r.handle(ctx);
              return { ...reply, body: { ...(reply.body as object), operatorScopes: operatorScopesFor(ctx.token.scopes) } };
            },
          }
        : r,
    );
}

/**
 * The request target as a URL. Only origin-form targets ("/path?query") are served: an absolute or
 * authority-form target, or one starting with "//" (which a URL parser reads as another host), is a 400.
 */
function requestUrl(req: IncomingMessage): URL {
  const target = req.url ?? "/";
  if (!target.startsWith("/") || target.startsWith("//")) {
    throw new ApiError(400, ApiErrorCode.InvalidRequest, `request target ${JSON.stringify(target.slice(0, 100))} is not a path; send /path?query`);
  }
  try {
    return new URL(target, "http://gateway.invalid");
  } catch {
    throw new ApiError(400, ApiErrorCode.InvalidRequest, "request target is not a valid path");
  }
}

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
import { errorReply, invalidRequest, requestUrl, writeRawReply, writeReply, type Reply } from "./http-io";
import { AgentStore, ToolStore } from "./catalog";
import { CONSUMER_HEADER, consumerOf } from "./consumers";
import { JobStore } from "./jobs";
import { logOutageRefusal } from "./log-outage";
import { matchRoute, type Route } from "./router";
import { adminTokenRoutes } from "./routes/admin-tokens";
import { apiRoutes } from "./routes/api";
import { catalogRoutes } from "./routes/catalog";
import type { GatewayServices, TestControls } from "./routes/context";
import { testControlRoutes } from "./routes/test-control";
import { openDynamoDbRegistry, type DynamoDbRegistryOptions } from "./dynamodb/registry";
import type { GatewayRegistry } from "./registry-store";
import { openSqliteRegistry } from "./sqlite-store";
import { TokenStatus } from "./token-registry";
import { TokenFront } from "./upstream/front";
import type { UpstreamOptions } from "./upstream/proxy";

export interface GatewayOptions {
  /** The one environment this gateway serves; it mints and accepts only that environment's prefix. */
  readonly environment: Environment;
  /**
   * Holds registry.sqlite (tokens, request log, consumer aggregates); shared with the admin CLI. Required unless
   * `registryTable` is set.
   */
  readonly stateDir?: string;
  /** A fleet's registry in a DynamoDB table (`--registry-table`) instead of the state dir's SQLite file. */
  readonly registryTable?: Omit<DynamoDbRegistryOptions, "environment" | "clock">;
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

/** Slow clients: all headers within this time, the whole request (headers and body) within the next. */
const HEADERS_TIMEOUT_MS = 15_000;

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
  /** Set in front mode (`--upstream`). */
  readonly #front: TokenFront | undefined;
  readonly #headersTimeoutMs: number;
  /** Requests held by a "timeout" fault; each function drops its connection. */
  readonly #held = new Set<() => void>();
  #closing: Promise<void> | undefined;

  private constructor(services: GatewayServices, options: GatewayOptions) {
    this.environment = services.environment;
    this.#services = services;
    this.#controls = { clock: services.clock, faults: new FaultInjector(), latencyMs: options.latencyMs ?? 0 };
    this.#headersTimeoutMs = options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
    this.#front = options.upstream
      ? new TokenFront(options.upstream, services, {
          log: (req, url, caller, status, method) => this.#log(req, url, caller, status, method),
          errorReply: (error) => this.#errorReply(error),
        })
      : undefined;
    // In front of OpenClaw, the sample agents, jobs and tools give way to the upstream's own routes.
    const clientRoutes = this.#front ? this.#front.routes() : [...apiRoutes(services), ...catalogRoutes(services)];
    this.#routes = [...clientRoutes, ...adminTokenRoutes(services)];
    this.#testRoutes = options.testControl ? testControlRoutes(this.#controls) : undefined;
    // Timeouts are checked every second (node's default is 30 s, far too coarse for a 15 s headers limit).
    this.#server = createServer({ connectionsCheckingInterval: 1_000 }, (req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        process.stderr.write(`reference-gateway: cannot answer ${req.method} ${req.url}: ${String(error)}\n`);
        res.destroy();
      });
    });
    this.#hardenEdge();
    const front = this.#front;
    if (front) {
      this.#server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        front.upgrade(req, socket, head).catch((error: unknown) => {
          process.stderr.write(`reference-gateway: cannot upgrade ${req.url}: ${String(error)}\n`);
          socket.destroy();
        });
      });
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

  /** Opens the registry, the state dir's or the fleet's table (refusing one of another environment), and its request log. */
  static async open(options: GatewayOptions): Promise<ReferenceGateway> {
    const clock = new OffsetClock();
    const { tokens: registry, requestLog } = await openRegistry(options, clock);
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
    this.#front?.close();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    const force = setTimeout(() => this.#server.closeAllConnections(), CLOSE_GRACE_MS);
    await closed;
    clearTimeout(force);
    await this.#services.requestLog.close();
    await this.#services.registry.close();
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
      caller = await identifyCaller(registry, req.headers.authorization, clock.now().getTime());
      const refusal = caller.record && logOutageRefusal(this.#services.requestLog);
      if (refusal) {
        // Not recorded either: the log cannot take it, and its entry would only push served ones out of the backlog.
        writeReply(res, errorReply(refusal));
        return;
      }
      if (this.#front && matchRoute(this.#routes, req.method ?? "GET", url.pathname).kind === "not-found") {
        const status = await this.#front.forward(req, res, url, caller);
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

  /** `method` stands in for the request's own in a WebSocket connection's activity records (upstream/websocket-activity.ts). */
  #log(req: IncomingMessage, url: URL, caller: Caller, status: number, method?: string): void {
    if (!caller.record) return;
    const userAgent = req.headers["user-agent"] ?? null;
    const { consumer, source } = consumerOf(req.headers[CONSUMER_HEADER], req.socket.remoteAddress, userAgent);
    const entry = {
      at: this.#services.clock.now().toISOString(),
      method: method ?? req.method ?? "GET",
      path: url.pathname,
      status,
      userAgent,
      consumer,
    };
    try {
      this.#services.requestLog.record(caller.record.id, entry, caller.status === TokenStatus.Active, source);
    } catch (error) {
      // Losing a log entry must be visible, but must not cost the client its answer.
      process.stderr.write(`reference-gateway: cannot record a request of ${caller.record.id}: ${(error as Error).message}\n`);
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
    // State trouble (an unreadable or locked registry, another environment's dir) is the operator's to fix:
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

/** The fleet's DynamoDB table when one is named, else the state dir's embedded SQLite registry. */
function openRegistry(options: GatewayOptions, clock: OffsetClock): Promise<GatewayRegistry> {
  const { environment, registryTable, stateDir } = options;
  if (registryTable) return openDynamoDbRegistry({ ...registryTable, environment, clock });
  if (stateDir === undefined) throw new ValidationError("gateway options", [{ field: "stateDir", message: "required without registryTable" }]);
  return openSqliteRegistry(stateDir, environment, clock);
}

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { ValidationError } from "../../src/domain/errors";
import { Scope } from "../../src/domain/scopes";
import { ANONYMOUS, identifyCaller, insufficientScope, requireActiveToken, requireScope, type Caller } from "../auth";
import { parseJson, readBody, requestUrl, writeRawReply, type Reply } from "../http-io";
import { logOutageRefusal } from "../log-outage";
import type { AuthenticatedContext, Route } from "../router";
import { apiRoutes } from "../routes/api";
import type { GatewayServices } from "../routes/context";
import { TokenStatus, tokenStatus, type TokenRecord } from "../token-registry";
import { frontAgentRoutes } from "./agent-routes";
import type { UpstreamIdentity } from "./forward-headers";
import { UpstreamProxy, type UpstreamOptions } from "./proxy";
import { DEFAULT_WEBSOCKET_ACTIVITY_INTERVAL_MS, WEBSOCKET_ACTIVITY_STATUS, WebSocketActivityRecorder } from "./websocket-activity";
import { operatorScopesFor, RPC_METHOD_OPERATOR_SCOPES, rpcMethodOf, scopeOfRpcMethod, upstreamRouteOf } from "./scope-map";

/** Admin HTTP RPC bodies OpenClaw accepts up to 1 MB; the front reads them to check the method. */
const MAX_RPC_BODY_BYTES = 1024 * 1024;
/** How often open WebSocket tunnels are checked against their token's status. */
const TUNNEL_SWEEP_MS = 1_000;

/** What the front needs from the server: its one request log and its one error shape. */
export interface FrontHooks {
  /** Records `req` in the caller's request log; `method` stands in for the request's own (WebSocket activity). */
  log(req: IncomingMessage, url: URL, caller: Caller, status: number, method?: string): void;
  errorReply(error: unknown): Reply;
}

/**
 * Front mode (`serve --upstream`): the server's routes for a real OpenClaw gateway, the authorisation of
 * everything else by the scope map, and the forwarding of HTTP requests and WebSocket upgrades with the
 * token's identity (docs/gateway-api.md, "Token front").
 */
export class TokenFront {
  readonly #proxy: UpstreamProxy;
  readonly #services: GatewayServices;
  readonly #hooks: FrontHooks;
  readonly #tunnelSweep: NodeJS.Timeout;
  readonly #activityIntervalMs: number;

  constructor(options: UpstreamOptions, services: GatewayServices, hooks: FrontHooks) {
    this.#proxy = new UpstreamProxy(options);
    this.#activityIntervalMs = options.websocketActivityIntervalMs ?? DEFAULT_WEBSOCKET_ACTIVITY_INTERVAL_MS;
    this.#services = services;
    this.#hooks = hooks;
    this.#tunnelSweep = setInterval(() => void this.#cutInvalidTunnels(), TUNNEL_SWEEP_MS).unref();
  }

  /** The front's own client routes: health, whoami with the operator cap, and the guide's agents list. */
  routes(): Route[] {
    const rpc = (ctx: AuthenticatedContext, method: string, params: unknown) => this.#proxy.rpc(method, params, this.#identity(ctx.req, ctx.token));
    return [...frontApiRoutes(this.#services), ...frontAgentRoutes(rpc)];
  }

  close(): void {
    clearInterval(this.#tunnelSweep);
    this.#proxy.close();
  }

  /**
   * Authorises a request for the upstream by the scope map and forwards it. Throws (nothing written yet) when
   * the front refuses it; otherwise resolves to the status the client got.
   */
  async forward(req: IncomingMessage, res: ServerResponse, url: URL, caller: Caller): Promise<number> {
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
    return this.#proxy.forward(req, res, url.pathname + url.search, this.#identity(req, token, extraScopes), body);
  }

  #identity(req: IncomingMessage, token: TokenRecord, extraScopes: readonly string[] = []): UpstreamIdentity {
    const operatorScopes = [...new Set([...operatorScopesFor(token.scopes), ...extraScopes])];
    return {
      user: token.name,
      operatorScopes,
      clientAddress: this.#proxy.clientAddress(req.socket.remoteAddress),
      proto: "encrypted" in req.socket && req.socket.encrypted ? "https" : "http",
      host: req.headers.host,
    };
  }

  /**
   * A WebSocket upgrade: any active token that reaches OpenClaw may open one; OpenClaw caps what it may do by
   * x-openclaw-scopes. The upgrade is logged once; while the connection is open, its activity is logged once per
   * interval (websocket-activity.ts), attributed like the upgrade, so that a consumer holding a connection on a
   * token stays visible to the rotator's drain.
   */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { clock, registry } = this.#services;
    let caller: Caller = ANONYMOUS;
    let url: URL;
    let status: number;
    try {
      url = requestUrl(req);
    } catch (error) {
      writeRawReply(socket, this.#hooks.errorReply(error));
      return;
    }
    try {
      caller = await identifyCaller(registry, req.headers.authorization, clock.now().getTime());
      const refusal = caller.record && logOutageRefusal(this.#services.requestLog);
      if (refusal) {
        // As for HTTP (server.ts): refused before any tunnel opens, and not recorded.
        writeRawReply(socket, this.#hooks.errorReply(refusal));
        return;
      }
      const token = requireActiveToken(caller);
      requireUpstreamReach(token);
      const opened = caller;
      const activity = new WebSocketActivityRecorder(this.#activityIntervalMs, (method) =>
        this.#hooks.log(req, url, opened, WEBSOCKET_ACTIVITY_STATUS, method),
      );
      status = await this.#proxy.upgrade(req, socket, head, url.pathname + url.search, this.#identity(req, token), token.id, activity);
    } catch (error) {
      const reply = this.#hooks.errorReply(error);
      writeRawReply(socket, reply);
      status = reply.status;
    }
    this.#hooks.log(req, url, caller, status);
  }

  /**
   * Cuts WebSocket tunnels whose token was revoked, expired or removed since they opened, and every tunnel while the
   * request log is in outage: their activity records would stay unwritten, so the client should reconnect through
   * a front that records them.
   */
  async #cutInvalidTunnels(): Promise<void> {
    const tunnels = this.#proxy.tunnels();
    if (tunnels.length === 0) return;
    if (this.#services.requestLog.outage()) {
      for (const tunnel of tunnels) tunnel.close();
      return;
    }
    const now = this.#services.clock.now().getTime();
    for (const tunnel of tunnels) {
      let record;
      try {
        record = await this.#services.registry.findById(tunnel.tokenId);
      } catch {
        return; // state trouble is reported by the next request; keep the tunnels meanwhile
      }
      if (!record || tokenStatus(record, now) !== TokenStatus.Active) tunnel.close();
    }
  }
}

/**
 * Refuses (403) a token whose scopes cap to no operator scope (`admin:tokens` alone): it has nothing to do on
 * OpenClaw, and an empty cap is not a refusal OpenClaw is asked to make. `read:agents` is the narrowest scope that
 * reaches it.
 */
function requireUpstreamReach(token: TokenRecord): void {
  if (operatorScopesFor(token.scopes).length === 0) {
    throw insufficientScope(Scope.ReadAgents, `${token.scopes.join(", ")} reaches nothing on the OpenClaw gateway; a connection needs a scope that does, the narrowest being read:agents`);
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

import { Scope } from "../../src/domain/scopes";
import { OperatorScope, canonicalOperatorScopes } from "../../src/gateway/openclaw/scopes";

/**
 * The scope map of the token front (docs/gateway-api.md, "Scope map"): which of the guide's scopes lets a token
 * reach which route and RPC method of a real OpenClaw gateway, and which operator scopes the front then sends in
 * `x-openclaw-scopes`, the cap OpenClaw applies to a trusted-proxy caller. The front checks the guide scope; OpenClaw
 * checks the operator scope under the cap, so a route the front lets through can still refuse what the cap excludes.
 */
export const OPERATOR_SCOPES_OF: Readonly<Record<Scope, readonly OperatorScope[]>> = {
  [Scope.ReadAgents]: [OperatorScope.Read],
  [Scope.ReadJobs]: [OperatorScope.Read],
  [Scope.RunJobs]: [OperatorScope.Write],
  [Scope.WriteAgents]: [OperatorScope.Write],
  [Scope.AdminTools]: [OperatorScope.Write, OperatorScope.Approvals],
  // Token management is the front's own API: nothing of it reaches OpenClaw, so it caps to no operator scope.
  [Scope.AdminTokens]: [],
  // OpenClaw's default operator set for an identity-bearing caller: what its shared secret grants.
  [Scope.AdminAll]: [
    OperatorScope.Admin,
    OperatorScope.Read,
    OperatorScope.Write,
    OperatorScope.Approvals,
    OperatorScope.Pairing,
    OperatorScope.TalkSecrets,
  ],
};

/** The operator scopes a token's scopes cap to: the union of the map's rows, in canonical order. */
export function operatorScopesFor(scopes: readonly Scope[]): OperatorScope[] {
  return canonicalOperatorScopes(scopes.flatMap((s) => OPERATOR_SCOPES_OF[s]));
}

/** A route of the upstream gateway and the guide scope it needs at the front. */
export interface UpstreamRoute {
  readonly method: "GET" | "POST" | "*";
  /** Literal segments and `:name` parameters; `*` as the last segment matches the rest of the path. */
  readonly pattern: string;
  /** A scope, or "rpc" when the scope depends on the JSON body's `method` (admin HTTP RPC). */
  readonly requires: Scope | "rpc";
}

/** OpenClaw's HTTP surface that needs no `admin:*` (docs/gateway/openai-http-api.md, tools-invoke-http-api.md). */
export const UPSTREAM_ROUTES: readonly UpstreamRoute[] = [
  { method: "GET", pattern: "/v1/models", requires: Scope.ReadAgents },
  { method: "GET", pattern: "/v1/models/:id", requires: Scope.ReadAgents },
  { method: "POST", pattern: "/v1/chat/completions", requires: Scope.RunJobs },
  { method: "POST", pattern: "/v1/responses", requires: Scope.RunJobs },
  { method: "POST", pattern: "/v1/embeddings", requires: Scope.RunJobs },
  { method: "POST", pattern: "/tools/invoke", requires: Scope.RunJobs },
  { method: "POST", pattern: "/api/v1/admin/rpc", requires: "rpc" },
];

/** Admin HTTP RPC path: its `method` field decides the scope (RPC_METHOD_SCOPES). */
export const ADMIN_RPC_PATH = "/api/v1/admin/rpc";

/**
 * The methods of OpenClaw's admin HTTP RPC allowlist (docs/plugins/admin-http-rpc.md) that a narrower scope than
 * `admin:*` may call. Every other method (config, devices, nodes, restart, channels, ...) needs `admin:*`.
 */
export const RPC_METHOD_SCOPES: Readonly<Record<string, Scope>> = {
  "commands.list": Scope.ReadAgents,
  health: Scope.ReadAgents,
  "models.list": Scope.ReadAgents,
  "agents.list": Scope.ReadAgents,
  "tasks.list": Scope.ReadJobs,
  "tasks.get": Scope.ReadJobs,
  "cron.list": Scope.ReadJobs,
  "cron.get": Scope.ReadJobs,
  "cron.runs": Scope.ReadJobs,
  "cron.status": Scope.ReadJobs,
  "tasks.cancel": Scope.RunJobs,
  "cron.run": Scope.RunJobs,
  "agents.create": Scope.WriteAgents,
  "agents.update": Scope.WriteAgents,
  "agents.delete": Scope.WriteAgents,
  "exec.approvals.get": Scope.AdminTools,
  "exec.approvals.set": Scope.AdminTools,
  "exec.approvals.node.get": Scope.AdminTools,
  "exec.approvals.node.set": Scope.AdminTools,
};

/**
 * Operator scopes OpenClaw requires for a method beyond the cap of the scope that reaches it: it asks
 * `operator.admin` for agents.create/update/delete (measured on 2026.9.6). The front adds them to the cap of that
 * one request only, whose method it has checked; the token's connections and other requests never get them.
 */
export const RPC_METHOD_OPERATOR_SCOPES: Readonly<Record<string, readonly OperatorScope[]>> = {
  "agents.create": [OperatorScope.Admin],
  "agents.update": [OperatorScope.Admin],
  "agents.delete": [OperatorScope.Admin],
};

/** The `method` of an admin RPC body, or undefined when the body is not a JSON object with a string method. */
export function rpcMethodOf(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const method = (body as Record<string, unknown>).method;
  return typeof method === "string" ? method : undefined;
}

/** The scope an admin RPC method needs at the front. */
export function scopeOfRpcMethod(method: string): Scope {
  return Object.hasOwn(RPC_METHOD_SCOPES, method) ? RPC_METHOD_SCOPES[method] : Scope.AdminAll;
}

/**
 * The scope a request to the upstream needs. Paths outside UPSTREAM_ROUTES (Control UI, plugin routes, hooks)
 * need `admin:*`: the front lets through only what the map names. A WebSocket upgrade needs any valid token whose
 * cap is not empty (front.ts): what it may do over the connection is capped by `x-openclaw-scopes`.
 */
export function upstreamRouteOf(method: string, path: string): UpstreamRoute | undefined {
  return UPSTREAM_ROUTES.find((r) => (r.method === "*" || r.method === method) && patternMatches(r.pattern, path));
}

function patternMatches(pattern: string, path: string): boolean {
  const want = pattern.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return false;
  return want.every((segment, i) => segment.startsWith(":") ? got[i] !== "" : segment === got[i]);
}


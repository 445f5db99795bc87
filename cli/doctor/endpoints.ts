/** The scope each endpoint of the documented contract needs (docs/gateway-api.md "Endpoints"). */
import { Scope } from "../../src/domain/scopes";

const ENDPOINTS: ReadonlyArray<{ readonly method: string; readonly path: RegExp; readonly scope: Scope | undefined }> = [
  { method: "GET", path: /^\/v1\/auth\/whoami$/, scope: undefined },
  { method: "GET", path: /^\/v1\/agents$/, scope: Scope.ReadAgents },
  { method: "POST", path: /^\/v1\/jobs$/, scope: Scope.RunJobs },
  { method: "GET", path: /^\/v1\/jobs\/[^/]+$/, scope: Scope.ReadJobs },
  // Token management needs admin:tokens, which admin:* includes (scopeSatisfies).
  { method: "POST", path: /^\/v1\/admin\/tokens$/, scope: Scope.AdminTokens },
  { method: "GET", path: /^\/v1\/admin\/tokens(\/[^/]+(\/requests|\/consumers)?)?$/, scope: Scope.AdminTokens },
  { method: "POST", path: /^\/v1\/admin\/tokens\/[^/]+\/(revoke|suspend|reinstate)$/, scope: Scope.AdminTokens },
];

export type EndpointScope = { readonly known: true; readonly scope: Scope | undefined } | { readonly known: false };

/** `'POST /v1/jobs'` (or `POST /v1/jobs?x=1`) to the scope it needs; a path without a method means GET. */
export function scopeForEndpoint(endpoint: string): EndpointScope {
  const match = /^\s*(?:([A-Za-z]+)\s+)?(\/\S*)\s*$/.exec(endpoint);
  if (!match) return { known: false };
  const method = (match[1] ?? "GET").toUpperCase();
  const path = match[2].replace(/[?#].*$/, "").replace(/\/+$/, "") || "/";
  const found = ENDPOINTS.find((e) => e.method === method && e.path.test(path));
  return found ? { known: true, scope: found.scope } : { known: false };
}

export function describeEndpoints(): string {
  return "GET /v1/agents, POST /v1/jobs, GET /v1/jobs/{id}, GET /v1/auth/whoami, /v1/admin/tokens...";
}

import type { IncomingMessage } from "node:http";
import type { Scope } from "../src/domain/scopes";
import type { Reply } from "./http-io";
import type { TokenRecord } from "./token-registry";

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly url: URL;
  /** Decoded `:name` segments of the route pattern. */
  readonly params: Readonly<Record<string, string>>;
}

export interface AuthenticatedContext extends RequestContext {
  /** The caller's active token, already checked for the route's scope. */
  readonly token: TokenRecord;
}

type Method = "GET" | "POST" | "PATCH" | "DELETE";

/** A route answered without a token. */
export interface PublicRoute {
  readonly method: Method;
  /** Literal segments and `:name` parameters, e.g. `/v1/admin/tokens/:id/revoke`. */
  readonly pattern: string;
  readonly requires: null;
  handle(ctx: RequestContext): Promise<Reply> | Reply;
}

/** A route that needs an active token: any token ("token") or one holding the given scope. */
export interface ProtectedRoute {
  readonly method: Method;
  readonly pattern: string;
  readonly requires: Scope | "token";
  handle(ctx: AuthenticatedContext): Promise<Reply> | Reply;
}

export type Route = PublicRoute | ProtectedRoute;

export type RouteMatch =
  | { readonly kind: "found"; readonly route: Route; readonly params: Record<string, string> }
  | { readonly kind: "method-not-allowed"; readonly allow: readonly Method[] }
  | { readonly kind: "not-found" };

export function matchRoute(routes: readonly Route[], method: string, path: string): RouteMatch {
  const allow: Method[] = [];
  for (const route of routes) {
    const params = matchPattern(route.pattern, path);
    if (params === undefined) continue;
    if (route.method === method) return { kind: "found", route, params };
    allow.push(route.method);
  }
  return allow.length > 0 ? { kind: "method-not-allowed", allow } : { kind: "not-found" };
}

function matchPattern(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(":")) {
      const value = safeDecode(got[i]);
      if (!value) return undefined;
      params[want[i].slice(1)] = value;
    } else if (want[i] !== got[i]) {
      return undefined;
    }
  }
  return params;
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

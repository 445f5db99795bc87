import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";

/** RFC 9110 §7.6.1 hop-by-hop headers: never forwarded in either direction (an upgrade sets its own). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Headers a client could use to claim an identity, scopes or an origin at OpenClaw, and the caller's own
 * credential. The front drops all of them and sets its own (UpstreamIdentity): a spoofed `x-forwarded-user` or
 * `x-openclaw-scopes` never reaches the gateway, and neither does the bearer token.
 */
const CLIENT_IDENTITY = new Set(["authorization", "forwarded", "x-real-ip", "x-openclaw-scopes", "x-openclaw-consumer"]);

/** What the front vouches for on a forwarded request. */
export interface UpstreamIdentity {
  /** The value of the trusted-proxy user header: the token's name. */
  readonly user: string;
  /** Sent as `x-openclaw-scopes` (comma-separated; empty means no operator scope). */
  readonly operatorScopes: readonly string[];
  /** The address the front attributes the request to: the first and only hop of X-Forwarded-For. */
  readonly clientAddress: string;
  /** The scheme and Host the client used, for X-Forwarded-Proto and X-Forwarded-Host. */
  readonly proto: "http" | "https";
  readonly host: string | undefined;
}

/**
 * The headers of the upstream request: the client's, minus hop-by-hop, identity and forwarding headers (and any
 * header the client listed in `Connection`), plus the front's identity headers. `userHeader` is lower case.
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  identity: UpstreamIdentity,
  userHeader: string,
): OutgoingHttpHeaders {
  const listedInConnection = new Set(
    String(incoming.connection ?? "")
      .split(",")
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== ""),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || CLIENT_IDENTITY.has(name) || listedInConnection.has(name)) continue;
    if (name === userHeader || name.startsWith("x-forwarded-") || name === "host") continue;
    out[name] = value;
  }
  out[userHeader] = identity.user;
  out["x-openclaw-scopes"] = identity.operatorScopes.join(",");
  // Overwritten, never appended: the front trusts no hop before itself, so the chain is the one peer it saw.
  out["x-forwarded-for"] = identity.clientAddress;
  out["x-forwarded-proto"] = identity.proto;
  if (identity.host !== undefined) out["x-forwarded-host"] = identity.host;
  return out;
}

/** The headers of the client response: the upstream's minus hop-by-hop headers. */
export function downstreamResponseHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

/** Whether a request asks to switch to WebSocket. */
export function isWebSocketUpgrade(headers: IncomingHttpHeaders): boolean {
  return String(headers.upgrade ?? "").toLowerCase() === "websocket";
}

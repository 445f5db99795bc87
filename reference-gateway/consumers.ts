/**
 * Who calls with a token: a consumer identity per request. The per-token aggregate of distinct consumers (first
 * seen, last seen, request count, last status) is kept by the request log (request-log.ts).
 */

/** The header a client sets to name itself (an instance ID); without it the address and User-Agent stand in. */
export const CONSUMER_HEADER = "x-openclaw-consumer";
/** The project's own calls (provider, rotator, CLI) are never consumer traffic (src/gateway/backend.ts). */
export const OWN_USER_AGENT_PREFIX = "openclaw-token-ops/";
/** A consumer header value: 1-128 visible ASCII characters; anything else is ignored. */
const CONSUMER_ID = /^[\x21-\x7e]{1,128}$/;

export const ConsumerSource = { Header: "header", Address: "address" } as const;
export type ConsumerSource = (typeof ConsumerSource)[keyof typeof ConsumerSource];

export interface ConsumerIdentity {
  /** The header's value, or `<address> <User-Agent>`: what makes two requests the same consumer. */
  readonly consumer: string;
  readonly source: ConsumerSource;
}

export function consumerOf(header: string | string[] | undefined, address: string | undefined, userAgent: string | null): ConsumerIdentity {
  const named = typeof header === "string" ? header.trim() : undefined;
  if (named !== undefined && CONSUMER_ID.test(named)) return { consumer: named, source: ConsumerSource.Header };
  return { consumer: `${address ?? "unknown"} ${userAgent ?? "-"}`, source: ConsumerSource.Address };
}

export function isOwnTraffic(userAgent: string | null): boolean {
  return userAgent !== null && userAgent.startsWith(OWN_USER_AGENT_PREFIX);
}

/** One consumer of one token, as `GET /v1/admin/tokens/{id}/consumers` answers it. */
export interface ConsumerSummary {
  readonly consumer: string;
  readonly source: ConsumerSource;
  readonly firstSeenAt: string;
  readonly lastSeenAt: string;
  readonly requests: number;
  readonly lastStatus: number;
}

import type { TunnelObserver } from "./proxy";

/**
 * The request-log methods of an open WebSocket connection's records (docs/gateway-api.md, "WebSocket connections in
 * the request log"). The upgrade itself is logged as the `GET` it is; these follow, one per interval while it is open.
 */
export const WebSocketActivity = {
  /** The client sent frames (messages, pings or pongs) during the interval. */
  Active: "WEBSOCKET",
  /** The connection stayed open, nothing came from the client: it still holds the token and would be cut with it. */
  Idle: "WEBSOCKET-IDLE",
} as const;
export type WebSocketActivity = (typeof WebSocketActivity)[keyof typeof WebSocketActivity];

/** The status of every activity record: the connection is still the 101 Switching Protocols it was opened as. */
export const WEBSOCKET_ACTIVITY_STATUS = 101;

/**
 * One record per connection per minute. The consumers aggregate keeps per-minute tallies (a window is never finer
 * than a minute), and what reads it acts on far longer times (the drain's settle time, and its 15-minute silence
 * margin beyond the consumers' cache TTL): a connection at most a minute behind is never taken for a silent one. The
 * write cost stays one small record per open connection per minute, whatever it sends.
 */
export const DEFAULT_WEBSOCKET_ACTIVITY_INTERVAL_MS = 60_000;

/**
 * Records one open WebSocket connection in its token's request log: exactly one record per interval from its opening
 * until it closes, Active when the client sent anything in that interval (its frames coalesced, however many), else
 * Idle. A frame costs a flag, never a write, so the log grows with time and connections, not with traffic.
 *
 * The last partial interval before a close is not recorded: the connection's records are at most one interval behind
 * it, and a consumer that reconnects with a new token and then closes the old connection shows no old-token use
 * after its first new one (what the drain reads as "moved").
 */
export class WebSocketActivityRecorder implements TunnelObserver {
  readonly #intervalMs: number;
  readonly #record: (activity: WebSocketActivity) => void;
  #timer: NodeJS.Timeout | undefined;
  #clientSpoke = false;
  #closed = false;

  /** `record` writes one entry attributed as the upgrade was; it must not throw. */
  constructor(intervalMs: number, record: (activity: WebSocketActivity) => void) {
    this.#intervalMs = intervalMs;
    this.#record = record;
  }

  get isOpen(): boolean {
    return this.#timer !== undefined && !this.#closed;
  }

  opened(): void {
    if (this.#closed || this.#timer) return;
    // unref: an open connection keeps the server's socket alive, not this timer.
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs).unref();
  }

  clientData(): void {
    this.#clientSpoke = true;
  }

  closed(): void {
    this.#closed = true;
    clearInterval(this.#timer);
  }

  #tick(): void {
    if (this.#closed) return;
    const activity = this.#clientSpoke ? WebSocketActivity.Active : WebSocketActivity.Idle;
    this.#clientSpoke = false;
    this.#record(activity);
  }
}

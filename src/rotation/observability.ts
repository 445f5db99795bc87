/** The CloudWatch namespace the rotator's EMF metrics are published under. */
export const METRICS_NAMESPACE = "OpenClawTokens";

/**
 * The rotator's Powertools service name. Powertools Metrics always adds it as a `service` dimension (its default
 * dimensions are `{ service, ...defaultDimensions }`, with no option to leave it out), so it is part of every
 * metric's identity in CloudWatch and every alarm must name it.
 */
export const ROTATOR_SERVICE = "openclaw-rotator";

/**
 * The exact dimension set of every metric the rotator publishes. CloudWatch treats each distinct dimension set as a
 * different metric: an alarm on a subset of these watches a metric no one publishes. The handler and the alarms
 * both take it from here.
 */
export function metricDimensions(environment: string): { readonly service: string; readonly environment: string } {
  return { service: ROTATOR_SERVICE, environment };
}

/** Metrics the rotator emits (EMF in the Lambda); alarms fire on the failure ones. */
export const Metric = {
  TokensDue: "TokensDue",
  RotationsStarted: "RotationsStarted",
  RotationsCompleted: "RotationsCompleted",
  RotationsFailed: "RotationsFailed",
  ConsumersStillOnOldToken: "ConsumersStillOnOldToken",
  BadState: "BadState",
  EmergencyRevocations: "EmergencyRevocations",
  /** 1 for every scheduled run that completed (whatever its tokens' outcomes): its absence is what an alarm watches. */
  Heartbeat: "Heartbeat",
} as const;
export type Metric = (typeof Metric)[keyof typeof Metric];

/** Durable step boundaries of a rotation: each follows one write to the gateway or the secret. */
export const Boundary = {
  IntentRecorded: "intent-recorded",
  Minted: "minted",
  Staged: "staged",
  Verified: "verified",
  Promoted: "promoted",
  DrainingRecorded: "draining-recorded",
  /** The old token is suspended on the gateway and the ledger records when (the grace window starts). */
  OldSuspended: "old-suspended",
  OldRevoked: "old-revoked",
  RevocationConfirmed: "revocation-confirmed",
  Completed: "completed",
} as const;
export type Boundary = (typeof Boundary)[keyof typeof Boundary];

/** Structured fields of a log line: token name and ID, never a value. */
export interface LogFields {
  readonly token?: string;
  readonly tokenId?: string;
  readonly step?: string;
  readonly [key: string]: unknown;
}

export interface RotationLogger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/**
 * Metrics kept per token, beside the environment-wide ones the alarms watch: they carry a third dimension, `token`,
 * so they are separate CloudWatch metrics and never change what an alarm sees.
 */
export const TokenMetric = {
  /** At every drain check: how many consumers the evidence still finds on the old token (0 once all moved). */
  ConsumersOnOldToken: "ConsumersOnOldToken",
} as const;
export type TokenMetric = (typeof TokenMetric)[keyof typeof TokenMetric];

export interface MetricsSink {
  add(metric: Metric, count?: number): void;
  /** A per-token gauge (dimensions service, environment and token). Optional: sinks without it drop these. */
  addForToken?(metric: TokenMetric, token: string, value: number): void;
}

/**
 * Hooks around the engine's work. `checkpoint` is called after every durable step: the demo shows progress with
 * it, and the crash tests kill the process there.
 */
export interface RotationObserver {
  checkpoint?(boundary: Boundary, token: string): void | Promise<void>;
}

export const silentLogger: RotationLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
export const noMetrics: MetricsSink = { add: () => undefined };

/** Rotation milestones published as events (EventBridge in the Lambda) for consumers and on-call to act on. */
export const RotationMilestone = {
  Promoted: "promoted",
  Completed: "completed",
  /** Consumers are still on the old token while it drains: the event names them. */
  Stalled: "stalled",
  EmergencyRevoked: "emergency-revoked",
} as const;
export type RotationMilestone = (typeof RotationMilestone)[keyof typeof RotationMilestone];

/** One milestone of one token's rotation: names and token IDs only, never a token value. */
export interface RotationEvent {
  readonly milestone: RotationMilestone;
  readonly environment: string;
  readonly token: string;
  readonly secretName: string;
  /** The token consumers should now hold (AWSCURRENT). */
  readonly tokenId?: string;
  /** The token being retired (AWSPREVIOUS until it is revoked). */
  readonly oldTokenId?: string;
  /** Tokens the leak response revoked. */
  readonly revokedTokenIds?: readonly string[];
  /** Consumer identities still seen on the old token. */
  readonly consumersOnOldToken?: readonly string[];
}

/** Where milestone events go. An implementation must not throw: a lost event never fails a rotation. */
export interface EventSink {
  publish(event: RotationEvent): Promise<void>;
}

export const noEvents: EventSink = { publish: async () => undefined };

/** The `source` of every rotation event: rules match on it. */
export const EVENT_SOURCE = "openclaw-token-ops";
/** The bus events go to unless OPENCLAW_EVENT_BUS names another. */
export const DEFAULT_EVENT_BUS = "default";

const TITLES: Readonly<Record<RotationMilestone, string>> = {
  [RotationMilestone.Promoted]: "Promoted",
  [RotationMilestone.Completed]: "Completed",
  [RotationMilestone.Stalled]: "Stalled",
  [RotationMilestone.EmergencyRevoked]: "Emergency Revoked",
};

/** The detail-type of a milestone's event, e.g. "OpenClaw Token Rotation Emergency Revoked". */
export function detailType(milestone: RotationMilestone): string {
  return `OpenClaw Token Rotation ${TITLES[milestone]}`;
}

/** The EventBridge pattern of one milestone's events for one environment (the deployment's example rule). */
export function rotationEventPattern(environment: string, milestone: RotationMilestone): object {
  return { source: [EVENT_SOURCE], "detail-type": [detailType(milestone)], detail: { environment: [environment] } };
}

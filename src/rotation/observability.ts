/** Metrics the rotator emits (EMF in the Lambda); alarms fire on the failure ones. */
export const Metric = {
  TokensDue: "TokensDue",
  RotationsStarted: "RotationsStarted",
  RotationsCompleted: "RotationsCompleted",
  RotationsFailed: "RotationsFailed",
  ConsumersStillOnOldToken: "ConsumersStillOnOldToken",
  BadState: "BadState",
  EmergencyRevocations: "EmergencyRevocations",
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

export interface MetricsSink {
  add(metric: Metric, count?: number): void;
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

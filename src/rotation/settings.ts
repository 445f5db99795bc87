import { Environment } from "../domain/environments";
import { BackendKind } from "../gateway/backend";

/** How one environment's rotator behaves. */
export interface RotatorSettings {
  readonly environment: Environment;
  /** The environment's gateway: a token whose secret names another is reported, never touched. */
  readonly gatewayUrl: string;
  readonly backend: BackendKind;
  /** How long the old token must go unused by consumers before it is revoked. @default 15 minutes */
  readonly quietPeriodMs: number;
  /**
   * How long a moved-off old token stays suspended (reversibly) before it is revoked, on a gateway that can suspend;
   * 0 revokes on the evidence alone. @default 1 hour
   */
  readonly suspensionWindowMs: number;
  /** Tokens worked on at once. @default 8 */
  readonly maxConcurrency: number;
  /** Lifetime of a per-token lease, renewed before every step; longer than any one step can take. @default 10 minutes */
  readonly leaseTtlMs: number;
  /** An old token is revoked this long before it would expire, whether or not consumers moved. @default 1 hour */
  readonly expiryMarginMs: number;
  /** No new token is started when less than this much Lambda time remains. @default 60 seconds */
  readonly minRemainingMs: number;
  /**
   * How far this engine's clock may be from the gateway's, added to the quiet period because the gateway stamps the
   * traffic: 0 for the Lambda (AWS keeps its clock), the skew bound for an operator's CLI. @default 0
   */
  readonly clockSkewMs?: number;
}

export const DEFAULT_SETTINGS = {
  quietPeriodMs: 15 * 60_000,
  suspensionWindowMs: 60 * 60_000,
  maxConcurrency: 8,
  leaseTtlMs: 10 * 60_000,
  expiryMarginMs: 60 * 60_000,
  minRemainingMs: 60_000,
} as const satisfies Partial<RotatorSettings>;

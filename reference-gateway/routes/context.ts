import type { Environment } from "../../src/domain/environments";
import type { OffsetClock } from "../clock";
import type { FaultInjector } from "../faults";
import type { AgentStore, ToolStore } from "../catalog";
import type { JobStore } from "../jobs";
import type { RequestLogStore, TokenStore } from "../registry-store";

/** What route handlers work with; the server owns these and hands them over once. */
export interface GatewayServices {
  readonly environment: Environment;
  readonly clock: OffsetClock;
  /** The embedded SQLite registry or the fleet's DynamoDB table (registry-store.ts). */
  readonly registry: TokenStore;
  readonly requestLog: RequestLogStore;
  readonly jobs: JobStore;
  readonly agents: AgentStore;
  readonly tools: ToolStore;
}

/** The knobs behind `/_test/*`, changed at run time by tests and benchmarks. */
export interface TestControls {
  readonly clock: OffsetClock;
  readonly faults: FaultInjector;
  /** Added before every request is handled. */
  latencyMs: number;
}

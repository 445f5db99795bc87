import { BenchEnvironment } from "./environment";
import { BenchOptions, ScenarioId } from "./options";
import { ScenarioResult } from "./report";

/** What a scenario gets: the shared loopback environment, the run's sizes, and what ran before it. */
export interface ScenarioContext {
  readonly env: BenchEnvironment;
  readonly options: BenchOptions;
  /** One progress line on stderr (the table goes to stdout). */
  progress(message: string): void;
  /** Results of the scenarios that ran earlier in this run. */
  readonly earlier: ReadonlyMap<ScenarioId, ScenarioResult>;
}

export type Scenario = (ctx: ScenarioContext) => Promise<ScenarioResult>;

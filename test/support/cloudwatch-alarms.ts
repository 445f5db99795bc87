/**
 * A small model of CloudWatch for tests: the metric datapoints an EMF log line publishes, and how a metric alarm
 * judges them. It follows CloudWatch's rules where they decide whether an alarm can fire at all: a metric is its
 * namespace, name and EXACT dimension set (a datapoint published with {service, environment} is not seen by an
 * alarm on {environment}); values are aggregated per period with the alarm's statistic; the last
 * `evaluationPeriods` periods are judged, missing ones per `treatMissingData`; the alarm fires when at least
 * `datapointsToAlarm` of them breach. Anything it does not know (a statistic, an operator) is an error, so a typo
 * in the deployment fails the test instead of passing it.
 */

/** One published value set of one metric, as CloudWatch stores it. */
export interface Datapoint {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly values: readonly number[];
}

/** The fields of an aws.cloudwatch.MetricAlarm that decide when it fires (as the deployment declares them). */
export interface AlarmDefinition {
  readonly name: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly statistic: string;
  readonly period: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm?: number;
  readonly comparisonOperator: string;
  readonly threshold: number;
  readonly treatMissingData?: string;
}

export type AlarmState = "ALARM" | "OK" | "INSUFFICIENT_DATA";

export interface AlarmVerdict {
  readonly state: AlarmState;
  /** The datapoints whose metric identity equals the alarm's. */
  readonly matched: readonly Datapoint[];
  /** The statistic of each evaluated period, oldest first; undefined where the period had no data. */
  readonly periods: readonly (number | undefined)[];
}

/** Thrown for an EMF line CloudWatch would reject (its metrics would never be published). */
export class InvalidEmfError extends Error {}

/**
 * The datapoints of every EMF line in a process's output (lines that are JSON objects with an `_aws` key), per the
 * Embedded Metric Format specification: each dimension set of each directive publishes each of its metrics.
 */
export function datapointsFromEmf(output: string): Datapoint[] {
  const points: Datapoint[] = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    const record = JSON.parse(line) as Record<string, unknown>;
    if (!("_aws" in record)) continue;
    const meta = record._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown };
    if (typeof meta.Timestamp !== "number" || !Array.isArray(meta.CloudWatchMetrics)) throw new InvalidEmfError(`EMF without Timestamp or CloudWatchMetrics: ${line}`);
    for (const directive of meta.CloudWatchMetrics as Array<{ Namespace?: unknown; Dimensions?: unknown; Metrics?: unknown }>) {
      if (typeof directive.Namespace !== "string" || !Array.isArray(directive.Dimensions) || !Array.isArray(directive.Metrics)) {
        throw new InvalidEmfError(`EMF directive without Namespace, Dimensions or Metrics: ${line}`);
      }
      for (const dimensionSet of directive.Dimensions as unknown[][]) {
        const dimensions: Record<string, string> = {};
        for (const key of dimensionSet) {
          if (typeof key !== "string" || typeof record[key] !== "string") throw new InvalidEmfError(`EMF dimension ${String(key)} has no string value: ${line}`);
          dimensions[key] = record[key] as string;
        }
        for (const metric of directive.Metrics as Array<{ Name?: unknown }>) {
          const name = metric.Name;
          const raw = typeof name === "string" ? record[name] : undefined;
          const values = ([] as unknown[]).concat(raw);
          if (typeof name !== "string" || raw === undefined || !values.every((v) => typeof v === "number")) {
            throw new InvalidEmfError(`EMF metric ${String(name)} has no numeric value: ${line}`);
          }
          points.push({ namespace: directive.Namespace, metricName: name, dimensions, timestamp: meta.Timestamp, values: values as number[] });
        }
      }
    }
  }
  return points;
}

/** CloudWatch's metric identity: same namespace, same name, and the same dimension set with the same values. */
export function sameMetric(alarm: Pick<AlarmDefinition, "namespace" | "metricName" | "dimensions">, point: Datapoint): boolean {
  const wanted = Object.entries(alarm.dimensions).sort();
  const published = Object.entries(point.dimensions).sort();
  return (
    alarm.namespace === point.namespace &&
    alarm.metricName === point.metricName &&
    wanted.length === published.length &&
    wanted.every(([k, v], i) => published[i][0] === k && published[i][1] === v)
  );
}

const STATISTICS: Record<string, (values: number[]) => number> = {
  Sum: (v) => v.reduce((a, b) => a + b, 0),
  Maximum: (v) => Math.max(...v),
  Minimum: (v) => Math.min(...v),
  SampleCount: (v) => v.length,
  Average: (v) => v.reduce((a, b) => a + b, 0) / v.length,
};

const COMPARISONS: Record<string, (value: number, threshold: number) => boolean> = {
  GreaterThanOrEqualToThreshold: (v, t) => v >= t,
  GreaterThanThreshold: (v, t) => v > t,
  LessThanThreshold: (v, t) => v < t,
  LessThanOrEqualToThreshold: (v, t) => v <= t,
};

/**
 * The alarm's state at `at` (ms since the epoch), judging the `evaluationPeriods` periods that end with the one
 * containing `at`. Periods are aligned to the epoch, as CloudWatch aligns them.
 */
export function evaluateAlarm(alarm: AlarmDefinition, datapoints: readonly Datapoint[], at: number): AlarmVerdict {
  const statistic = STATISTICS[alarm.statistic];
  const compare = COMPARISONS[alarm.comparisonOperator];
  if (!statistic) throw new Error(`${alarm.name}: statistic ${alarm.statistic} is not modelled`);
  if (!compare) throw new Error(`${alarm.name}: comparison ${alarm.comparisonOperator} is not modelled`);
  const missing = alarm.treatMissingData ?? "missing";
  if (!["breaching", "notBreaching", "ignore", "missing"].includes(missing)) throw new Error(`${alarm.name}: treatMissingData ${missing} is not valid`);
  if (!(alarm.period > 0) || !(alarm.evaluationPeriods >= 1)) throw new Error(`${alarm.name}: period and evaluationPeriods must be positive`);

  const matched = datapoints.filter((p) => sameMetric(alarm, p));
  const periodMs = alarm.period * 1000;
  const lastStart = Math.floor(at / periodMs) * periodMs;
  const periods: (number | undefined)[] = [];
  for (let i = alarm.evaluationPeriods - 1; i >= 0; i--) {
    const start = lastStart - i * periodMs;
    const values = matched.filter((p) => p.timestamp >= start && p.timestamp < start + periodMs).flatMap((p) => p.values);
    periods.push(values.length ? statistic(values) : undefined);
  }
  const judged = periods.map((value) => (value === undefined ? (missing === "breaching" ? true : missing === "notBreaching" ? false : undefined) : compare(value, alarm.threshold)));
  const known = judged.filter((j): j is boolean => j !== undefined);
  const breaching = known.filter(Boolean).length;
  const state: AlarmState = breaching >= (alarm.datapointsToAlarm ?? alarm.evaluationPeriods) ? "ALARM" : known.length === 0 ? "INSUFFICIENT_DATA" : "OK";
  return { state, matched, periods };
}

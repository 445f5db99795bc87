/**
 * The CloudWatch dashboard of one environment's rotator, as a pure function of plain strings (the dashboard body
 * CloudWatch takes): what an on-call engineer looks at first. Every rotator metric is named with the exact
 * dimension set the rotator publishes, so each graph shows what the alarms see.
 */
import { metricDimensions, METRICS_NAMESPACE, Metric } from "../../src/rotation/observability";

export interface DashboardContext {
  readonly environment: string;
  readonly region: string;
  readonly functionName: string;
  /** The scheduler's dead-letter queue and the failed-runs queue. */
  readonly queueNames: readonly string[];
  readonly alarmArns: readonly string[];
}

/** A CloudWatch dashboard body (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html). */
export interface DashboardBody {
  readonly widgets: readonly DashboardWidget[];
}

export interface DashboardWidget {
  readonly type: "metric" | "alarm";
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: Record<string, unknown>;
}

/** The dashboard's graphs, in reading order: is it running, what is it doing, what went wrong. */
export const DASHBOARD_GRAPHS = [
  { title: "Heartbeat: completed scheduled runs", metrics: [Metric.Heartbeat] },
  { title: "Tokens due, rotations started and completed", metrics: [Metric.TokensDue, Metric.RotationsStarted, Metric.RotationsCompleted] },
  { title: "Failures: rotations failed, bad state", metrics: [Metric.RotationsFailed, Metric.BadState] },
  { title: "Consumers still on old tokens at the deadline", metrics: [Metric.ConsumersStillOnOldToken] },
] as const;

const WIDTH = 12;
const HEIGHT = 6;

export function rotatorDashboard(ctx: DashboardContext): DashboardBody {
  const dims = metricDimensions(ctx.environment);
  const rotatorMetric = (name: string) => [METRICS_NAMESPACE, name, "service", dims.service, "environment", dims.environment];
  const graph = (title: string, metrics: unknown[][], stat = "Sum") => ({ title, region: ctx.region, view: "timeSeries", stacked: false, period: 300, stat, metrics });
  const graphs = [
    ...DASHBOARD_GRAPHS.map((g) => graph(g.title, g.metrics.map(rotatorMetric))),
    graph(
      "Run duration (ms)",
      [
        ["AWS/Lambda", "Duration", "FunctionName", ctx.functionName, { stat: "Average" }],
        ["AWS/Lambda", "Duration", "FunctionName", ctx.functionName, { stat: "Maximum" }],
      ],
      "Average",
    ),
    graph(
      "Lambda errors and undelivered or failed runs",
      [["AWS/Lambda", "Errors", "FunctionName", ctx.functionName], ...ctx.queueNames.map((q) => ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q, { stat: "Maximum" }])],
    ),
  ];
  const widgets: DashboardWidget[] = [
    { type: "alarm", x: 0, y: 0, width: 2 * WIDTH, height: 3, properties: { title: `Rotator alarms (${ctx.environment})`, alarms: [...ctx.alarmArns] } },
    ...graphs.map((properties, i): DashboardWidget => ({ type: "metric", x: (i % 2) * WIDTH, y: 3 + Math.floor(i / 2) * HEIGHT, width: WIDTH, height: HEIGHT, properties })),
  ];
  return { widgets };
}

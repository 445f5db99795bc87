/**
 * The rotator Lambda. Thin: it reads its settings, wires the engine to Secrets Manager, the gateway, the ledger
 * table, Powertools' logger and EMF metrics, and dispatches the event:
 *   - an EventBridge Scheduler event (anything else)     -> one scheduled run over the environment's tokens
 *   - a Secrets Manager rotation step {Step, SecretId, ClientRequestToken}
 *   - an operator request {action: "rotate" | "emergency-revoke", secretName}
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Tracer } from "@aws-lambda-powertools/tracer";
import type { Context } from "aws-lambda";
import { Clock, systemClock } from "../../src/domain/clock";
import { TokenOpsError } from "../../src/domain/errors";
import { ownUserAgent } from "../../src/gateway/backend";
import { createBackend } from "../../src/gateway/factory";
import { HttpOptions } from "../../src/gateway/http";
import { DynamoDbLedger } from "../../src/ledger/dynamodb-ledger";
import { EmergencyResult, RotationEngine, RunSummary, SecretsManagerStep, TokenOutcome } from "../../src/rotation/engine";
import { Metric, metricDimensions, METRICS_NAMESPACE, MetricsSink, EventSink, ROTATOR_SERVICE, RotationLogger, RotationObserver } from "../../src/rotation/observability";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { EventBridgeEventSink } from "../../src/rotation/eventbridge-sink";
import { Sensitive } from "../../src/domain/sensitive";
import { readAdminToken } from "../../src/store/admin-secret";
import { readRotatorCredential } from "../../src/store/rotator-credential";
import { SecretsManagerTokenStore } from "../../src/store/secrets-manager-store";
import { readRotatorEnvironment } from "./settings";

export type RotatorEvent =
  | { readonly Step: SecretsManagerStep; readonly SecretId: string; readonly ClientRequestToken: string }
  | { readonly action: "rotate" | "emergency-revoke"; readonly secretName: string }
  | Record<string, unknown>;

export type RotatorResult = RunSummary | EmergencyResult | { readonly outcome: TokenOutcome } | { readonly step: string };

/** What tests and the local demo may replace; the Lambda uses the defaults. */
export interface HandlerOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly clock?: Clock;
  readonly observer?: RotationObserver;
  /** Gateway HTTP tuning (timeouts, retries). */
  readonly http?: Partial<Omit<HttpOptions, "baseUrl" | "userAgent">>;
  /** Where log lines go. @default Powertools' JSON logger on stdout */
  readonly log?: RotationLogger;
  /** Where metrics go. @default Powertools' EMF metrics on stdout */
  readonly metrics?: MetricsSink;
  /** Where milestone events go. @default EventBridge, the bus OPENCLAW_EVENT_BUS names */
  readonly events?: EventSink;
}


export function createHandler(options: HandlerOptions = {}) {
  const env = options.env ?? process.env;
  const config = readRotatorEnvironment(env);
  const { settings } = config;
  const logger = new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME ?? ROTATOR_SERVICE, persistentKeys: { environment: settings.environment } });
  // The namespace and dimensions are fixed, not taken from the environment: the alarms watch exactly these
  // (metricDimensions), and a metric published under any other set would be a different metric that nothing watches.
  const { service, ...defaultDimensions } = metricDimensions(settings.environment);
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service, defaultDimensions });
  // Secrets Manager allows 50 writes/s per region and account: adaptive retries slow the rotator down when
  // throttled instead of failing the token for this run.
  const tracer = createTracer(env);
  const secretsClient = new SecretsManagerClient({ retryMode: "adaptive", maxAttempts: 6 });
  const client = tracer ? tracer.captureAWSv3Client(secretsClient) : secretsClient;
  const store = new SecretsManagerTokenStore({ environment: settings.environment, client });
  const ledger = new DynamoDbLedger({ tableName: config.ledgerTable, environment: settings.environment });

  const log: RotationLogger = options.log ?? {
    info: (message, fields) => logger.info(message, { ...fields }),
    warn: (message, fields) => logger.warn(message, { ...fields }),
    error: (message, fields) => logger.error(message, { ...fields }),
  };
  const sink: MetricsSink = options.metrics ?? {
    add: (metric, count = 1) => metrics.addMetric(metric, MetricUnit.Count, count),
    // A metric of its own (published at once by Powertools' singleMetric): the token dimension must not join the
    // environment-wide metrics the alarms watch with an exact dimension set.
    addForToken: (metric, token, value) => {
      const single = metrics.singleMetric();
      single.addDimension("token", token);
      single.addMetric(metric, MetricUnit.Count, value);
    },
  };
  const eventClient = new EventBridgeClient({ maxAttempts: 3 });
  const events: EventSink = options.events ?? new EventBridgeEventSink({ client: tracer ? tracer.captureAWSv3Client(eventClient) : eventClient, eventBusName: config.eventBus, log });

  async function engine(): Promise<RotationEngine> {
    // Read on every invocation, never cached across warm ones: the rotator's own credential changes under it (it
    // rotates it), and a run must never outlive the credential it started with by more than its own duration, which
    // is what the credential's drain waits for (steps.ts, ownRunsEvidence). One GetSecretValue per run.
    const adminToken = config.adminSecretId
      ? await readAdminToken(client, config.adminSecretId, settings.environment, settings.backend)
      : await readRotatorCredential(client, ledger, settings.environment, { url: settings.gatewayUrl, kind: settings.backend });
    const backendWith = (token: Sensitive) =>
      createBackend({ kind: settings.backend, url: settings.gatewayUrl, environment: settings.environment, adminToken: token, userAgent: ownUserAgent("rotator"), http: options.http });
    const backend = backendWith(adminToken);
    return new RotationEngine({ store, backend, backendWith, ledger, clock: options.clock ?? systemClock, settings, log, metrics: sink, events, observer: options.observer });
  }

  return async function handler(event: RotatorEvent, context?: Pick<Context, "getRemainingTimeInMillis"> & Partial<Context>): Promise<RotatorResult> {
    // Every log line of this invocation carries its request ID, the function and whether it is a cold start, so
    // that one run's lines can be found together (CloudWatch Logs Insights: filter function_request_id = "...").
    if (context?.awsRequestId) logger.addContext(context as Context);
    // One subsegment per invocation under Lambda's own segment, annotated so that traces can be searched by them.
    const segment = tracer?.getSegment();
    const subsegment = segment?.addNewSubsegment("## rotator");
    if (subsegment) tracer?.setSegment(subsegment);
    tracer?.putAnnotation("environment", settings.environment);
    tracer?.annotateColdStart();
    try {
      const rotator = await engine();
      if ("Step" in event && typeof event.Step === "string") {
        await rotator.handleSecretsManagerStep(event.Step as SecretsManagerStep, String(event.SecretId), String(event.ClientRequestToken));
        return { step: event.Step };
      }
      const request = event as { action?: unknown; secretName?: unknown };
      if (request.action === "rotate") return { outcome: await rotator.rotateNow(String(request.secretName)) };
      if (request.action === "emergency-revoke") return await rotator.emergencyRevoke(String(request.secretName));
      const summary = await rotator.runScheduled(() => context?.getRemainingTimeInMillis() ?? Infinity);
      // The heartbeat: this run completed. Only scheduled runs beat, so an operator's rotate never hides a dead schedule.
      sink.add(Metric.Heartbeat);
      log.info("run: finished", { outcomes: summary.outcomes, scanned: summary.scanned, due: summary.due });
      return summary;
    } catch (error) {
      // Errors are ours (TokenOpsError) or the SDK's; neither carries a token value, and the stack stays out of it.
      log.error("run: failed", { error: error instanceof Error ? error.message : String(error), code: (error as TokenOpsError).code });
      throw error;
    } finally {
      if (!options.metrics) metrics.publishStoredMetrics();
      if (subsegment && segment) {
        subsegment.close();
        tracer?.setSegment(segment);
      }
    }
  };
}

/**
 * X-Ray tracing, when the stack turns it on (RotatorDeployment's `tracing`: active tracing and
 * POWERTOOLS_TRACE_ENABLED=true). Loaded only then, so that the default (off) never evaluates the X-Ray SDK at
 * a cold start (it installs an async hook on every promise when loaded).
 */
function createTracer(env: NodeJS.ProcessEnv): Tracer | undefined {
  if (env.POWERTOOLS_TRACE_ENABLED !== "true") return undefined;
  const powertools = require("@aws-lambda-powertools/tracer") as typeof import("@aws-lambda-powertools/tracer");
  return new powertools.Tracer({ serviceName: ROTATOR_SERVICE });
}

let lambdaHandler: ReturnType<typeof createHandler> | undefined;

/** The Lambda entry point (handler "index.handler"). */
export const handler = (event: RotatorEvent, context: Context): Promise<RotatorResult> => {
  lambdaHandler ??= createHandler();
  return lambdaHandler(event, context);
};

/**
 * RotatorDeployment: everything one environment's scheduled token rotator needs in AWS, as one component a team
 * can drop into its own Pulumi program.
 *
 *   EventBridge Scheduler ──(scheduler role: InvokeFunction)──▶ Lambda ◀── Secrets Manager rotation events
 *        └─ undeliverable events ─▶ SQS dead-letter queue        ├─ failed/expired async runs ─▶ SQS failed-runs queue
 *                                                               ├─ openclaw/<env>/*   (rotate; tag-fenced)
 *   CloudWatch alarms ─▶ SNS topic (─▶ email)                   ├─ openclaw-admin/<env>/gateway (read only)
 *   CloudWatch dashboard (one per environment)                  │
 *                                                               ├─ DynamoDB ledger table (+ due index)
 *                                                               └─ /aws/lambda/<function> (retention)
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Environment, isEnvironment, ALL_ENVIRONMENTS } from "../../src/domain/environments";
import { TokenOpsError, ValidationError } from "../../src/domain/errors";
import { gatewayUrlProblems } from "../../src/domain/gateway-url";
import { BackendKind } from "../../src/gateway/backend";
import { adminTokenProblem } from "../../src/provider/inputs";
import { metricDimensions, METRICS_NAMESPACE, Metric as RotatorMetric, ROTATOR_SERVICE, RotationMilestone, rotationEventPattern } from "../../src/rotation/observability";
import { DUE_INDEX } from "../../src/ledger/dynamodb-ledger";
import { MANAGED_BY, rotatorCredentialSecretName, Tag } from "../../src/store/metadata";
import { operatorPolicyDocument, tokenDeployerPolicyDocument, viewerPolicyDocument } from "./access-policies";
import { rotatorDashboard } from "./dashboard";
import { rotatorNames } from "./names";
import {
  AwsLocation,
  lambdaAssumeRolePolicy,
  PolicyDocument,
  rotatorPolicyDocument,
  scheduleArn,
  schedulerAssumeRolePolicy,
  schedulerPolicyDocument,
  wildcardActions,
  rotatorCredentialArnPattern,
  RotatorCredentialLocation,
} from "./rotator-policy";
import { ROTATOR_DEFAULTS, validate } from "./rotator-settings";
import { packageRoot } from "../../src/package-root";
import { ASYNC_RETRY_ATTEMPTS, heartbeatWindow, HeartbeatWindow, maximumEventAgeSeconds } from "./run-watch";

/** Where scripts/build.mjs writes the rotator's esbuild bundle (index.js and its source map). */
export const DEFAULT_BUNDLE_DIR = resolve(packageRoot(__dirname), "dist", "lambda", "rotator");

// The namespace, metric names and dimension set the rotator emits (EMF, dimensions `service` and `environment`),
// shared with the handler: an alarm can never watch a metric the rotator does not publish.
export { METRICS_NAMESPACE, metricDimensions, RotatorMetric, ROTATOR_SERVICE };

/** What each scheduled invocation receives; Secrets Manager's own events carry SecretId/ClientRequestToken/Step. */
export const SCHEDULED_EVENT = { kind: "scheduled-scan" } as const;

/**
 * Scheduler retries only cover delivery (throttling, a missing permission), not the function's own errors, which
 * the Errors alarm reports. An event older than half the default interval is dropped to the dead-letter queue:
 * the next run is due soon and rotates whatever this one would have.
 */
export const SCHEDULER_RETRY = { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 1800 } as const;
/** SQS's longest retention: time enough to investigate an undelivered run after a long weekend. */
export const DEAD_LETTER_RETENTION_SECONDS = 14 * 86400;
/** Alarm evaluation: one 5-minute period, so a failed run pages within minutes of its end. */
const ALARM_PERIOD_SECONDS = 300;

export interface RotatorDeploymentArgs {
  /** The environment whose tokens this rotator rotates (dev, stage or prod); every name and IAM scope carries it. */
  readonly environment: pulumi.Input<Environment>;
  /** The environment's gateway URL (https; in prod also a host that names no other environment). */
  readonly gatewayUrl: pulumi.Input<string>;
  /**
   * openclaw-devices only: OpenClaw's shared gateway token, which no one can mint or rotate. Stored in the secret
   * `openclaw-admin/<env>/gateway`, never in the Lambda's environment; wrapped with pulumi.secret however it is passed.
   * The documented API takes none: its rotator rotates its own short-lived admin:tokens credential
   * (`openclaw-admin/<env>/rotator`, created once by `openclaw-tokens bootstrap-rotator`), so no deployment holds a
   * long-lived admin token.
   */
  readonly adminToken?: pulumi.Input<string>;
  /** Gateway implementation the rotator talks to. @default "documented-api" */
  readonly backend?: pulumi.Input<string>;
  /** Folder holding the esbuild bundle (index.js exporting `handler`). @default "<project>/dist/lambda/rotator" */
  readonly bundleDir?: pulumi.Input<string>;
  /** EventBridge Scheduler expression for the scan. @default "rate(1 hour)" */
  readonly schedule?: pulumi.Input<string>;
  /**
   * The longest normal time without a completed run, e.g. "2h": the heartbeat alarm fires past it. Required with a
   * cron schedule; a rate schedule is watched over two of its intervals. @default two schedule intervals
   */
  readonly heartbeatWindow?: pulumi.Input<string>;
  /** How long a retiring token must see no traffic before it is revoked. @default "15m" */
  readonly quietPeriod?: pulumi.Input<string>;
  /**
   * How long a drained retiring token stays suspended (refused, reinstatable if a consumer turns up) before it is
   * revoked; "0" revokes without suspending. @default "1h"
   */
  readonly suspensionWindow?: pulumi.Input<string>;
  /** Tokens rotated in parallel by one run. @default 8 */
  readonly maxConcurrency?: pulumi.Input<number>;
  /** Days CloudWatch Logs keeps the rotator's logs. @default 30 */
  readonly logRetentionDays?: pulumi.Input<number>;
  /** Email address subscribed to the alarm topic (AWS mails a confirmation link first). @default no subscription */
  readonly alarmEmail?: pulumi.Input<string>;
  /** Lambda timeout, 30 to 900 seconds. @default 300 */
  readonly lambdaTimeoutSeconds?: pulumi.Input<number>;
  /** X-Ray tracing of every run (Powertools Tracer, active tracing, the two X-Ray write permissions). @default false */
  readonly tracing?: pulumi.Input<boolean>;
  /** Lambda memory in MB (CPU scales with it). @default 256 */
  readonly memorySize?: pulumi.Input<number>;
  /** Extra tags for every taggable resource; the openclaw:environment and openclaw:managed-by tags always win. @default {} */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Raised when the rotator's bundle is not where the deployment expects it. */
export class RotatorBundleMissingError extends TokenOpsError {
  override name = "RotatorBundleMissingError";
  constructor(dir: string) {
    super("rotator_bundle_missing", `The rotator bundle ${join(dir, "index.js")} does not exist`, {
      hint: "build it with `node scripts/build.mjs` (or `npm run setup`) in the project, or pass bundleDir",
    });
  }
}

export class RotatorDeployment extends pulumi.ComponentResource {
  /** Name of the rotator Lambda function. */
  readonly functionName: pulumi.Output<string>;
  readonly functionArn: pulumi.Output<string>;
  /** The Lambda's execution role. */
  readonly roleArn: pulumi.Output<string>;
  /** The secret the rotator's gateway credential is in: `openclaw-admin/<env>/rotator`, or `.../gateway` (openclaw-devices). */
  readonly credentialSecretName: pulumi.Output<string>;
  readonly ledgerTableName: pulumi.Output<string>;
  /** SNS topic every alarm notifies. */
  readonly alarmTopicArn: pulumi.Output<string>;
  /** Where EventBridge Scheduler parks invocations it could not deliver. */
  readonly deadLetterQueueUrl: pulumi.Output<string>;
  /** Where Lambda records scheduled runs that failed, or waited too long to run. */
  readonly failedRunsQueueUrl: pulumi.Output<string>;
  /** The environment's CloudWatch dashboard. */
  readonly dashboardName: pulumi.Output<string>;
  /** Managed policies to attach to people's and pipelines' roles (see access-policies.ts and docs/runbook.md). */
  readonly operatorPolicyArn: pulumi.Output<string>;
  readonly viewerPolicyArn: pulumi.Output<string>;
  readonly tokenDeployerPolicyArn: pulumi.Output<string>;
  readonly scheduleName: pulumi.Output<string>;

  constructor(name: string, args: RotatorDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openclaw:aws:RotatorDeployment", name, {}, opts);
    const parent = { parent: this };

    // Guards first: every argument is validated before it reaches a resource (at once when it is a plain value).
    const environment = checked<Environment>("environment", args.environment, (v) =>
      isEnvironment(v) ? undefined : `${JSON.stringify(v)} is not an environment; use one of ${ALL_ENVIRONMENTS.join(", ")}`,
    );
    // The gateway URL is judged for the environment: https, and in prod a host that names no other environment.
    const assertGatewayUrl = (env: Environment, url: string) => {
      const problems = gatewayUrlProblems(url, env);
      if (problems.length) throw new ValidationError("RotatorDeployment's arguments", problems.map((message) => ({ field: "gatewayUrl", message })));
    };
    if (isEnvironment(args.environment) && typeof args.gatewayUrl === "string") assertGatewayUrl(args.environment, args.gatewayUrl);
    const gatewayUrl = pulumi.all([environment, args.gatewayUrl]).apply(([env, url]) => {
      assertGatewayUrl(env, url);
      return url.replace(/\/+$/, "");
    });
    const backend = checked<string>("backend", args.backend ?? BackendKind.DocumentedApi, (v) =>
      (Object.values(BackendKind) as unknown[]).includes(v) ? undefined : `${JSON.stringify(v)} is not a gateway backend; use one of ${Object.values(BackendKind).join(", ")}`,
    );
    // The admin token is checked for the environment before it is stored where that environment's rotator reads it
    // (a prod token must never land in dev's reach): plain values at once, secrets when they resolve, never quoted.
    const assertAdminToken = (env: Environment, kind: string, token: unknown) => {
      const message = adminTokenProblem(token, env, kind);
      if (message) throw new ValidationError("RotatorDeployment's arguments", [{ field: "adminToken", message }]);
    };
    if (isEnvironment(args.environment) && typeof args.adminToken === "string") {
      assertAdminToken(args.environment, (args.backend as string | undefined) ?? BackendKind.DocumentedApi, args.adminToken);
    }
    // Which credential the rotator holds is decided here, from plain values: it decides which resources exist.
    const selfRotated = args.adminToken === undefined;
    const plainBackend = args.backend === undefined ? BackendKind.DocumentedApi : typeof args.backend === "string" ? args.backend : undefined;
    if (plainBackend === BackendKind.DocumentedApi && !selfRotated) {
      throw new ValidationError("RotatorDeployment's arguments", [
        {
          field: "adminToken",
          message:
            "a documented-API rotator holds no admin token: it rotates its own admin:tokens credential. Remove adminToken (openclaw:adminToken) and run `openclaw-tokens bootstrap-rotator` once with the break-glass token (docs/runbook.md)",
        },
      ]);
    }
    if (plainBackend !== BackendKind.DocumentedApi && selfRotated) {
      throw new ValidationError("RotatorDeployment's arguments", [
        { field: "adminToken", message: "an openclaw-devices rotator needs OpenClaw's shared gateway token (gateway.auth.token): set adminToken (pulumi config set --secret openclaw:adminToken)" },
      ]);
    }
    const schedule = checked<string>("schedule", args.schedule ?? ROTATOR_DEFAULTS.schedule, validate.schedule);
    const quietPeriod = checked<string>("quietPeriod", args.quietPeriod ?? ROTATOR_DEFAULTS.quietPeriod, validate.quietPeriod);
    const suspensionWindow = checked<string>("suspensionWindow", args.suspensionWindow ?? ROTATOR_DEFAULTS.suspensionWindow, validate.suspensionWindow);
    const maxConcurrency = checked<number>("maxConcurrency", args.maxConcurrency ?? ROTATOR_DEFAULTS.maxConcurrency, validate.maxConcurrency);
    const logRetentionDays = checked<number>("logRetentionDays", args.logRetentionDays ?? ROTATOR_DEFAULTS.logRetentionDays, validate.logRetentionDays);
    const timeout = checked<number>("lambdaTimeoutSeconds", args.lambdaTimeoutSeconds ?? ROTATOR_DEFAULTS.lambdaTimeoutSeconds, validate.lambdaTimeoutSeconds);
    const memorySize = checked<number>("memorySize", args.memorySize ?? ROTATOR_DEFAULTS.memorySize, validate.memorySize);
    const tracing = checked<boolean>("tracing", args.tracing ?? false, (v) => (typeof v === "boolean" ? undefined : `${JSON.stringify(v)} is not true or false`));
    const alarmEmail = args.alarmEmail === undefined ? undefined : checked<string>("alarmEmail", args.alarmEmail, validate.alarmEmail);
    const bundleDir = bundleArchive(args.bundleDir ?? DEFAULT_BUNDLE_DIR);
    // The heartbeat window follows the schedule; a plain schedule and window are judged at once.
    const windowOf = (expression: string, window: string | undefined): HeartbeatWindow => {
      const found = heartbeatWindow(expression, window);
      if ("problem" in found) throw new ValidationError("RotatorDeployment's arguments", [{ field: "heartbeatWindow", message: found.problem }]);
      return found;
    };
    if (typeof (args.schedule ?? ROTATOR_DEFAULTS.schedule) === "string" && !pulumi.Output.isInstance(args.heartbeatWindow) && !(args.heartbeatWindow instanceof Promise)) {
      const plainSchedule = (args.schedule ?? ROTATOR_DEFAULTS.schedule) as string;
      if (!validate.schedule(plainSchedule)) windowOf(plainSchedule, args.heartbeatWindow as string | undefined);
    }
    const heartbeat = pulumi.all([schedule, args.heartbeatWindow]).apply(([expression, window]) => windowOf(expression, window));

    const names = environment.apply(rotatorNames);
    const region = aws.getRegionOutput({}, parent).region;
    const location: pulumi.Output<AwsLocation> = pulumi
      .all([aws.getPartitionOutput({}, parent).partition, region, aws.getCallerIdentityOutput({}, parent).accountId])
      .apply(([partition, r, accountId]) => ({ partition, region: r, accountId }));
    const tags = pulumi.all([environment, args.tags ?? {}]).apply(([env, extra]) => ({
      ...extra,
      [Tag.Environment]: env,
      [Tag.ManagedBy]: MANAGED_BY,
    }));

    // openclaw-devices: OpenClaw's shared token in a separate namespace, which the rotator's policy can read
    // (GetSecretValue) but never write. The documented API: nothing here; the rotator's own credential is created by
    // bootstrap-rotator and rotated by the rotator.
    let adminSecretVersion: aws.secretsmanager.SecretVersion | undefined;
    let credential: pulumi.Output<RotatorCredentialLocation>;
    if (selfRotated) {
      credential = pulumi.all([location, environment]).apply(([loc, env]) => ({ kind: "self-rotated" as const, arn: rotatorCredentialArnPattern(loc, env) }));
    } else {
      const adminSecret = new aws.secretsmanager.Secret(
        `${name}-admin-token`,
        {
          name: names.adminSecretName,
          description: pulumi.interpolate`Shared token of the ${environment} OpenClaw gateway, read by the token rotator. Set with pulumi config set --secret.`,
          recoveryWindowInDays: 7,
          tags,
        },
        parent,
      );
      const adminToken = pulumi.all([environment, backend, args.adminToken]).apply(([env, kind, token]) => {
        assertAdminToken(env, kind, token);
        return token;
      });
      adminSecretVersion = new aws.secretsmanager.SecretVersion(
        `${name}-admin-token-value`,
        { secretId: adminSecret.id, secretString: pulumi.secret(adminToken) },
        parent,
      );
      credential = adminSecret.arn.apply((arn) => ({ kind: "admin-secret" as const, arn }));
    }

    // The ledger: one item per token (declaration, rotation state, lease, version), and the due index a scheduled
    // run queries. Point-in-time recovery: losing it loses the record of which tokens are live (docs/runbook.md).
    const ledgerTable = new aws.dynamodb.Table(
      `${name}-ledger`,
      {
        name: names.ledgerTableName,
        billingMode: "PAY_PER_REQUEST",
        hashKey: "pk",
        attributes: [
          { name: "pk", type: "S" },
          { name: "dueBucket", type: "S" },
          { name: "nextCheckAtMs", type: "N" },
        ],
        globalSecondaryIndexes: [{ name: DUE_INDEX, hashKey: "dueBucket", rangeKey: "nextCheckAtMs", projectionType: "KEYS_ONLY" }],
        pointInTimeRecovery: { enabled: true },
        deletionProtectionEnabled: true,
        tags,
      },
      parent,
    );

    // Created before the function, so that Lambda never creates it without a retention.
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: names.logGroupName, retentionInDays: logRetentionDays, tags },
      parent,
    );

    // Scheduled runs that failed, or waited in Lambda's queue past their age: the on-failure destination.
    const failedRunsQueue = new aws.sqs.Queue(
      `${name}-failed-runs`,
      { name: names.failedRunsQueueName, messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS, sqsManagedSseEnabled: true, tags },
      parent,
    );

    const role = new aws.iam.Role(
      `${name}-role`,
      {
        name: pulumi.all([names, region]).apply(([n, r]) => n.lambdaRoleName(r)),
        description: pulumi.interpolate`Execution role of the ${environment} OpenClaw token rotator`,
        assumeRolePolicy: JSON.stringify(lambdaAssumeRolePolicy()),
        tags,
      },
      parent,
    );
    const rolePolicy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: role.id,
        name: "openclaw-rotator-least-privilege",
        policy: pulumi
          .all([location, environment, credential, ledgerTable.arn, logGroup.arn, failedRunsQueue.arn, tracing])
          .apply(([loc, env, cred, ledgerTableArn, logGroupArn, failedRunsQueueArn, traced]) =>
            policyJson(rotatorPolicyDocument({ ...loc, environment: env, credential: cred, ledgerTableArn, logGroupArn, failedRunsQueueArn, tracing: traced })),
          ),
      },
      parent,
    );

    // An example rule on the default bus (the one bus the rotator may publish to): this environment's leak responses.
    // Give it a target (a pager, a restart of the consumers) to act on them.
    new aws.cloudwatch.EventRule(
      `${name}-emergency-revoked`,
      {
        name: pulumi.interpolate`${names.functionName}-emergency-revoked`,
        description: pulumi.interpolate`OpenClaw ${environment} tokens: a leaked token was revoked and replaced`,
        eventBusName: "default",
        eventPattern: environment.apply((env) => JSON.stringify(rotationEventPattern(env, RotationMilestone.EmergencyRevoked))),
        tags,
      },
      parent,
    );

    // The operator, viewer and token-deployer policies, on this deployment's ARNs.
    const accessContext = pulumi
      .all([location, environment, credential, ledgerTable.arn])
      .apply(([loc, env, cred, ledgerTableArn]) => ({ ...loc, environment: env, credential: cred, ledgerTableArn }));
    const accessPolicy = (who: "operator" | "viewer" | "token-deployer", description: pulumi.Input<string>, document: typeof operatorPolicyDocument) =>
      new aws.iam.Policy(
        `${name}-${who}-policy`,
        {
          name: pulumi.all([names, region]).apply(([n, r]) => n.accessPolicyName(who, r)),
          description,
          policy: accessContext.apply((ctx) => policyJson(document(ctx))),
          tags,
        },
        parent,
      );
    const operatorPolicy = accessPolicy("operator", pulumi.interpolate`OpenClaw ${environment} tokens: leak response and manual rotation with the CLI`, operatorPolicyDocument);
    const viewerPolicy = accessPolicy("viewer", pulumi.interpolate`OpenClaw ${environment} tokens: status, without any secret value`, viewerPolicyDocument);
    const tokenDeployerPolicy = accessPolicy("token-deployer", pulumi.interpolate`OpenClaw ${environment} tokens: pulumi up/destroy of GatewayToken resources`, tokenDeployerPolicyDocument);

    // arm64 (Graviton): about 20% cheaper per GB-second than x86_64 at equal or better speed for this workload,
    // and the bundle is plain JavaScript (esbuild, no native modules), so nothing in it depends on the CPU.
    const fn = new aws.lambda.Function(
      `${name}-function`,
      {
        name: names.functionName,
        description: pulumi.interpolate`Rotates the ${environment} OpenClaw gateway tokens (openclaw/${environment}/*)`,
        role: role.arn,
        runtime: aws.lambda.Runtime.NodeJS24dX,
        handler: "index.handler",
        code: bundleDir,
        architectures: ["arm64"],
        timeout,
        memorySize,
        // Lambda's JSON log format: its own platform lines (START, REPORT, errors) become JSON like the rotator's, so
        // one Logs Insights query reads both. The rotator's Powertools lines and EMF are written as they are
        // (Powertools writes to stdout through its own console, which the runtime does not wrap).
        loggingConfig: { logFormat: "JSON", logGroup: names.logGroupName, applicationLogLevel: "INFO", systemLogLevel: "WARN" },
        // PassThrough: no trace of our own unless the caller sampled one; Active: Lambda samples and the tracer records.
        tracingConfig: { mode: tracing.apply((t) => (t ? "Active" : "PassThrough")) },
        environment: {
          // The contract with lambdas/rotator. No secret here: the admin token is read from Secrets Manager.
          variables: {
            OPENCLAW_ENVIRONMENT: environment,
            OPENCLAW_GATEWAY_URL: gatewayUrl,
            OPENCLAW_BACKEND: backend,
            // Only for openclaw-devices; without it the rotator reads its own credential (openclaw-admin/<env>/rotator).
            ...(selfRotated ? {} : { OPENCLAW_ADMIN_SECRET_ID: names.adminSecretName }),
            OPENCLAW_LEDGER_TABLE: ledgerTable.name,
            OPENCLAW_QUIET_PERIOD: quietPeriod,
            OPENCLAW_SUSPENSION_WINDOW: suspensionWindow,
            OPENCLAW_MAX_CONCURRENCY: maxConcurrency.apply(String),
            POWERTOOLS_SERVICE_NAME: ROTATOR_SERVICE,
            POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
            POWERTOOLS_TRACE_ENABLED: tracing.apply(String),
            // The bundle ships its source map: stack traces in the logs point at the TypeScript.
            NODE_OPTIONS: "--enable-source-maps",
          },
        },
        tags,
      },
      // The policy and the admin token exist before the first invocation can run; the log group before Lambda logs.
      { parent: this, dependsOn: [logGroup, rolePolicy, ...(adminSecretVersion ? [adminSecretVersion] : [])] },
    );

    // Secrets Manager invokes the function for rotation events (RotateSecret); only from this account.
    new aws.lambda.Permission(
      `${name}-secretsmanager-invoke`,
      {
        statementId: "SecretsManagerRotation",
        action: "lambda:InvokeFunction",
        function: fn.name,
        principal: "secretsmanager.amazonaws.com",
        sourceAccount: location.accountId,
      },
      parent,
    );

    // How Lambda treats the scheduler's asynchronous invocations (see run-watch.ts for why these values).
    new aws.lambda.FunctionEventInvokeConfig(
      `${name}-async`,
      {
        functionName: fn.name,
        maximumRetryAttempts: ASYNC_RETRY_ATTEMPTS,
        maximumEventAgeInSeconds: heartbeat.apply(maximumEventAgeSeconds),
        destinationConfig: { onFailure: { destination: failedRunsQueue.arn } },
      },
      // The role must be allowed to send to the queue before Lambda accepts it as a destination.
      { parent: this, dependsOn: [rolePolicy] },
    );

    const deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      { name: names.deadLetterQueueName, messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS, sqsManagedSseEnabled: true, tags },
      parent,
    );

    // The scheduler's own role: invoke this function and write this queue, assumable only for this schedule.
    const thisScheduleArn = pulumi.all([location, names]).apply(([loc, n]) => scheduleArn(loc, n.scheduleGroupName, n.scheduleName));
    const schedulerRole = new aws.iam.Role(
      `${name}-scheduler-role`,
      {
        name: pulumi.all([names, region]).apply(([n, r]) => n.schedulerRoleName(r)),
        description: pulumi.interpolate`Lets EventBridge Scheduler start the ${environment} OpenClaw token rotator`,
        assumeRolePolicy: pulumi.all([location, thisScheduleArn]).apply(([loc, arn]) => policyJson(schedulerAssumeRolePolicy(loc, arn))),
        tags,
      },
      parent,
    );
    const schedulerPolicy = new aws.iam.RolePolicy(
      `${name}-scheduler-policy`,
      {
        role: schedulerRole.id,
        name: "openclaw-rotator-scheduler",
        policy: pulumi.all([fn.arn, deadLetterQueue.arn]).apply(([fnArn, dlqArn]) => policyJson(schedulerPolicyDocument(fnArn, dlqArn))),
      },
      parent,
    );

    // Schedules take no tags (only schedule groups do), so this is the one untagged resource besides the policies.
    const scheduleResource = new aws.scheduler.Schedule(
      `${name}-schedule`,
      {
        name: names.scheduleName,
        groupName: names.scheduleGroupName,
        description: pulumi.interpolate`Scans the ${environment} OpenClaw gateway tokens and rotates those due`,
        scheduleExpression: schedule,
        flexibleTimeWindow: { mode: "OFF" },
        target: {
          arn: fn.arn,
          roleArn: schedulerRole.arn,
          input: JSON.stringify(SCHEDULED_EVENT),
          retryPolicy: { ...SCHEDULER_RETRY },
          deadLetterConfig: { arn: deadLetterQueue.arn },
        },
      },
      { parent: this, dependsOn: [schedulerPolicy] },
    );

    // Alarms. The topic stays on SNS's default encryption: a KMS-encrypted topic would need a customer-managed key
    // whose policy lets CloudWatch publish (the AWS-managed aws/sns key cannot grant that).
    const topic = new aws.sns.Topic(`${name}-alarms`, { name: names.alarmTopicName, tags }, parent);
    if (alarmEmail) {
      new aws.sns.TopicSubscription(`${name}-alarm-email`, { topic: topic.arn, protocol: "email", endpoint: alarmEmail }, parent);
    }

    type AlarmMetric = { namespace: string; metricName: string; statistic: string; dimensions: pulumi.Input<Record<string, pulumi.Input<string>>> };
    type AlarmRule = Pick<aws.cloudwatch.MetricAlarmArgs, "period" | "evaluationPeriods" | "datapointsToAlarm" | "comparisonOperator" | "threshold" | "treatMissingData">;
    // Most alarms fire on one occurrence in a 5-minute period. No data is no failure: quiet hours are not an outage
    // (the heartbeat alarm is the one that treats silence as a failure).
    const onAnyOccurrence: AlarmRule = {
      period: ALARM_PERIOD_SECONDS,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      treatMissingData: "notBreaching",
    };
    const alarms: aws.cloudwatch.MetricAlarm[] = [];
    const alarm = (what: string, description: pulumi.Input<string>, metric: AlarmMetric, rule: AlarmRule = onAnyOccurrence) => {
      const created = new aws.cloudwatch.MetricAlarm(
        `${name}-${what}`,
        {
          name: names.apply((n) => n.alarmName(what)),
          alarmDescription: description,
          ...metric,
          ...rule,
          alarmActions: [topic.arn],
          tags,
        },
        parent,
      );
      alarms.push(created);
      return created;
    };
    const rotatorMetric = (metricName: RotatorMetric) => ({
      namespace: METRICS_NAMESPACE,
      metricName,
      statistic: "Sum",
      // The exact set Powertools publishes (service and environment): a subset would be another, silent metric.
      dimensions: environment.apply(metricDimensions),
    });
    alarm("rotations-failed", pulumi.interpolate`A ${environment} token rotation failed; see the rotator's logs for the token and the fix`, rotatorMetric(RotatorMetric.RotationsFailed));
    alarm(
      "consumers-on-old-token",
      pulumi.interpolate`A ${environment} consumer still uses a retiring token after the quiet period; roll it so that it reloads its secret`,
      rotatorMetric(RotatorMetric.ConsumersStillOnOldToken),
    );
    alarm("bad-state", pulumi.interpolate`A ${environment} token secret is in a state the rotator will not touch; it needs an operator`, rotatorMetric(RotatorMetric.BadState));
    alarm("dead-letters", pulumi.interpolate`EventBridge Scheduler could not start the ${environment} rotator; the event is in the dead-letter queue`, {
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      statistic: "Maximum",
      dimensions: { QueueName: deadLetterQueue.name },
    });
    alarm("lambda-errors", pulumi.interpolate`The ${environment} rotator Lambda failed (error, timeout or crash)`, {
      namespace: "AWS/Lambda",
      metricName: "Errors",
      statistic: "Sum",
      dimensions: { FunctionName: fn.name },
    });
    alarm("failed-runs", pulumi.interpolate`A scheduled ${environment} rotator run failed or expired unrun; the event is in the failed-runs queue`, {
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      statistic: "Maximum",
      dimensions: { QueueName: failedRunsQueue.name },
    });
    // Silence is the failure here: a disabled or deleted schedule, a broken deployment or lost permissions.
    alarm(
      "no-recent-run",
      pulumi.interpolate`No scheduled ${environment} rotator run completed within its heartbeat window (schedule disabled, deployment broken or permissions lost)`,
      rotatorMetric(RotatorMetric.Heartbeat),
      {
        period: heartbeat.periodSeconds,
        evaluationPeriods: heartbeat.evaluationPeriods,
        datapointsToAlarm: heartbeat.evaluationPeriods,
        comparisonOperator: "LessThanThreshold",
        threshold: 1,
        treatMissingData: "breaching",
      },
    );

    const dashboard = new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      {
        dashboardName: names.dashboardName,
        dashboardBody: pulumi
          .all([environment, region, fn.name, deadLetterQueue.name, failedRunsQueue.name, ...alarms.map((a) => a.arn)])
          .apply(([env, r, functionName, dlqName, failedRunsName, ...alarmArns]) =>
            JSON.stringify(rotatorDashboard({ environment: env, region: r, functionName, queueNames: [dlqName, failedRunsName], alarmArns })),
          ),
      },
      parent,
    );

    this.functionName = fn.name;
    this.functionArn = fn.arn;
    this.roleArn = role.arn;
    this.credentialSecretName = selfRotated ? environment.apply(rotatorCredentialSecretName) : names.adminSecretName;
    this.ledgerTableName = ledgerTable.name;
    this.alarmTopicArn = topic.arn;
    this.deadLetterQueueUrl = deadLetterQueue.url;
    this.failedRunsQueueUrl = failedRunsQueue.url;
    this.dashboardName = dashboard.dashboardName;
    this.operatorPolicyArn = operatorPolicy.arn;
    this.viewerPolicyArn = viewerPolicy.arn;
    this.tokenDeployerPolicyArn = tokenDeployerPolicy.arn;
    this.scheduleName = scheduleResource.name;
    this.registerOutputs({
      functionName: this.functionName,
      functionArn: this.functionArn,
      roleArn: this.roleArn,
      credentialSecretName: this.credentialSecretName,
      ledgerTableName: this.ledgerTableName,
      alarmTopicArn: this.alarmTopicArn,
      deadLetterQueueUrl: this.deadLetterQueueUrl,
      failedRunsQueueUrl: this.failedRunsQueueUrl,
      dashboardName: this.dashboardName,
      operatorPolicyArn: this.operatorPolicyArn,
      viewerPolicyArn: this.viewerPolicyArn,
      tokenDeployerPolicyArn: this.tokenDeployerPolicyArn,
      scheduleName: this.scheduleName,
    });
  }
}

/**
 * An argument after its check: a plain value is checked now (so a mistake fails at construction), an Output or
 * Promise when it resolves. Either way a bad value is a ValidationError naming the argument and the fix.
 */
function checked<T>(field: string, value: pulumi.Input<T>, check: (v: unknown) => string | undefined): pulumi.Output<T> {
  const assert = (v: unknown) => {
    const message = check(v);
    if (message) throw new ValidationError("RotatorDeployment's arguments", [{ field, message }]);
  };
  if (!pulumi.Output.isInstance(value) && !(value instanceof Promise)) assert(value);
  return (pulumi.output(value) as pulumi.Output<T>).apply((v) => {
    assert(v);
    return v;
  });
}

/** The Lambda's code archive; a missing bundle fails with the command that builds it, not an engine error. */
function bundleArchive(dir: pulumi.Input<string>): pulumi.Output<pulumi.asset.Archive> {
  const assertBuilt = (d: string) => {
    if (!existsSync(join(d, "index.js"))) throw new RotatorBundleMissingError(d);
  };
  if (typeof dir === "string") assertBuilt(dir);
  return pulumi.output(dir).apply((d) => {
    assertBuilt(d);
    return new pulumi.asset.FileArchive(d);
  });
}

/** Serialises a policy after refusing wildcard actions, so that no edit can slip one in unnoticed. */
function policyJson(document: PolicyDocument): string {
  const wildcards = wildcardActions(document);
  if (wildcards.length) throw new TokenOpsError("wildcard_action", `IAM policy has wildcard actions ${wildcards.join(", ")}`, { hint: "name each action" });
  return JSON.stringify(document);
}

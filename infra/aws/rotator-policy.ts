/**
 * The IAM documents of a rotator deployment, as pure functions of plain strings, so that each can be tested
 * statement by statement without an engine. Least privilege throughout: every action is named (no wildcards), and
 * every resource is one ARN of this environment's deployment.
 */
import { Environment } from "../../src/domain/environments";
import { rotatorCredentialSecretName, secretNamespace, Tag } from "../../src/store/metadata";

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: { readonly Service: string };
  readonly Action: readonly string[];
  readonly Resource?: readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly PolicyStatement[];
}

/** Where the deployment runs. */
export interface AwsLocation {
  /** "aws", or "aws-cn" / "aws-us-gov". */
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
}

/** What the rotator Lambda's inline policy is written for. */
export interface RotatorPolicyContext extends AwsLocation {
  readonly environment: Environment;
  /**
   * Where the rotator's gateway credential is (docs/gateway-api.md, "Rotator credential"). The documented API: its own
   * admin:tokens credential (`openclaw-admin/<env>/rotator`), which it rotates, so it writes that secret's versions.
   * openclaw-devices: the stack's admin secret holding OpenClaw's shared token, which it only reads.
   */
  readonly credential: RotatorCredentialLocation;
  /** The environment's ledger table (src/ledger/): the rotator writes its rotation state, never the declarations. */
  readonly ledgerTableArn: string;
  /** The log group's ARN as the AWS provider reports it, without a trailing `:*`. */
  readonly logGroupArn: string;
  /** The queue Lambda sends failed scheduled runs to (the async on-failure destination, sent with this role). */
  readonly failedRunsQueueArn: string;
  /** Whether the function sends X-Ray traces (RotatorDeployment's `tracing`). @default false */
  readonly tracing?: boolean;
}

/**
 * Every action the rotator performs on its environment's token secrets. No CreateSecret or DeleteSecret: secrets
 * are created and destroyed by the stack (GatewayToken), the rotator only adds versions and moves stages. No
 * UpdateSecret: the rotator never rewrites a secret's description or KMS key, nor its value outside a new version.
 * No TagResource or ListSecrets: the rotation state is in the ledger, not in tags, and the scan queries the ledger.
 */
export const TOKEN_SECRET_ACTIONS = [
  "secretsmanager:DescribeSecret",
  "secretsmanager:GetSecretValue",
  "secretsmanager:PutSecretValue",
  "secretsmanager:UpdateSecretVersionStage",
] as const;

export type RotatorCredentialLocation =
  | { readonly kind: "self-rotated"; /** ARN pattern of openclaw-admin/<env>/rotator (with Secrets Manager's suffix). */ readonly arn: string }
  | { readonly kind: "admin-secret"; /** The full ARN of openclaw-admin/<env>/gateway. */ readonly arn: string };

/** The ARN pattern of an environment's rotator credential: the secret's name and Secrets Manager's 6-character suffix. */
export function rotatorCredentialArnPattern(location: AwsLocation, environment: Environment): string {
  return `arn:${location.partition}:secretsmanager:${location.region}:${location.accountId}:secret:${rotatorCredentialSecretName(environment)}-??????`;
}

/** The statement that gives the rotator its gateway credential. */
function credentialStatement(ctx: RotatorPolicyContext): PolicyStatement {
  if (ctx.credential.kind === "admin-secret") {
    // The gateway admin token lives outside openclaw/<env>/ so that this read is the only access there is.
    return { Sid: "ReadGatewayAdminToken", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [ctx.credential.arn] };
  }
  // Its own credential: new versions and stage moves like a token's, on this one secret, tagged for this environment.
  // No CreateSecret or DeleteSecret: bootstrap-rotator (a human with the break-glass token) creates it.
  return {
    Sid: "RotateOwnCredential",
    Effect: "Allow",
    Action: TOKEN_SECRET_ACTIONS,
    Resource: [ctx.credential.arn],
    Condition: { StringEquals: { [`aws:ResourceTag/${Tag.Environment}`]: ctx.environment } },
  };
}

/** Reading the ledger: an entry by key, and the due index. */
export const LEDGER_READ_ACTIONS = ["dynamodb:GetItem", "dynamodb:Query"] as const;

/**
 * The only attributes the rotator (and an operator's leak response) may write with UpdateItem: the rotation state,
 * the lease, the version that fences every write, and the due index's keys. The declaration (scopes, TTL, gateway)
 * is the deployer's alone.
 */
export const LEDGER_ROTATOR_ATTRIBUTES = ["pk", "state", "lease", "version", "nextCheckAtMs", "dueBucket"] as const;

/** What `pulumi up`/`destroy` (the provider) do with the ledger: create, replace and delete whole entries. */
export const LEDGER_DEPLOYER_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"] as const;

/** A table and its secondary indexes (a Query on an index is authorized against `<table>/index/<name>`). */
export function tableAndIndexes(tableArn: string): string[] {
  return [tableArn, `${tableArn}/index/*`];
}

export const LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"] as const;

/** The ARN pattern of every token secret of one environment: `…:secret:openclaw/<env>/*`. */
export function tokenSecretsArnPattern(location: AwsLocation, environment: Environment): string {
  return `arn:${location.partition}:secretsmanager:${location.region}:${location.accountId}:secret:${secretNamespace(environment)}*`;
}

/** The account's default EventBridge bus in the deployment's region: the one bus the rotator publishes events to. */
export function defaultEventBusArn(location: AwsLocation): string {
  return `arn:${location.partition}:events:${location.region}:${location.accountId}:event-bus/default`;
}

/** The rotator Lambda's inline policy. */
export function rotatorPolicyDocument(ctx: RotatorPolicyContext): PolicyDocument {
  const tokenSecrets = tokenSecretsArnPattern(ctx, ctx.environment);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        // Two fences: the name namespace (openclaw/<env>/) and the environment tag. A secret renamed into the
        // namespace without the tag, or tagged for this environment outside the namespace, is out of reach.
        Sid: "RotateThisEnvironmentsTokens",
        Effect: "Allow",
        Action: TOKEN_SECRET_ACTIONS,
        Resource: [tokenSecrets],
        Condition: {
          StringEquals: { [`aws:ResourceTag/${Tag.Environment}`]: ctx.environment },
        },
      },
      credentialStatement(ctx),
      {
        Sid: "ReadLedger",
        Effect: "Allow",
        Action: LEDGER_READ_ACTIONS,
        Resource: tableAndIndexes(ctx.ledgerTableArn),
      },
      {
        // dynamodb:Attributes names every attribute an UpdateItem touches: only the rotation state's.
        Sid: "WriteRotationStateOnly",
        Effect: "Allow",
        Action: ["dynamodb:UpdateItem"],
        Resource: [ctx.ledgerTableArn],
        Condition: { "ForAllValues:StringEquals": { "dynamodb:Attributes": LEDGER_ROTATOR_ATTRIBUTES } },
      },
      {
        // CreateLogStream is checked against the log group, PutLogEvents against its streams (`<group>:log-stream:…`),
        // which `<group>:*` covers. The group itself is created by the stack (with a retention), so no CreateLogGroup.
        Sid: "WriteOwnLogs",
        Effect: "Allow",
        Action: LOG_ACTIONS,
        Resource: [ctx.logGroupArn, `${ctx.logGroupArn}:*`],
      },
      {
        // Lambda delivers an asynchronous invocation's on-failure record with the function's own role.
        Sid: "RecordFailedRuns",
        Effect: "Allow",
        Action: ["sqs:SendMessage"],
        Resource: [ctx.failedRunsQueueArn],
      },
      {
        // Rotation milestones (src/rotation/eventbridge-sink.ts): the default bus only, no other bus or archive.
        Sid: "PublishRotationEvents",
        Effect: "Allow",
        Action: ["events:PutEvents"],
        Resource: [defaultEventBusArn(ctx)],
      },
      ...(ctx.tracing
        ? [
            {
              // X-Ray's write actions have no resource-level permissions: "*" is the only valid Resource (the same
              // two actions as AWS's AWSXRayDaemonWriteAccess, without its sampling reads, which Lambda does itself).
              Sid: "WriteTracesXRayHasNoResourceScope",
              Effect: "Allow" as const,
              Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
              Resource: ["*"],
            },
          ]
        : []),
      {
        // The identity tags are what the first statement's condition and the scan rely on: never removable.
        Sid: "KeepIdentityTags",
        Effect: "Deny",
        Action: ["secretsmanager:UntagResource"],
        Resource: [tokenSecrets],
        Condition: { "ForAnyValue:StringEquals": { "aws:TagKeys": [Tag.Environment, Tag.ManagedBy] } },
      },
    ],
  };
}

/** Who may assume the Lambda's role: the Lambda service only. */
export function lambdaAssumeRolePolicy(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "LambdaService", Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: ["sts:AssumeRole"] }],
  };
}

/** The ARN of a schedule, known before the schedule exists (so that its role's trust policy can name it). */
export function scheduleArn(location: AwsLocation, groupName: string, scheduleName: string): string {
  return `arn:${location.partition}:scheduler:${location.region}:${location.accountId}:schedule/${groupName}/${scheduleName}`;
}

/**
 * Who may assume the scheduler's role: EventBridge Scheduler, and only for this account's one schedule (the
 * confused-deputy conditions AWS recommends for Scheduler execution roles).
 */
export function schedulerAssumeRolePolicy(location: AwsLocation, scheduleArnValue: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ThisScheduleOnly",
        Effect: "Allow",
        Principal: { Service: "scheduler.amazonaws.com" },
        Action: ["sts:AssumeRole"],
        Condition: { StringEquals: { "aws:SourceAccount": location.accountId, "aws:SourceArn": scheduleArnValue } },
      },
    ],
  };
}

/** What the scheduler's role may do: invoke the rotator, and park undeliverable events in the dead-letter queue. */
export function schedulerPolicyDocument(functionArn: string, deadLetterQueueArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "InvokeRotator", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [functionArn] },
      { Sid: "DeadLetters", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [deadLetterQueueArn] },
    ],
  };
}

/** Actions in a document that contain a wildcard; a guard the component applies before it registers a policy. */
export function wildcardActions(document: PolicyDocument): string[] {
  return document.Statement.flatMap((s) => s.Action.filter((a) => a.includes("*")));
}

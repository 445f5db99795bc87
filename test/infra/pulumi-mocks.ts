/**
 * Pulumi mocks for the AWS resources of the stack: each resource gets the ID and ARN/URL AWS would give it, so that
 * IAM documents built from those ARNs can be checked against real-looking values. Install before importing the
 * module under test (the pulumi-awsx pattern).
 */
import * as pulumi from "@pulumi/pulumi";

export const REGION = "eu-west-1";
const DEFAULT_REGION = REGION;
export const ACCOUNT = "123456789012";

/** A resource as the engine saw it: inputs fully resolved (secrets unwrapped), and the state the mock returned. */
export interface Registered {
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly inputs: Record<string, any>;
  readonly id: string;
  readonly state: Record<string, any>;
}

/** Where the mocked deployment runs, and ARNs taken from a real (moto) account instead of made up. */
export interface MockOptions {
  /** @default REGION */
  readonly region?: string;
  /** The real ARN of a secret that exists already (name -> ARN), e.g. in moto; others get a made-up suffix. */
  readonly secretArn?: (name: string) => string | undefined;
}

/** What AWS assigns on create: IDs, ARNs, URLs. Names come from the inputs (every resource here sets one). */
function assigned(type: string, inputs: Record<string, any>, name: string, options: MockOptions): { id: string; outputs: Record<string, unknown> } {
  const REGION = options.region ?? DEFAULT_REGION;
  const arn = (service: string, resource: string, region = REGION) => `arn:aws:${service}:${region}:${ACCOUNT}:${resource}`;
  const physical: string = inputs.name ?? name;
  switch (type) {
    case "aws:secretsmanager/secret:Secret": {
      const secretArn = options.secretArn?.(physical) ?? arn("secretsmanager", `secret:${physical}-AbCdEf`);
      return { id: secretArn, outputs: { arn: secretArn } };
    }
    case "aws:secretsmanager/secretVersion:SecretVersion":
      return { id: `${inputs.secretId}|v1`, outputs: { versionId: "v1", arn: inputs.secretId } };
    case "aws:dynamodb/table:Table":
      return { id: physical, outputs: { arn: arn("dynamodb", `table/${physical}`) } };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { id: physical, outputs: { arn: arn("logs", `log-group:${physical}`) } };
    case "aws:iam/role:Role":
      return { id: physical, outputs: { arn: `arn:aws:iam::${ACCOUNT}:role/${physical}`, uniqueId: `AROA${physical.length}` } };
    case "aws:iam/policy:Policy":
      return { id: `arn:aws:iam::${ACCOUNT}:policy/${physical}`, outputs: { arn: `arn:aws:iam::${ACCOUNT}:policy/${physical}` } };
    case "aws:iam/rolePolicy:RolePolicy":
      return { id: `${inputs.role}:${physical}`, outputs: {} };
    case "aws:lambda/function:Function": {
      const functionArn = arn("lambda", `function:${physical}`);
      return { id: physical, outputs: { arn: functionArn, qualifiedArn: `${functionArn}:$LATEST`, invokeArn: `${functionArn}/invocations` } };
    }
    case "aws:lambda/permission:Permission":
      return { id: inputs.statementId ?? name, outputs: {} };
    case "aws:sqs/queue:Queue": {
      const url = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${physical}`;
      return { id: url, outputs: { arn: arn("sqs", physical), url } };
    }
    case "aws:sns/topic:Topic": {
      const topicArn = arn("sns", physical);
      return { id: topicArn, outputs: { arn: topicArn } };
    }
    case "aws:sns/topicSubscription:TopicSubscription": {
      const subscriptionArn = `${inputs.topic}:pending-confirmation`;
      return { id: subscriptionArn, outputs: { arn: subscriptionArn } };
    }
    case "aws:scheduler/schedule:Schedule":
      return { id: `${inputs.groupName}/${physical}`, outputs: { arn: arn("scheduler", `schedule/${inputs.groupName}/${physical}`) } };
    case "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig":
      return { id: inputs.functionName, outputs: {} };
    case "aws:cloudwatch/dashboard:Dashboard":
      return { id: inputs.dashboardName, outputs: { dashboardArn: `arn:aws:cloudwatch::${ACCOUNT}:dashboard/${inputs.dashboardName}` } };
    case "aws:cloudwatch/eventRule:EventRule":
      return { id: `${inputs.eventBusName ?? "default"}|${physical}`, outputs: { arn: arn("events", `rule/${physical}`) } };
    case "aws:cloudwatch/metricAlarm:MetricAlarm":
      return { id: physical, outputs: { arn: arn("cloudwatch", `alarm:${physical}`) } };
    default:
      return { id: `${name}-id`, outputs: {} };
  }
}

/** Installs the mocks and returns the list every registered resource is appended to. */
export async function installMocks(stack = "test", options: MockOptions = {}): Promise<Registered[]> {
  const REGION = options.region ?? DEFAULT_REGION;
  const registered: Registered[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        const { id, outputs } = assigned(args.type, args.inputs, args.name, options);
        const state = { ...args.inputs, name: args.inputs.name ?? args.name, ...outputs };
        registered.push({ type: args.type, name: args.name, custom: args.custom ?? true, inputs: args.inputs, id, state });
        return { id: args.custom === false ? undefined : id, state };
      },
      call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
        switch (args.token) {
          case "aws:index/getRegion:getRegion":
            return { region: REGION, name: REGION, id: REGION, description: "Europe (Ireland)", endpoint: `ec2.${REGION}.amazonaws.com` };
          case "aws:index/getCallerIdentity:getCallerIdentity":
            return { accountId: ACCOUNT, id: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/deployer`, userId: "AIDADEPLOYER" };
          case "aws:index/getPartition:getPartition":
            return { partition: "aws", id: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
          default:
            throw new Error(`no mock for invoke ${args.token}`);
        }
      },
    },
    "openclaw-token-ops",
    stack,
    false,
  );
  return registered;
}

/** The value of an Output, once the mocks have resolved it. */
export function valueOf<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

/** Waits until `done` holds (resources register asynchronously, as their inputs resolve). */
export async function until(done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** True if an IAM ARN pattern (`*` and `?` wildcards) matches an ARN. */
export function arnMatches(pattern: string, arn: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
  return regex.test(arn);
}

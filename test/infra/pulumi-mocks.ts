/**
 * Pulumi mocks for the AWS resources of the stack: each resource gets the ID and ARN/URL AWS would give it, so that
 * IAM documents built from those ARNs can be checked against real-looking values. Install before importing the
 * module under test (the pulumi-awsx pattern).
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

export const REGION = "eu-west-1";
const DEFAULT_REGION = REGION;
export const ACCOUNT = "123456789012";

/** The mocked account's VPC and subnets, as aws:ec2/getSubnet reports them (the token front's fleet runs there). */
export const VPC_ID = "vpc-0f00d00f00d00f00d";
export const SUBNETS: Readonly<Record<string, { readonly cidrBlock: string; readonly availabilityZone: string }>> = {
  "subnet-0a11111111111111a": { cidrBlock: "10.0.1.0/24", availabilityZone: "a" },
  "subnet-0b22222222222222b": { cidrBlock: "10.0.2.0/24", availabilityZone: "b" },
  "subnet-0c33333333333333c": { cidrBlock: "10.0.101.0/24", availabilityZone: "a" },
  "subnet-0d44444444444444d": { cidrBlock: "10.0.102.0/24", availabilityZone: "b" },
};

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
    case "aws:ec2/securityGroup:SecurityGroup": {
      const id = `sg-${createHash("sha256").update(physical).digest("hex").slice(0, 17)}`;
      return { id, outputs: { arn: arn("ec2", `security-group/${id}`) } };
    }
    case "aws:lb/loadBalancer:LoadBalancer": {
      const suffix = `app/${physical}/50dc6c495c0c9188`;
      const dnsName = `${inputs.internal ? "internal-" : ""}${physical}-1234567890.${REGION}.elb.amazonaws.com`;
      return { id: arn("elasticloadbalancing", `loadbalancer/${suffix}`), outputs: { arn: arn("elasticloadbalancing", `loadbalancer/${suffix}`), arnSuffix: suffix, dnsName, zoneId: "Z32O12XQLNTSW2" } };
    }
    case "aws:lb/targetGroup:TargetGroup": {
      const suffix = `targetgroup/${physical}/73e2d6bc24d8a067`;
      return { id: arn("elasticloadbalancing", suffix), outputs: { arn: arn("elasticloadbalancing", suffix), arnSuffix: suffix } };
    }
    case "aws:lb/listener:Listener": {
      const listenerArn = `${String(inputs.loadBalancerArn).replace(":loadbalancer/", ":listener/")}/${inputs.port}f0c1d2e3`;
      return { id: listenerArn, outputs: { arn: listenerArn } };
    }
    case "aws:ecs/cluster:Cluster":
      return { id: arn("ecs", `cluster/${physical}`), outputs: { arn: arn("ecs", `cluster/${physical}`) } };
    case "aws:ecs/taskDefinition:TaskDefinition":
      return { id: inputs.family, outputs: { arn: arn("ecs", `task-definition/${inputs.family}:1`), arnWithoutRevision: arn("ecs", `task-definition/${inputs.family}`), revision: 1 } };
    case "aws:ecs/service:Service": {
      const clusterName = String(inputs.cluster).split("/").pop();
      return { id: arn("ecs", `service/${clusterName}/${physical}`), outputs: {} };
    }
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
          case "aws:ec2/getSubnet:getSubnet": {
            const subnet = SUBNETS[args.inputs.id];
            if (!subnet) throw new Error(`no subnet ${args.inputs.id} in the mocked account`);
            return { id: args.inputs.id, cidrBlock: subnet.cidrBlock, vpcId: VPC_ID, availabilityZone: `${REGION}${subnet.availabilityZone}` };
          }
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

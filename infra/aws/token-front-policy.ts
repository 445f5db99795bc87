/**
 * Names and IAM documents of one environment's token front fleet, as pure functions of plain strings, so that each
 * can be tested statement by statement (and evaluated) without an engine. Every name carries the environment, and
 * every resource a policy names is one ARN of that environment's fleet: a prod front can never reach a dev table.
 */
import { Environment } from "../../src/domain/environments";
import { AwsLocation, LOG_ACTIONS, PolicyDocument } from "./rotator-policy";
import { defaultRegistryTableName as frontRegistryTableName, FRONT_REGISTRY_ACTIONS } from "../../reference-gateway/dynamodb/table-schema";

/** Physical names of one environment's fleet. IAM roles are global to the account, so theirs also carry the region. */
export interface FrontNames {
  readonly clusterName: string;
  readonly serviceName: string;
  readonly taskFamily: string;
  readonly containerName: string;
  /** The fleet's shared token registry (DynamoDB): `openclaw-front-<env>-registry`. */
  readonly registryTableName: string;
  readonly logGroupName: string;
  /** Load balancer and target group names are at most 32 characters: "openclaw-front-stage" is 20. */
  readonly loadBalancerName: string;
  readonly targetGroupName: string;
  readonly loadBalancerSecurityGroupName: string;
  readonly taskSecurityGroupName: string;
  readonly taskRoleName: (region: string) => string;
  readonly executionRoleName: (region: string) => string;
}

export function frontNames(environment: Environment): FrontNames {
  const base = `openclaw-front-${environment}`;
  return {
    clusterName: base,
    serviceName: base,
    taskFamily: base,
    containerName: "token-front",
    registryTableName: frontRegistryTableName(environment),
    logGroupName: `/ecs/${base}`,
    loadBalancerName: base,
    targetGroupName: base,
    loadBalancerSecurityGroupName: `${base}-alb`,
    taskSecurityGroupName: `${base}-tasks`,
    // "openclaw-front-stage-execution-ap-southeast-2" is 45 of IAM's 64 characters.
    taskRoleName: (region) => `${base}-task-${region}`,
    executionRoleName: (region) => `${base}-execution-${region}`,
  };
}

/**
 * The fleet's registry table: its name and the actions a front needs on it are the front's own definition
 * (reference-gateway/dynamodb/table-schema.ts), so that the component and the front cannot drift apart.
 */
export { frontRegistryTableName, FRONT_REGISTRY_ACTIONS };

/** Pulling an image from its ECR repository (what AWS's AmazonECSTaskExecutionRolePolicy allows, on one repository). */
export const IMAGE_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"] as const;

/** The task role's one policy: its own environment's registry table, nothing else (no secret, no other table). */
export function frontTaskPolicyDocument(registryTableArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "UseOwnRegistryTable", Effect: "Allow", Action: FRONT_REGISTRY_ACTIONS, Resource: [registryTableArn] }],
  };
}

export interface FrontExecutionPolicyContext {
  /** The log group's ARN as the AWS provider reports it, without a trailing `:*`. */
  readonly logGroupArn: string;
  /** The image's ECR repository, or undefined for an image that needs no credentials to pull (a public registry). */
  readonly imageRepositoryArn: string | undefined;
}

/** The execution role's one policy: what ECS needs to start a task, pull the image and ship its logs. */
export function frontExecutionPolicyDocument(ctx: FrontExecutionPolicyContext): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      ...(ctx.imageRepositoryArn
        ? [
            { Sid: "PullFrontImage", Effect: "Allow" as const, Action: IMAGE_PULL_ACTIONS, Resource: [ctx.imageRepositoryArn] },
            // An ECR login token is account-wide: the action has no resource-level permissions.
            { Sid: "EcrLoginHasNoResourceScope", Effect: "Allow" as const, Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
          ]
        : []),
      // CreateLogStream is checked against the group, PutLogEvents against its streams (`<group>:log-stream:…`).
      { Sid: "WriteFrontLogs", Effect: "Allow", Action: LOG_ACTIONS, Resource: [ctx.logGroupArn, `${ctx.logGroupArn}:*`] },
    ],
  };
}

/** Who may assume the fleet's roles: ECS tasks of this account and region only (the confused-deputy conditions). */
export function ecsTasksAssumeRolePolicy(location: AwsLocation): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "EcsTasksOfThisAccount",
        Effect: "Allow",
        Principal: { Service: "ecs-tasks.amazonaws.com" },
        Action: ["sts:AssumeRole"],
        Condition: {
          StringEquals: { "aws:SourceAccount": location.accountId },
          ArnLike: { "aws:SourceArn": `arn:${location.partition}:ecs:${location.region}:${location.accountId}:*` },
        },
      },
    ],
  };
}

/** The ECR repository an image reference names (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest]`). */
export function ecrRepositoryArn(image: string, partition: string): string | undefined {
  const match = /^([0-9]{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/.exec(image);
  return match ? `arn:${partition}:ecr:${match[2]}:${match[1]}:repository/${match[3]}` : undefined;
}

/**
 * The part of openclaw.json the fleet relies on: trusted-proxy auth that believes the tasks' subnets only (the
 * addresses the fronts connect from), with the fronts' identity header. OpenClaw listens on the VPC (`lan`), not
 * loopback, since the fronts reach it over the network; allowLoopback stays off (no front runs on its host).
 */
export function openclawConfigForFleet(trustedProxies: readonly string[], userHeader: string): OpenClawFleetConfig {
  return {
    gateway: {
      bind: "lan",
      trustedProxies: [...trustedProxies],
      auth: { mode: "trusted-proxy", trustedProxy: { userHeader, allowLoopback: false } },
    },
  };
}

/** The openclaw.json fragment a fleet relies on (a stack output, to merge into the OpenClaw host's config). */
export interface OpenClawFleetConfig {
  gateway: {
    bind: "lan";
    trustedProxies: string[];
    auth: { mode: "trusted-proxy"; trustedProxy: { userHeader: string; allowLoopback: false } };
  };
}

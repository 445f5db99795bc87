/**
 * TokenFrontDeployment: a fleet of token fronts (reference-gateway in --upstream mode) on AWS, in front of a
 * self-hosted OpenClaw gateway, as one optional component.
 *
 *   consumers ──https:443──▶ ALB (certificate; :80 only redirects) ──http:8443──▶ ECS Fargate tasks (round robin)
 *                             └─ security group: 443/80 from ingressCidrs      ├─ security group: 8443 from the ALB only
 *                                                                               ├─▶ OpenClaw (upstreamUrl; trusted-proxy
 *                                                                               │    mode, trustedProxies = tasks' subnets)
 *                                                                               ├─▶ DynamoDB openclaw-front-<env>-registry
 *                                                                               └─▶ /ecs/openclaw-front-<env> (retention)
 *
 * The component does not build images: the image (from deploy/token-front/Containerfile) is an input. Every name,
 * the table and every IAM resource carry the environment. OpenClaw's side of the arrangement (trustedProxies,
 * userHeader) is an output, `openclawConfig`, to merge into openclaw.json (docs/self-hosted-openclaw.md).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Environment } from "../../src/domain/environments";
import { TokenOpsError, ValidationError } from "../../src/domain/errors";
import { MANAGED_BY, Tag } from "../../src/store/metadata";
import { AwsLocation, PolicyDocument, wildcardActions } from "./rotator-policy";
import {
  ecrRepositoryArn,
  ecsTasksAssumeRolePolicy,
  frontExecutionPolicyDocument,
  frontNames,
  frontTaskPolicyDocument,
  OpenClawFleetConfig,
  openclawConfigForFleet,
} from "./token-front-policy";
import { CpuArchitecture, FRONT_ARGUMENT_KEYS, frontArgumentProblems, FrontSettings, frontSettings, NOT_YET_KNOWN } from "./token-front-settings";
import { REGISTRY_TABLE } from "../../reference-gateway/dynamodb/table-schema";

/** The port the front listens on in its container (the Containerfile's EXPOSE). */
export const FRONT_PORT = 8443;
/** Where the Containerfile puts the bundle, and the volume it declares for the front's state. */
export const FRONT_BUNDLE = "/opt/openclaw-token-front/reference-gateway.js";
export const FRONT_STATE_DIR = "/var/lib/openclaw-token-front";
/** The front's own health route, answered without a token and without calling OpenClaw (reference-gateway/routes/api.ts). */
export const FRONT_HEALTH_PATH = "/healthz";
/** AWS's recommended TLS policy: TLS 1.3 and 1.2 only. */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
/**
 * How long the load balancer lets a draining task finish its requests. The front closes gracefully on SIGTERM
 * (in-flight requests finish, WebSockets are closed so that clients reconnect to another task).
 */
export const DEREGISTRATION_DELAY_SECONDS = 30;

export interface TokenFrontDeploymentArgs {
  /** The environment this fleet serves (dev, stage or prod); every name, the registry table and IAM scope carry it. */
  readonly environment: pulumi.Input<Environment>;
  /** The front's image, built from deploy/token-front/Containerfile, pinned by a version tag or a digest. */
  readonly image: pulumi.Input<string>;
  /** The OpenClaw gateway as the tasks reach it in the VPC: http://HOST:PORT (the front's `--upstream`). */
  readonly upstreamUrl: pulumi.Input<string>;
  /** ACM certificate of the front's https name, in the deployment's region (the HTTPS listener's). */
  readonly certificateArn: pulumi.Input<string>;
  readonly vpcId: pulumi.Input<string>;
  /** The tasks' subnets (private); their CIDRs are OpenClaw's trustedProxies. */
  readonly subnetIds: pulumi.Input<readonly pulumi.Input<string>[]>;
  /** The load balancer's subnets, at least two Availability Zones, none of them a task subnet. */
  readonly loadBalancerSubnetIds: pulumi.Input<readonly pulumi.Input<string>[]>;
  /** Where the upstream's address lies, for the tasks' egress rule. @default `<host>/32` when the host is an IPv4 address; required otherwise */
  readonly upstreamCidrs?: pulumi.Input<readonly pulumi.Input<string>[]>;
  /** Number of tasks. @default 2 */
  readonly desiredCount?: pulumi.Input<number>;
  /** Fargate CPU units per task. @default 256 */
  readonly cpu?: pulumi.Input<number>;
  /** Fargate memory (MiB) per task, one that goes with `cpu`. @default 512 */
  readonly memory?: pulumi.Input<number>;
  /** The architecture the image was built for. @default "X86_64" */
  readonly cpuArchitecture?: pulumi.Input<CpuArchitecture>;
  /** An internal load balancer (reachable only inside the VPC and its peers). @default false */
  readonly internal?: pulumi.Input<boolean>;
  /** Who may reach the load balancer on 443 (and 80, which redirects). @default ["0.0.0.0/0"] */
  readonly ingressCidrs?: pulumi.Input<readonly pulumi.Input<string>[]>;
  /** The identity header the front sets and OpenClaw's trustedProxy.userHeader reads. @default "x-forwarded-user" */
  readonly upstreamUserHeader?: pulumi.Input<string>;
  /** The load balancer's idle timeout, long enough for quiet WebSocket connections. @default 660 */
  readonly idleTimeoutSeconds?: pulumi.Input<number>;
  /** Days CloudWatch Logs keeps the fronts' logs. @default 30 */
  readonly logRetentionDays?: pulumi.Input<number>;
  /** Extra tags for every taggable resource; the openclaw:environment and openclaw:managed-by tags always win. @default {} */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class TokenFrontDeployment extends pulumi.ComponentResource {
  /** The fleet's https address (the load balancer's name; point your own DNS name, the certificate's, at it). */
  readonly url: pulumi.Output<string>;
  readonly loadBalancerDnsName: pulumi.Output<string>;
  /** For a Route 53 alias record. */
  readonly loadBalancerZoneId: pulumi.Output<string>;
  readonly clusterName: pulumi.Output<string>;
  readonly serviceName: pulumi.Output<string>;
  readonly registryTableName: pulumi.Output<string>;
  readonly registryTableArn: pulumi.Output<string>;
  readonly taskRoleArn: pulumi.Output<string>;
  readonly executionRoleArn: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;
  readonly taskSecurityGroupId: pulumi.Output<string>;
  /** The tasks' subnets' CIDRs: the addresses OpenClaw must trust, and only those. */
  readonly trustedProxies: pulumi.Output<string[]>;
  /** What to merge into openclaw.json on the OpenClaw host (docs/self-hosted-openclaw.md, "Deploy on AWS"). */
  readonly openclawConfig: pulumi.Output<OpenClawFleetConfig>;

  constructor(name: string, args: TokenFrontDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    // Guards first, before the component itself is registered: every plain argument now, the others when they resolve.
    assertArguments(knownNow(args));
    super("openclaw:aws:TokenFrontDeployment", name, {}, opts);
    const parent = { parent: this };

    const { tags: extraTags, ...rest } = args;
    const settings: pulumi.Output<FrontSettings> = pulumi.output(rest).apply((resolved) => {
      const plain = resolved as Record<string, unknown>;
      assertArguments(plain);
      return frontSettings(plain);
    });
    const setting = <K extends keyof FrontSettings>(key: K): pulumi.Output<FrontSettings[K]> => settings.apply((s) => s[key]);
    const environment = setting("environment");
    const names = environment.apply(frontNames);
    const region = aws.getRegionOutput({}, parent).region;
    const location: pulumi.Output<AwsLocation> = pulumi
      .all([aws.getPartitionOutput({}, parent).partition, region, aws.getCallerIdentityOutput({}, parent).accountId])
      .apply(([partition, r, accountId]) => ({ partition, region: r, accountId }));
    const tags = pulumi.all([environment, extraTags ?? {}]).apply(([env, extra]) => ({ ...extra, [Tag.Environment]: env, [Tag.ManagedBy]: MANAGED_BY }));
    // The tasks connect to OpenClaw from their subnets: those CIDRs, looked up, are what OpenClaw trusts.
    const trustedProxies = setting("subnetIds").apply((ids) => pulumi.all(ids.map((id) => aws.ec2.getSubnetOutput({ id }, parent).cidrBlock)));

    // The fleet's shared registry: tokens and request-log aggregates (the front's DynamoDB registry), with TTL for
    // expired items. Point-in-time recovery: losing it loses every consumer's token. Protected from deletion in prod.
    const registry = new aws.dynamodb.Table(
      `${name}-registry`,
      {
        name: names.registryTableName,
        // The keys and TTL attribute the front reads and writes (reference-gateway/dynamodb/table-schema.ts).
        billingMode: REGISTRY_TABLE.billingMode,
        hashKey: REGISTRY_TABLE.partitionKey,
        rangeKey: REGISTRY_TABLE.sortKey,
        attributes: [
          { name: REGISTRY_TABLE.partitionKey, type: "S" },
          { name: REGISTRY_TABLE.sortKey, type: "S" },
        ],
        ttl: { attributeName: REGISTRY_TABLE.ttlAttribute, enabled: true },
        pointInTimeRecovery: { enabled: true },
        deletionProtectionEnabled: environment.apply((env) => env === "prod"),
        tags,
      },
      parent,
    );

    const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { name: names.logGroupName, retentionInDays: setting("logRetentionDays"), tags }, parent);

    // Two roles: the task's (the registry table, nothing else) and ECS's own to start it (the image and the logs).
    const assumeRolePolicy = location.apply((loc) => policyJson(ecsTasksAssumeRolePolicy(loc)));
    const taskRole = new aws.iam.Role(
      `${name}-task-role`,
      {
        name: pulumi.all([names, region]).apply(([n, r]) => n.taskRoleName(r)),
        description: pulumi.interpolate`Token front tasks of the ${environment} OpenClaw gateway: their own registry table only`,
        assumeRolePolicy,
        tags,
      },
      parent,
    );
    const taskPolicy = new aws.iam.RolePolicy(
      `${name}-task-policy`,
      { role: taskRole.id, name: "openclaw-front-registry", policy: registry.arn.apply((arn) => policyJson(frontTaskPolicyDocument(arn))) },
      parent,
    );
    const executionRole = new aws.iam.Role(
      `${name}-execution-role`,
      {
        name: pulumi.all([names, region]).apply(([n, r]) => n.executionRoleName(r)),
        description: pulumi.interpolate`Starts the ${environment} OpenClaw token front tasks: pulls the image, writes the logs`,
        assumeRolePolicy,
        tags,
      },
      parent,
    );
    const executionPolicy = new aws.iam.RolePolicy(
      `${name}-execution-policy`,
      {
        role: executionRole.id,
        name: "openclaw-front-image-and-logs",
        policy: pulumi
          .all([logGroup.arn, setting("image"), location])
          .apply(([logGroupArn, image, loc]) => policyJson(frontExecutionPolicyDocument({ logGroupArn, imageRepositoryArn: ecrRepositoryArn(image, loc.partition) }))),
      },
      parent,
    );

    // The load balancer's group: consumers in on 443 (and 80, which only redirects); out only to the tasks' port, in
    // the tasks' subnets (CIDRs rather than the tasks' group, which refers back to this one).
    const loadBalancerGroup = new aws.ec2.SecurityGroup(
      `${name}-alb-sg`,
      {
        name: names.loadBalancerSecurityGroupName,
        description: pulumi.interpolate`OpenClaw ${environment} token front load balancer: https in, the fronts out`,
        vpcId: setting("vpcId"),
        ingress: setting("ingressCidrs").apply((cidrs) => [
          { description: "Consumers, https", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [...cidrs] },
          { description: "Consumers, http (redirected to https)", protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: [...cidrs] },
        ]),
        egress: [{ description: "The fronts", protocol: "tcp", fromPort: FRONT_PORT, toPort: FRONT_PORT, cidrBlocks: trustedProxies }],
        tags,
      },
      parent,
    );
    // The tasks' group: in from the load balancer only; out to OpenClaw, and to AWS's APIs (DynamoDB, ECR, Logs) on 443.
    const taskGroup = new aws.ec2.SecurityGroup(
      `${name}-tasks-sg`,
      {
        name: names.taskSecurityGroupName,
        description: pulumi.interpolate`OpenClaw ${environment} token fronts: the load balancer in, OpenClaw and AWS APIs out`,
        vpcId: setting("vpcId"),
        ingress: [{ description: "The load balancer only", protocol: "tcp", fromPort: FRONT_PORT, toPort: FRONT_PORT, securityGroups: [loadBalancerGroup.id] }],
        egress: settings.apply((s) => {
          const port = Number(new URL(s.upstreamUrl).port || 80);
          return [
            { description: "The upstream OpenClaw gateway", protocol: "tcp", fromPort: port, toPort: port, cidrBlocks: [...s.upstreamCidrs] },
            { description: "AWS APIs (DynamoDB, ECR, CloudWatch Logs) over https", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
          ];
        }),
        tags,
      },
      parent,
    );

    const loadBalancer = new aws.lb.LoadBalancer(
      `${name}-alb`,
      {
        name: names.loadBalancerName,
        loadBalancerType: "application",
        internal: setting("internal"),
        subnets: setting("loadBalancerSubnetIds").apply((ids) => [...ids]),
        securityGroups: [loadBalancerGroup.id],
        ipAddressType: "ipv4",
        // WebSocket connections (the operator protocol) stay open while quiet, up to this long.
        idleTimeout: setting("idleTimeoutSeconds"),
        // A malformed header never reaches the front; the front refuses the rest itself.
        dropInvalidHeaderFields: true,
        enableDeletionProtection: environment.apply((env) => env === "prod"),
        tags,
      },
      parent,
    );
    const targetGroup = new aws.lb.TargetGroup(
      `${name}-targets`,
      {
        name: names.targetGroupName,
        port: FRONT_PORT,
        protocol: "HTTP",
        // HTTP/1.1 to the targets: what WebSocket upgrades need.
        protocolVersion: "HTTP1",
        targetType: "ip",
        vpcId: setting("vpcId"),
        // Any front serves any request (the registry is shared): plain round robin, no stickiness.
        loadBalancingAlgorithmType: "round_robin",
        stickiness: { type: "lb_cookie", enabled: false },
        deregistrationDelay: DEREGISTRATION_DELAY_SECONDS,
        healthCheck: {
          enabled: true,
          path: FRONT_HEALTH_PATH,
          protocol: "HTTP",
          port: "traffic-port",
          matcher: "200",
          interval: 15,
          timeout: 5,
          healthyThreshold: 2,
          unhealthyThreshold: 3,
        },
        tags,
      },
      parent,
    );
    const httpsListener = new aws.lb.Listener(
      `${name}-https`,
      {
        loadBalancerArn: loadBalancer.arn,
        port: 443,
        protocol: "HTTPS",
        sslPolicy: TLS_POLICY,
        certificateArn: setting("certificateArn"),
        defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
        tags,
      },
      parent,
    );
    // Plain http carries no token anywhere: it only redirects.
    const httpListener = new aws.lb.Listener(
      `${name}-http-redirect`,
      {
        loadBalancerArn: loadBalancer.arn,
        port: 80,
        protocol: "HTTP",
        defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
        tags,
      },
      parent,
    );

    const cluster = new aws.ecs.Cluster(
      `${name}-cluster`,
      { name: names.clusterName, settings: [{ name: "containerInsights", value: "enabled" }], tags },
      parent,
    );

    const taskDefinition = new aws.ecs.TaskDefinition(
      `${name}-task`,
      {
        family: names.taskFamily,
        requiresCompatibilities: ["FARGATE"],
        networkMode: "awsvpc",
        cpu: setting("cpu").apply(String),
        memory: setting("memory").apply(String),
        runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: setting("cpuArchitecture") },
        taskRoleArn: taskRole.arn,
        executionRoleArn: executionRole.arn,
        // No volume: the registry and the request log are the DynamoDB table; the root filesystem is read-only.
        containerDefinitions: pulumi
          .all([settings, names, registry.name, logGroup.name, region])
          .apply(([s, n, tableName, logGroupName, r]) => JSON.stringify(frontContainerDefinitions(s, n.containerName, tableName, logGroupName, r))),
        tags,
      },
      parent,
    );

    const service = new aws.ecs.Service(
      `${name}-service`,
      {
        name: names.serviceName,
        cluster: cluster.arn,
        taskDefinition: taskDefinition.arn,
        launchType: "FARGATE",
        desiredCount: setting("desiredCount"),
        networkConfiguration: { subnets: setting("subnetIds").apply((ids) => [...ids]), securityGroups: [taskGroup.id], assignPublicIp: false },
        loadBalancers: [{ targetGroupArn: targetGroup.arn, containerName: names.containerName, containerPort: FRONT_PORT }],
        healthCheckGracePeriodSeconds: 30,
        // Rolling deployments keep the full count serving, and roll back a front that never becomes healthy.
        deploymentMinimumHealthyPercent: 100,
        deploymentMaximumPercent: 200,
        deploymentCircuitBreaker: { enable: true, rollback: true },
        // No shell into a task: it would hold the registry's credentials.
        enableExecuteCommand: false,
        propagateTags: "SERVICE",
        tags,
      },
      // The target group must be attached to the load balancer, and the roles allowed, before tasks start.
      { parent: this, dependsOn: [httpsListener, httpListener, taskPolicy, executionPolicy] },
    );

    this.loadBalancerDnsName = loadBalancer.dnsName;
    this.loadBalancerZoneId = loadBalancer.zoneId;
    this.url = pulumi.interpolate`https://${loadBalancer.dnsName}`;
    this.clusterName = cluster.name;
    this.serviceName = service.name;
    this.registryTableName = registry.name;
    this.registryTableArn = registry.arn;
    this.taskRoleArn = taskRole.arn;
    this.executionRoleArn = executionRole.arn;
    this.logGroupName = logGroup.name;
    this.taskSecurityGroupId = taskGroup.id;
    this.trustedProxies = trustedProxies;
    this.openclawConfig = pulumi.all([trustedProxies, setting("upstreamUserHeader")]).apply(([cidrs, header]) => openclawConfigForFleet(cidrs, header));
    this.registerOutputs({
      url: this.url,
      loadBalancerDnsName: this.loadBalancerDnsName,
      loadBalancerZoneId: this.loadBalancerZoneId,
      clusterName: this.clusterName,
      serviceName: this.serviceName,
      registryTableName: this.registryTableName,
      registryTableArn: this.registryTableArn,
      taskRoleArn: this.taskRoleArn,
      executionRoleArn: this.executionRoleArn,
      logGroupName: this.logGroupName,
      taskSecurityGroupId: this.taskSecurityGroupId,
      trustedProxies: this.trustedProxies,
      openclawConfig: this.openclawConfig,
    });
  }
}

/**
 * The one container: the front in --upstream mode on its registry table. The command replaces the image's CMD,
 * whose same-host options (--upstream-source-address 127.0.0.2, --local-consumer-address) do not apply here: each
 * task connects to OpenClaw from its own address in the tasks' subnets.
 */
export function frontContainerDefinitions(s: FrontSettings, containerName: string, registryTableName: string, logGroupName: string, region: string) {
  return [
    {
      name: containerName,
      image: s.image,
      essential: true,
      command: [
        "node",
        FRONT_BUNDLE,
        "serve",
        "--environment",
        s.environment,
        "--host",
        "0.0.0.0",
        "--port",
        String(FRONT_PORT),
        "--upstream",
        s.upstreamUrl,
        "--upstream-user-header",
        s.upstreamUserHeader,
        "--registry-table",
        registryTableName,
      ],
      environment: [
        { name: "AWS_REGION", value: region },
        { name: "OPENCLAW_FRONT_REGISTRY_TABLE", value: registryTableName },
      ],
      portMappings: [{ containerPort: FRONT_PORT, protocol: "tcp" }],
      readonlyRootFilesystem: true,
      // SIGTERM, then this long to finish in-flight requests before SIGKILL (the deregistration delay is as long).
      stopTimeout: DEREGISTRATION_DELAY_SECONDS,
      logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": logGroupName, "awslogs-region": region, "awslogs-stream-prefix": "front" } },
    },
  ];
}

/** Each argument that is a plain value now; NOT_YET_KNOWN for an Output or Promise (checked when it resolves). */
function knownNow(args: TokenFrontDeploymentArgs): Record<string, unknown> {
  const pending = (v: unknown) => pulumi.Output.isInstance(v) || v instanceof Promise;
  const view = args as unknown as Record<string, unknown>;
  return Object.fromEntries(
    FRONT_ARGUMENT_KEYS.map((key) => {
      const value = view[key];
      return [key, pending(value) || (Array.isArray(value) && value.some(pending)) ? NOT_YET_KNOWN : value];
    }),
  );
}

function assertArguments(args: Record<string, unknown>): void {
  const problems = frontArgumentProblems(args);
  if (problems.length) throw new ValidationError("TokenFrontDeployment's arguments", problems);
}

/** Serialises a policy after refusing wildcard actions, so that no edit can slip one in unnoticed. */
function policyJson(document: PolicyDocument): string {
  const wildcards = wildcardActions(document);
  if (wildcards.length) throw new TokenOpsError("wildcard_action", `IAM policy has wildcard actions ${wildcards.join(", ")}`, { hint: "name each action" });
  return JSON.stringify(document);
}

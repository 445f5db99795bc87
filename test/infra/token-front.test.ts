/**
 * TokenFrontDeployment on Pulumi mocks: every resource of the fleet and the values it is declared with, its IAM
 * evaluated by the project's IAM evaluator, its arguments and the stack's `openclaw:front` refused before anything is
 * created, and the OpenClaw config it emits.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type * as Module from "../../infra/aws/token-front";
import type { PolicyDocument } from "../../infra/aws/rotator-policy";
import { parseFrontStackSetting } from "../../infra/aws/token-front-settings";
import { RawStackConfig, stackConfigProblems } from "../../infra/config";
import { parseServeArgs } from "../../reference-gateway/cli";
import { AwsCall } from "../support/aws-call-recorder";
import { decide } from "../support/iam-evaluation";
import { startReferenceGateway } from "../support/reference-gateway";
import { ACCOUNT, installMocks, REGION, Registered, SUBNETS, valueOf, VPC_ID } from "./pulumi-mocks";
import { registeredChildren } from "./mocked-deployment";

// js-yaml ships with Jest's toolchain; only the tests read YAML.
const { load: loadYaml } = require("js-yaml") as { load(text: string): unknown };

type Env = "dev" | "stage" | "prod";

const T = {
  Table: "aws:dynamodb/table:Table",
  LogGroup: "aws:cloudwatch/logGroup:LogGroup",
  Role: "aws:iam/role:Role",
  RolePolicy: "aws:iam/rolePolicy:RolePolicy",
  SecurityGroup: "aws:ec2/securityGroup:SecurityGroup",
  LoadBalancer: "aws:lb/loadBalancer:LoadBalancer",
  TargetGroup: "aws:lb/targetGroup:TargetGroup",
  Listener: "aws:lb/listener:Listener",
  Cluster: "aws:ecs/cluster:Cluster",
  TaskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  Service: "aws:ecs/service:Service",
} as const;

const TASK_SUBNETS = ["subnet-0a11111111111111a", "subnet-0b22222222222222b"];
const ALB_SUBNETS = ["subnet-0c33333333333333c", "subnet-0d44444444444444d"];
const IMAGE = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/openclaw-token-front:1.4.0`;
const REPOSITORY_ARN = `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/openclaw-token-front`;
const CERTIFICATE = `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b`;
const UPSTREAM = "http://10.0.12.7:18789";
const TAGS = (env: Env) => ({ "openclaw:environment": env, "openclaw:managed-by": "openclaw-token-ops" });

const ARGS = {
  image: IMAGE,
  upstreamUrl: UPSTREAM,
  certificateArn: CERTIFICATE,
  vpcId: VPC_ID,
  subnetIds: TASK_SUBNETS,
  loadBalancerSubnetIds: ALB_SUBNETS,
} as const;

interface Deployed {
  readonly component: Module.TokenFrontDeployment;
  readonly children: readonly pulumi.ResourceTransformationArgs[];
  readonly resources: readonly Registered[];
  readonly outputs: Record<string, unknown>;
  one(type: string, name?: string): Registered;
  all(type: string): Registered[];
}

let registered: Registered[];
let mod: typeof Module;

beforeAll(async () => {
  // Mocks first, then the module under test.
  registered = await installMocks();
  mod = await import("../../infra/aws/token-front");
});

async function deploy(env: Env, overrides: Partial<Module.TokenFrontDeploymentArgs> = {}, name = `front-${env}`): Promise<Deployed> {
  const children: pulumi.ResourceTransformationArgs[] = [];
  const component = new mod.TokenFrontDeployment(
    name,
    { environment: env, ...ARGS, ...overrides },
    {
      transformations: [
        (args) => {
          if (args.type !== "openclaw:aws:TokenFrontDeployment") children.push(args);
          return undefined;
        },
      ],
    },
  );
  const exported: Record<string, pulumi.Output<unknown>> = {
    url: component.url,
    loadBalancerDnsName: component.loadBalancerDnsName,
    loadBalancerZoneId: component.loadBalancerZoneId,
    clusterName: component.clusterName,
    serviceName: component.serviceName,
    registryTableName: component.registryTableName,
    registryTableArn: component.registryTableArn,
    taskRoleArn: component.taskRoleArn,
    executionRoleArn: component.executionRoleArn,
    logGroupName: component.logGroupName,
    taskSecurityGroupId: component.taskSecurityGroupId,
    trustedProxies: component.trustedProxies,
    openclawConfig: component.openclawConfig,
  };
  const outputs = (await valueOf(pulumi.all(exported))) as Record<string, unknown>;
  return { component, children, outputs, ...(await registeredChildren(registered, children, name)) };
}

const policyOf = (json: string): PolicyDocument => JSON.parse(json) as PolicyDocument;
const sgId = (d: Deployed, logical: string) => d.one(T.SecurityGroup, logical).id;

describe("TokenFrontDeployment", () => {
  let dev: Deployed;
  let prod: Deployed;

  beforeAll(async () => {
    dev = await deploy("dev");
    prod = await deploy("prod", { desiredCount: 4, internal: true, ingressCidrs: ["10.0.0.0/8"] });
  });

  describe("resource graph", () => {
    it("registers the component under its own type token", () => {
      expect(registered.find((r) => r.name === "front-dev")).toMatchObject({ type: "openclaw:aws:TokenFrontDeployment", custom: false });
    });

    it("declares exactly the resources of one fleet, each a child of the component, and no other", () => {
      const counts = Object.fromEntries([...new Set(dev.resources.map((r) => r.type))].map((type) => [type, dev.all(type).length]));
      expect(counts).toEqual({
        [T.Table]: 1,
        [T.LogGroup]: 1,
        [T.Role]: 2,
        [T.RolePolicy]: 2,
        [T.SecurityGroup]: 2,
        [T.LoadBalancer]: 1,
        [T.TargetGroup]: 1,
        [T.Listener]: 2,
        [T.Cluster]: 1,
        [T.TaskDefinition]: 1,
        [T.Service]: 1,
      });
      expect(dev.resources).toHaveLength(dev.children.length);
      for (const child of dev.children) expect(child.opts.parent).toBe(dev.component);
    });

    it("tags every taggable resource with its environment and openclaw-token-ops", () => {
      for (const r of [...dev.resources, ...prod.resources]) {
        const env = r.name.startsWith("front-dev") ? "dev" : "prod";
        expect({ resource: r.name, tags: r.inputs.tags }).toEqual({ resource: r.name, tags: r.type === T.RolePolicy ? undefined : TAGS(env) });
      }
    });

    it("exports the fleet's address, names, roles and the OpenClaw config it relies on", () => {
      expect(dev.outputs).toEqual({
        url: `https://openclaw-front-dev-1234567890.${REGION}.elb.amazonaws.com`,
        loadBalancerDnsName: `openclaw-front-dev-1234567890.${REGION}.elb.amazonaws.com`,
        loadBalancerZoneId: "Z32O12XQLNTSW2",
        clusterName: "openclaw-front-dev",
        serviceName: "openclaw-front-dev",
        registryTableName: "openclaw-front-dev-registry",
        registryTableArn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/openclaw-front-dev-registry`,
        taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/openclaw-front-dev-task-${REGION}`,
        executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/openclaw-front-dev-execution-${REGION}`,
        logGroupName: "/ecs/openclaw-front-dev",
        taskSecurityGroupId: sgId(dev, "front-dev-tasks-sg"),
        trustedProxies: ["10.0.1.0/24", "10.0.2.0/24"],
        openclawConfig: {
          gateway: {
            bind: "lan",
            trustedProxies: ["10.0.1.0/24", "10.0.2.0/24"],
            auth: { mode: "trusted-proxy", trustedProxy: { userHeader: "x-forwarded-user", allowLoopback: false } },
          },
        },
      });
      expect(prod.outputs.url).toBe(`https://internal-openclaw-front-prod-1234567890.${REGION}.elb.amazonaws.com`);
    });
  });

  describe("registry table", () => {
    it("is openclaw-front-<env>-registry: on-demand, pk/sk, TTL on ttl, point-in-time recovery", () => {
      expect(dev.one(T.Table).inputs).toEqual({
        name: "openclaw-front-dev-registry",
        billingMode: "PAY_PER_REQUEST",
        hashKey: "pk",
        rangeKey: "sk",
        attributes: [
          { name: "pk", type: "S" },
          { name: "sk", type: "S" },
        ],
        ttl: { attributeName: "ttl", enabled: true },
        pointInTimeRecovery: { enabled: true },
        deletionProtectionEnabled: false,
        tags: TAGS("dev"),
      });
    });

    it("is protected from deletion in prod only", () => {
      expect(prod.one(T.Table).inputs).toMatchObject({ name: "openclaw-front-prod-registry", deletionProtectionEnabled: true });
    });
  });

  describe("ECS service", () => {
    it("runs the fronts on Fargate in the tasks' subnets, behind the target group, two by default", () => {
      expect(dev.one(T.Service).inputs).toEqual({
        name: "openclaw-front-dev",
        cluster: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/openclaw-front-dev`,
        taskDefinition: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/openclaw-front-dev:1`,
        launchType: "FARGATE",
        desiredCount: 2,
        networkConfiguration: { subnets: TASK_SUBNETS, securityGroups: [sgId(dev, "front-dev-tasks-sg")], assignPublicIp: false },
        loadBalancers: [{ targetGroupArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/openclaw-front-dev/73e2d6bc24d8a067`, containerName: "token-front", containerPort: 8443 }],
        healthCheckGracePeriodSeconds: 30,
        deploymentMinimumHealthyPercent: 100,
        deploymentMaximumPercent: 200,
        deploymentCircuitBreaker: { enable: true, rollback: true },
        enableExecuteCommand: false,
        propagateTags: "SERVICE",
        tags: TAGS("dev"),
      });
      expect(prod.one(T.Service).inputs.desiredCount).toBe(4);
    });

    it("is created once the listeners and both role policies exist", async () => {
      const service = dev.children.find((c) => c.type === T.Service);
      const dependsOn = (service?.opts.dependsOn ?? []) as pulumi.Resource[];
      const urns = await Promise.all(dependsOn.map((d) => valueOf(d.urn)));
      expect(urns.map((urn) => urn.split("::").slice(-2).join(" ")).sort()).toEqual([
        "openclaw:aws:TokenFrontDeployment$aws:iam/rolePolicy:RolePolicy front-dev-execution-policy",
        "openclaw:aws:TokenFrontDeployment$aws:iam/rolePolicy:RolePolicy front-dev-task-policy",
        "openclaw:aws:TokenFrontDeployment$aws:lb/listener:Listener front-dev-http-redirect",
        "openclaw:aws:TokenFrontDeployment$aws:lb/listener:Listener front-dev-https",
      ]);
    });

    it("lives in its own cluster, with Container Insights", () => {
      expect(dev.one(T.Cluster).inputs).toEqual({ name: "openclaw-front-dev", settings: [{ name: "containerInsights", value: "enabled" }], tags: TAGS("dev") });
    });
  });

  describe("task definition", () => {
    it("is a Fargate task with the task role, the execution role and a task-local state volume", () => {
      const { containerDefinitions: _, ...task } = dev.one(T.TaskDefinition).inputs;
      expect(task).toEqual({
        family: "openclaw-front-dev",
        requiresCompatibilities: ["FARGATE"],
        networkMode: "awsvpc",
        cpu: "256",
        memory: "512",
        runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
        taskRoleArn: dev.outputs.taskRoleArn,
        executionRoleArn: dev.outputs.executionRoleArn,
        tags: TAGS("dev"),
      });
    });

    it("runs the image as the front on the environment's registry table, with a read-only root", () => {
      expect(JSON.parse(dev.one(T.TaskDefinition).inputs.containerDefinitions)).toEqual([
        {
          name: "token-front",
          image: IMAGE,
          essential: true,
          command: [
            "node",
            "/opt/openclaw-token-front/reference-gateway.js",
            "serve",
            "--environment",
            "dev",
            "--host",
            "0.0.0.0",
            "--port",
            "8443",
            "--upstream",
            UPSTREAM,
            "--upstream-user-header",
            "x-forwarded-user",
            "--registry-table",
            "openclaw-front-dev-registry",
          ],
          environment: [
            { name: "AWS_REGION", value: REGION },
            { name: "OPENCLAW_FRONT_REGISTRY_TABLE", value: "openclaw-front-dev-registry" },
          ],
          portMappings: [{ containerPort: 8443, protocol: "tcp" }],
          readonlyRootFilesystem: true,
          stopTimeout: 30,
          logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/ecs/openclaw-front-dev", "awslogs-region": REGION, "awslogs-stream-prefix": "front" } },
        },
      ]);
    });

    it("passes the front's serve options the CLI accepts, with the values it means", () => {
      const [container] = JSON.parse(prod.one(T.TaskDefinition).inputs.containerDefinitions) as Array<{ command: string[] }>;
      const serve = container.command.slice(container.command.indexOf("serve") + 1);
      const settings = parseServeArgs(serve);
      expect({
        host: settings.host,
        port: settings.port,
        environment: settings.gateway.environment,
        upstream: settings.gateway.upstream?.url.origin,
        header: settings.gateway.upstream?.userHeader,
        registryTable: settings.gateway.registryTable?.tableName,
        stateDir: settings.gateway.stateDir,
      }).toEqual({
        host: "0.0.0.0",
        port: 8443,
        environment: "prod",
        upstream: UPSTREAM,
        header: "x-forwarded-user",
        registryTable: "openclaw-front-prod-registry",
        stateDir: undefined,
      });
      // The same-host options of the image's own CMD do not apply to a task: it connects from its own address.
      expect(settings.gateway.upstream?.sourceAddress).toBeUndefined();
    });

    it("takes its size and architecture from the arguments", async () => {
      const sized = await deploy("dev", { cpu: 512, memory: 2048, cpuArchitecture: "ARM64" }, "front-dev-sized");
      expect(sized.one(T.TaskDefinition).inputs).toMatchObject({ cpu: "512", memory: "2048", runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "ARM64" } });
    });
  });

  describe("log group", () => {
    it("is named for the environment, with the retention", async () => {
      expect(dev.one(T.LogGroup).inputs).toEqual({ name: "/ecs/openclaw-front-dev", retentionInDays: 30, tags: TAGS("dev") });
      const kept = await deploy("dev", { logRetentionDays: 90 }, "front-dev-kept");
      expect(kept.one(T.LogGroup).inputs.retentionInDays).toBe(90);
    });
  });

  describe("load balancer", () => {
    it("is an application load balancer in its own subnets, with a WebSocket-friendly idle timeout", () => {
      expect(dev.one(T.LoadBalancer).inputs).toEqual({
        name: "openclaw-front-dev",
        loadBalancerType: "application",
        internal: false,
        subnets: ALB_SUBNETS,
        securityGroups: [sgId(dev, "front-dev-alb-sg")],
        ipAddressType: "ipv4",
        idleTimeout: 660,
        dropInvalidHeaderFields: true,
        enableDeletionProtection: false,
        tags: TAGS("dev"),
      });
      expect(prod.one(T.LoadBalancer).inputs).toMatchObject({ internal: true, enableDeletionProtection: true });
    });

    it("forwards HTTPS with the certificate and a TLS 1.2+ policy", () => {
      const alb = dev.one(T.LoadBalancer).state.arn;
      expect(dev.one(T.Listener, "front-dev-https").inputs).toEqual({
        loadBalancerArn: alb,
        port: 443,
        protocol: "HTTPS",
        sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
        certificateArn: CERTIFICATE,
        defaultActions: [{ type: "forward", targetGroupArn: dev.one(T.TargetGroup).state.arn }],
        tags: TAGS("dev"),
      });
    });

    it("only redirects plain HTTP to HTTPS", () => {
      expect(dev.one(T.Listener, "front-dev-http-redirect").inputs).toEqual({
        loadBalancerArn: dev.one(T.LoadBalancer).state.arn,
        port: 80,
        protocol: "HTTP",
        defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
        tags: TAGS("dev"),
      });
    });

    it("sends to the tasks' IPs in plain round robin, without stickiness, checking the front's health route", () => {
      expect(dev.one(T.TargetGroup).inputs).toEqual({
        name: "openclaw-front-dev",
        port: 8443,
        protocol: "HTTP",
        protocolVersion: "HTTP1",
        targetType: "ip",
        vpcId: VPC_ID,
        loadBalancingAlgorithmType: "round_robin",
        stickiness: { type: "lb_cookie", enabled: false },
        deregistrationDelay: 30,
        healthCheck: { enabled: true, path: "/healthz", protocol: "HTTP", port: "traffic-port", matcher: "200", interval: 15, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
        tags: TAGS("dev"),
      });
    });
  });

  describe("security groups", () => {
    it("let consumers reach the load balancer, and the load balancer reach only the tasks' port in their subnets", () => {
      expect(dev.one(T.SecurityGroup, "front-dev-alb-sg").inputs).toEqual({
        name: "openclaw-front-dev-alb",
        description: "OpenClaw dev token front load balancer: https in, the fronts out",
        vpcId: VPC_ID,
        ingress: [
          { description: "Consumers, https", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
          { description: "Consumers, http (redirected to https)", protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["0.0.0.0/0"] },
        ],
        egress: [{ description: "The fronts", protocol: "tcp", fromPort: 8443, toPort: 8443, cidrBlocks: ["10.0.1.0/24", "10.0.2.0/24"] }],
        tags: TAGS("dev"),
      });
      expect(prod.one(T.SecurityGroup, "front-prod-alb-sg").inputs.ingress.map((r: { cidrBlocks: string[] }) => r.cidrBlocks)).toEqual([["10.0.0.0/8"], ["10.0.0.0/8"]]);
    });

    it("let only the load balancer reach the tasks, and the tasks reach only OpenClaw and AWS's APIs", () => {
      expect(dev.one(T.SecurityGroup, "front-dev-tasks-sg").inputs).toEqual({
        name: "openclaw-front-dev-tasks",
        description: "OpenClaw dev token fronts: the load balancer in, OpenClaw and AWS APIs out",
        vpcId: VPC_ID,
        ingress: [{ description: "The load balancer only", protocol: "tcp", fromPort: 8443, toPort: 8443, securityGroups: [sgId(dev, "front-dev-alb-sg")] }],
        egress: [
          { description: "The upstream OpenClaw gateway", protocol: "tcp", fromPort: 18789, toPort: 18789, cidrBlocks: ["10.0.12.7/32"] },
          { description: "AWS APIs (DynamoDB, ECR, CloudWatch Logs) over https", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
        ],
        tags: TAGS("dev"),
      });
    });

    it("reach an upstream named by host through the CIDRs given for it", async () => {
      const named = await deploy("dev", { upstreamUrl: "http://openclaw.internal.example:18789", upstreamCidrs: ["10.0.12.0/24"] }, "front-dev-named");
      expect(named.one(T.SecurityGroup, "front-dev-named-tasks-sg").inputs.egress[0]).toEqual({
        description: "The upstream OpenClaw gateway",
        protocol: "tcp",
        fromPort: 18789,
        toPort: 18789,
        cidrBlocks: ["10.0.12.0/24"],
      });
    });
  });

  describe("IAM", () => {
    const roleNamed = (d: Deployed, which: "task" | "execution") => d.one(T.Role, `${d.component === dev.component ? "front-dev" : "front-prod"}-${which}-role`);
    const policyNamed = (d: Deployed, which: "task" | "execution") => policyOf(d.one(T.RolePolicy, `${d.component === dev.component ? "front-dev" : "front-prod"}-${which}-policy`).inputs.policy);

    it("lets only ECS tasks of this account and region assume either role", () => {
      for (const which of ["task", "execution"] as const) {
        expect(JSON.parse(roleNamed(dev, which).inputs.assumeRolePolicy)).toEqual({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "EcsTasksOfThisAccount",
              Effect: "Allow",
              Principal: { Service: "ecs-tasks.amazonaws.com" },
              Action: ["sts:AssumeRole"],
              Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT }, ArnLike: { "aws:SourceArn": `arn:aws:ecs:${REGION}:${ACCOUNT}:*` } },
            },
          ],
        });
      }
      expect(roleNamed(dev, "task").inputs.name).toBe(`openclaw-front-dev-task-${REGION}`);
      expect(roleNamed(dev, "execution").inputs.name).toBe(`openclaw-front-dev-execution-${REGION}`);
    });

    it("gives the task role exactly the registry actions on its own table, and one inline policy", () => {
      expect(dev.one(T.RolePolicy, "front-dev-task-policy").inputs).toMatchObject({ role: `openclaw-front-dev-task-${REGION}`, name: "openclaw-front-registry" });
      expect(policyNamed(dev, "task")).toEqual({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "UseOwnRegistryTable",
            Effect: "Allow",
            Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchWriteItem"],
            Resource: [`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/openclaw-front-dev-registry`],
          },
        ],
      });
    });

    it("gives the execution role the image's repository and the log group, nothing else", () => {
      const logGroupArn = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/ecs/openclaw-front-dev`;
      expect(policyNamed(dev, "execution")).toEqual({
        Version: "2012-10-17",
        Statement: [
          { Sid: "PullFrontImage", Effect: "Allow", Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], Resource: [REPOSITORY_ARN] },
          { Sid: "EcrLoginHasNoResourceScope", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
          { Sid: "WriteFrontLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [logGroupArn, `${logGroupArn}:*`] },
        ],
      });
    });

    it("needs no registry credentials for a public image", async () => {
      const pub = await deploy("dev", { image: "ghcr.io/example/openclaw-token-front@sha256:" + "ab".repeat(32) }, "front-dev-public");
      expect(policyOf(pub.one(T.RolePolicy, "front-dev-public-execution-policy").inputs.policy).Statement.map((s) => s.Sid)).toEqual(["WriteFrontLogs"]);
    });

    describe("evaluated by the IAM evaluator", () => {
      const table = (env: Env) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/openclaw-front-${env}-registry`;
      const call = (principal: string, action: string, resource: string): AwsCall => ({ principal, action, resource, resourceTags: {}, requestTags: {} });
      const judge = (d: Deployed, which: "task" | "execution", c: AwsCall) => decide({ [which]: policyNamed(d, which) }, c, ACCOUNT);
      const REGISTRY_CALLS = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "BatchWriteItem"].map((a) => `dynamodb:${a}`);

      it("allows the front's calls on its own table", async () => {
        for (const d of [dev, prod]) {
          const env = d === dev ? "dev" : "prod";
          const decisions = await Promise.all(REGISTRY_CALLS.map((action) => judge(d, "task", call("front", action, table(env)))));
          expect(Object.fromEntries(REGISTRY_CALLS.map((a, i) => [a, decisions[i]]))).toEqual(Object.fromEntries(REGISTRY_CALLS.map((a) => [a, "Allowed"])));
        }
      });

      it("denies Scan, table management, another environment's table, the rotator's ledger and every secret", async () => {
        const secret = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`;
        const never: Array<[Deployed, AwsCall]> = [
          [dev, call("front", "dynamodb:Scan", table("dev"))],
          [dev, call("front", "dynamodb:DeleteTable", table("dev"))],
          [dev, call("front", "dynamodb:UpdateTable", table("dev"))],
          [dev, call("front", "dynamodb:BatchGetItem", table("dev"))],
          // The table has no index, and the policy names none.
          [dev, call("front", "dynamodb:Query", `${table("dev")}/index/by-hash`)],
          [prod, call("front", "dynamodb:Scan", table("prod"))],
          ...REGISTRY_CALLS.map((action): [Deployed, AwsCall] => [prod, call("front", action, table("dev"))]),
          ...REGISTRY_CALLS.map((action): [Deployed, AwsCall] => [dev, call("front", action, table("prod"))]),
          ...REGISTRY_CALLS.map((action): [Deployed, AwsCall] => [dev, call("front", action, table("stage"))]),
          [dev, call("front", "dynamodb:GetItem", `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/openclaw-rotator-dev-ledger`)],
          ...["GetSecretValue", "DescribeSecret", "PutSecretValue", "CreateSecret"].flatMap((a): Array<[Deployed, AwsCall]> => [
            [dev, call("front", `secretsmanager:${a}`, secret("openclaw/dev/ci-runner"))],
            [dev, call("front", `secretsmanager:${a}`, secret("openclaw-admin/dev/gateway"))],
            [prod, call("front", `secretsmanager:${a}`, secret("openclaw/prod/ci-runner"))],
          ]),
          [dev, call("front", "secretsmanager:ListSecrets", "*")],
          [dev, call("front", "ecr:BatchGetImage", REPOSITORY_ARN)],
          [dev, call("front", "logs:PutLogEvents", `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/ecs/openclaw-front-dev:log-stream:front/x`)],
        ];
        const allowed: string[] = [];
        for (const [d, c] of never) if ((await judge(d, "task", c)) !== "ImplicitlyDenied") allowed.push(`${d === dev ? "dev" : "prod"} ${c.action} ${c.resource}`);
        expect(allowed).toEqual([]);
      });

      it("lets the execution role pull the image and write its logs, and nothing of the registry or any secret", async () => {
        const logGroup = (env: Env) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/ecs/openclaw-front-${env}`;
        const allowedCalls = [
          call("ecs", "ecr:BatchGetImage", REPOSITORY_ARN),
          call("ecs", "ecr:GetDownloadUrlForLayer", REPOSITORY_ARN),
          call("ecs", "ecr:GetAuthorizationToken", "*"),
          // Both are authorized against the stream (the service's authorization reference), which `<group>:*` covers.
          call("ecs", "logs:CreateLogStream", `${logGroup("dev")}:log-stream:front/token-front/0123456789abcdef`),
          call("ecs", "logs:PutLogEvents", `${logGroup("dev")}:log-stream:front/token-front/0123456789abcdef`),
        ];
        const deniedCalls = [
          call("ecs", "ecr:BatchGetImage", `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/something-else`),
          call("ecs", "ecr:PutImage", REPOSITORY_ARN),
          call("ecs", "logs:PutLogEvents", `${logGroup("prod")}:log-stream:front/token-front/0123456789abcdef`),
          call("ecs", "logs:DeleteLogGroup", logGroup("dev")),
          call("ecs", "dynamodb:GetItem", table("dev")),
          call("ecs", "secretsmanager:GetSecretValue", `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:openclaw/dev/ci-runner-AbCdEf`),
        ];
        const show = async (c: AwsCall) => `${c.action} ${c.resource}: ${await judge(dev, "execution", c)}`;
        expect(await Promise.all(allowedCalls.map(show))).toEqual(allowedCalls.map((c) => `${c.action} ${c.resource}: Allowed`));
        expect(await Promise.all(deniedCalls.map(show))).toEqual(deniedCalls.map((c) => `${c.action} ${c.resource}: ImplicitlyDenied`));
      });
    });
  });

  describe("dev and prod in one account", () => {
    it("share no physical name or ID", () => {
      // An inline policy's name is its role's own (its ID carries the role's name).
      const physical = (d: Deployed) => d.resources.flatMap((r) => [r.id, r.type === T.RolePolicy ? undefined : (r.inputs.name ?? r.inputs.family)]).filter((v): v is string => typeof v === "string");
      const devNames = new Set(physical(dev));
      expect(physical(prod).filter((n) => devNames.has(n))).toEqual([]);
    });

    it("point each environment's fronts at its own table only", () => {
      const tableOf = (d: Deployed) => (JSON.parse(d.one(T.TaskDefinition).inputs.containerDefinitions) as Array<{ environment: Array<{ value: string }> }>)[0].environment[1].value;
      expect([tableOf(dev), tableOf(prod)]).toEqual(["openclaw-front-dev-registry", "openclaw-front-prod-registry"]);
    });
  });

  describe("arguments given as Outputs", () => {
    it("are checked and used once they resolve, like plain values", async () => {
      const later = await deploy("stage", {
        environment: pulumi.output("stage" as const),
        image: pulumi.output(IMAGE),
        certificateArn: pulumi.output(CERTIFICATE),
        subnetIds: pulumi.output(TASK_SUBNETS),
        loadBalancerSubnetIds: [pulumi.output(ALB_SUBNETS[0]), ALB_SUBNETS[1]],
      });
      expect(later.one(T.Table).inputs.name).toBe("openclaw-front-stage-registry");
      expect(later.one(T.LoadBalancer).inputs.subnets).toEqual(ALB_SUBNETS);
      expect(later.outputs.trustedProxies).toEqual(TASK_SUBNETS.map((id) => SUBNETS[id].cidrBlock));
    });
  });

  describe("arguments refused before anything is created", () => {
    const construct = (overrides: Record<string, unknown>, name: string) => () =>
      new mod.TokenFrontDeployment(name, { environment: "prod", ...ARGS, ...overrides } as Module.TokenFrontDeploymentArgs);

    it.each([
      [{ environment: "qa" }, /environment: "qa" is not an environment; use one of dev, stage, prod/],
      [{ certificateArn: undefined }, /certificateArn: give the ARN of an ACM certificate for the front's https name/],
      [{ certificateArn: "arn:aws:iam::123456789012:server-certificate/front" }, /certificateArn: "arn:aws:iam::123456789012:server-certificate\/front" is not an ACM certificate ARN/],
      [{ upstreamUrl: undefined }, /upstreamUrl: give the OpenClaw gateway's address as the tasks reach it in the VPC/],
      [{ upstreamUrl: "tcp://10.0.12.7:18789" }, /upstreamUrl: tcp:\/\/10.0.12.7:18789 must be http:\/\/HOST:PORT with no path/],
      [{ upstreamUrl: "not a url" }, /upstreamUrl: "not a url" is not a URL; write it like http:\/\/10.0.12.7:18789/],
      [{ upstreamUrl: "https://10.0.12.7:18789" }, /upstreamUrl: https:\/\/10.0.12.7:18789 must be http:\/\/HOST:PORT with no path/],
      [{ upstreamUrl: "http://10.0.12.7:18789/v1" }, /upstreamUrl: http:\/\/10.0.12.7:18789\/v1 must be http:\/\/HOST:PORT with no path/],
      [{ upstreamUrl: "http://127.0.0.1:18789" }, /upstreamUrl: 127.0.0.1:18789 is loopback, which inside a task is the task itself/],
      [{ upstreamUrl: "http://user:pw@10.0.12.7:18789" }, /upstreamUrl: the URL must not carry credentials/],
      [{ upstreamUrl: "http://openclaw-dev.internal:18789", upstreamCidrs: ["10.0.12.0/24"] }, /upstreamUrl: host openclaw-dev.internal names the dev environment, but this front is for prod/],
      [{ upstreamUrl: "http://openclaw.internal:18789" }, /upstreamCidrs: the upstream host openclaw.internal is a name: give the IPv4 CIDRs it resolves to/],
      [{ upstreamCidrs: ["10.0.12.0/33"] }, /upstreamCidrs: "10.0.12.0\/33" is not an IPv4 CIDR/],
      [{ image: undefined }, /image: give the token front's image, built from deploy\/token-front\/Containerfile/],
      [{ image: IMAGE.replace(":1.4.0", ":latest") }, /image: .*:latest is not pinned: give a version tag or a digest/],
      [{ image: IMAGE.replace(":1.4.0", "") }, /image: .*openclaw-token-front is not pinned/],
      [{ vpcId: "default" }, /vpcId: "default" is not a VPC ID/],
      [{ subnetIds: [] }, /subnetIds: give the tasks' subnets/],
      [{ loadBalancerSubnetIds: [ALB_SUBNETS[0]] }, /loadBalancerSubnetIds: give the load balancer's subnets, in at least two Availability Zones/],
      [{ loadBalancerSubnetIds: [ALB_SUBNETS[0], TASK_SUBNETS[1]] }, /loadBalancerSubnetIds: subnet-0b22222222222222b is also in subnetIds: give the load balancer subnets of its own/],
      [{ desiredCount: 0 }, /desiredCount: 0 is not a whole number of tasks from 1 to 100; the default is 2/],
      [{ cpu: 300 }, /cpu: 300 is not a Fargate CPU size; use one of 256, 512, 1024, 2048, 4096/],
      [{ cpu: 1024 }, /memory: 512 MiB does not go with 1024 CPU units on Fargate; use one of 2048, 3072/],
      [{ cpuArchitecture: "arm64" }, /cpuArchitecture: "arm64" is not X86_64 or ARM64/],
      [{ ingressCidrs: ["everyone"] }, /ingressCidrs: "everyone" is not an IPv4 CIDR/],
      [{ upstreamUserHeader: "X-Forwarded-For" }, /upstreamUserHeader: X-Forwarded-For is set by the load balancer or the front itself/],
      [{ idleTimeoutSeconds: 4001 }, /idleTimeoutSeconds: 4001 is not a whole number of seconds \(the ALB's limits\) from 1 to 4000/],
      [{ logRetentionDays: 10 }, /logRetentionDays: 10 is not a CloudWatch Logs retention/],
    ])("refuses %j", (overrides, message) => {
      const before = registered.length;
      const name = `bad-${JSON.stringify(overrides).replace(/\W+/g, "-")}`;
      expect(construct(overrides, name)).toThrow(message);
      // Not even the component is registered.
      expect(registered.length).toBe(before);
      expect(registered.some((r) => r.name.startsWith(name))).toBe(false);
    });

    it("reports every problem at once", () => {
      expect(construct({ certificateArn: undefined, upstreamUrl: "https://x", environment: "qa" }, "bad-many")).toThrow(
        /environment: .*\n.*upstreamUrl: .*\n.*certificateArn: /,
      );
    });
  });
});

describe("the image and the front the tasks run", () => {
  const containerfile = readFileSync(join(__dirname, "..", "..", "deploy", "token-front", "Containerfile"), "utf8");

  it("agree with the Containerfile: the bundle's path, the port, the state volume, a non-root user", () => {
    expect({
      bundle: /^COPY dist\/reference-gateway\.js (\S+)$/m.exec(containerfile)?.[1],
      port: Number(/^EXPOSE (\d+)$/m.exec(containerfile)?.[1]),
      volume: (JSON.parse(/^VOLUME (\[.*\])$/m.exec(containerfile)?.[1] ?? "[]") as string[])[0],
      user: /^USER (\S+)$/m.exec(containerfile)?.[1],
    }).toEqual({ bundle: mod.FRONT_BUNDLE, port: mod.FRONT_PORT, volume: mod.FRONT_STATE_DIR, user: "node" });
  });

  it("answer the load balancer's health check on the front itself, without a token and without OpenClaw", async () => {
    // Nothing listens upstream: the health route must not depend on OpenClaw (a down gateway is not a down front).
    const front = await startReferenceGateway({ environment: "prod", testControl: false, serveArgs: ["--upstream", "http://127.0.0.1:9"] });
    try {
      const res = await fetch(`${front.url}${mod.FRONT_HEALTH_PATH}`);
      expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: { status: "ok", environment: "prod" } });
    } finally {
      await front.stop();
    }
  });
});

describe("openclaw:front in the stack's config", () => {
  const FRONT = { deploy: true, ...ARGS };
  const stack: RawStackConfig = {
    stack: "prod",
    environment: "prod",
    gatewayUrl: "https://gateway.openclaw.example",
    backend: undefined,
    tokens: [{ name: "ci-runner", scopes: ["run:jobs"], ttl: "30d" }],
  };
  const problemsOf = (front: unknown, overrides: Partial<RawStackConfig> = {}) =>
    stackConfigProblems({ ...stack, front, keys: ["environment", "gatewayUrl", "tokens", "adminToken", "front"], ...overrides }).map((p) => `${p.field}: ${p.message}`);

  it("is off when absent, or with deploy: false and nothing else", () => {
    expect(parseFrontStackSetting(undefined, "prod")).toEqual({ ok: true, front: { deploy: false } });
    expect(parseFrontStackSetting({ deploy: false }, "prod")).toEqual({ ok: true, front: { deploy: false } });
    expect(problemsOf(undefined)).toEqual([]);
  });

  it("gives the fleet its settings, defaulted, in the stack's environment", () => {
    expect(parseFrontStackSetting(FRONT, "prod")).toEqual({
      ok: true,
      front: {
        deploy: true,
        settings: {
          environment: "prod",
          ...ARGS,
          upstreamCidrs: ["10.0.12.7/32"],
          desiredCount: 2,
          cpu: 256,
          memory: 512,
          cpuArchitecture: "X86_64",
          internal: false,
          ingressCidrs: ["0.0.0.0/0"],
          upstreamUserHeader: "x-forwarded-user",
          idleTimeoutSeconds: 660,
          logRetentionDays: 30,
        },
      },
    });
  });

  it.each([
    [{ ...FRONT, certificateArn: undefined }, ["openclaw:front.certificateArn: give the ARN of an ACM certificate for the front's https name, in the deployment's region: the load balancer serves HTTPS only (HTTP just redirects)"]],
    [{ ...FRONT, upstreamUrl: "https://openclaw.example" }, ["openclaw:front.upstreamUrl: https://openclaw.example must be http://HOST:PORT with no path: the OpenClaw gateway's own listener (the front's --upstream)"]],
    [{ ...FRONT, upstreamUrl: "http://openclaw-staging.internal:18789", upstreamCidrs: ["10.0.12.0/24"] }, ["openclaw:front.upstreamUrl: host openclaw-staging.internal names the stage environment, but this front is for prod"]],
    [{ ...FRONT, environment: "dev" }, ["openclaw:front.environment: the front is deployed for the stack's own environment (openclaw:environment); remove this key"]],
    [{ ...FRONT, desiredCont: 3 }, ["openclaw:front.desiredCont: desiredCont is not a front setting; did you mean desiredCount? (the settings are deploy, image, upstreamUrl, certificateArn, vpcId, subnetIds, loadBalancerSubnetIds, upstreamCidrs, desiredCount, cpu, memory, cpuArchitecture, internal, ingressCidrs, upstreamUserHeader, idleTimeoutSeconds, logRetentionDays)"]],
    [{ ...FRONT, deploy: "yes" }, ['openclaw:front.deploy: "yes" is not true or false']],
    [{ deploy: true }, [
      "openclaw:front.image: give the token front's image, built from deploy/token-front/Containerfile and pushed where the tasks can pull it, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/openclaw-token-front:1.0.0",
      "openclaw:front.upstreamUrl: give the OpenClaw gateway's address as the tasks reach it in the VPC, e.g. http://10.0.12.7:18789",
      "openclaw:front.certificateArn: give the ARN of an ACM certificate for the front's https name, in the deployment's region: the load balancer serves HTTPS only (HTTP just redirects)",
      "openclaw:front.vpcId: give the VPC of the fleet; write it like vpc-0123456789abcdef0",
      "openclaw:front.subnetIds: give the tasks' subnets (private subnets of the VPC, routed to the OpenClaw host): a list of at least 1 subnet ID such as subnet-0123456789abcdef0",
      "openclaw:front.loadBalancerSubnetIds: give the load balancer's subnets, in at least two Availability Zones (an ALB's minimum): a list of at least 2 subnet IDs such as subnet-0123456789abcdef0",
    ]],
    ["on", ["openclaw:front: set it to an object such as {deploy: true, image: ..., upstreamUrl: ..., certificateArn: ...}; keys: deploy, image, upstreamUrl, certificateArn, vpcId, subnetIds, loadBalancerSubnetIds, upstreamCidrs, desiredCount, cpu, memory, cpuArchitecture, internal, ingressCidrs, upstreamUserHeader, idleTimeoutSeconds, logRetentionDays"]],
  ])("refuses %j, naming the key and the fix", (front, expected) => {
    expect(problemsOf(front)).toEqual(expected);
  });

  it("checks unknown keys even when the fleet is not deployed", () => {
    expect(problemsOf({ deploy: false, imgae: IMAGE })).toEqual([expect.stringMatching(/^openclaw:front\.imgae: imgae is not a front setting; did you mean image\?/)]);
  });

  it("accepts the example in docs/self-hosted-openclaw.md, with its defaults as the comments say", () => {
    const doc = readFileSync(join(__dirname, "..", "..", "docs", "self-hosted-openclaw.md"), "utf8");
    const section = doc.slice(doc.indexOf("### Stack settings"));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
    const config = (loadYaml(yaml) as { config: Record<string, unknown> }).config;
    const outcome = parseFrontStackSetting(config["openclaw:front"], config["openclaw:environment"]);
    expect(outcome.ok).toBe(true);
    // Each commented-out default, uncommented, is the default the component applies.
    const commented = loadYaml(yaml.replace(/^ {4}# (\w+:)/gm, "    $1")) as { config: Record<string, Record<string, unknown>> };
    const { deploy: _, ...explicit } = commented.config["openclaw:front"];
    expect(outcome.ok && outcome.front.deploy && outcome.front.settings).toEqual({ environment: "prod", ...explicit, upstreamCidrs: ["10.0.12.7/32"] });
  });

  it("leaves a wrong stack environment to openclaw:environment, reported once", () => {
    expect(problemsOf(FRONT, { environment: "qa", stack: "qa" })).toEqual([expect.stringMatching(/^openclaw:environment: set it to dev, stage or prod/)]);
  });
});

/**
 * RotatorDeployment on Pulumi mocks: the resources it declares, the values they are declared with, and the
 * isolation between a dev and a prod deployment in one account.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type * as Module from "../../infra/aws/rotator-deployment";
import type { PolicyDocument } from "../../infra/aws/rotator-policy";
import { ACCOUNT, arnMatches, installMocks, REGION, Registered, until, valueOf } from "./pulumi-mocks";

const ADMIN_TOKEN = {
  dev: "openclaw_gw_dev_fake-admin-token-dev",
  prod: "openclaw_gw_live_fake-admin-token-prod",
} as const;
const GATEWAY = { dev: "https://gateway-dev.openclaw.example", prod: "https://gateway.openclaw.example" } as const;

/** A stand-in for the esbuild bundle: the component checks that index.js exists; the mocks never read it. */
const BUNDLE_DIR = mkdtempSync(join(tmpdir(), "rotator-bundle-"));
writeFileSync(join(BUNDLE_DIR, "index.js"), "exports.handler = async () => {};\n");

let registered: Registered[];
let mod: typeof Module;

beforeAll(async () => {
  // Mocks first, then the module under test.
  registered = await installMocks();
  mod = await import("../../infra/aws/rotator-deployment");
});

interface Deployed {
  readonly component: Module.RotatorDeployment;
  /** Every child as constructed: its type, logical name, raw inputs and options (with the parent). */
  readonly children: readonly pulumi.ResourceTransformationArgs[];
  /** The children as the engine registered them, inputs resolved. */
  readonly resources: readonly Registered[];
  readonly outputs: Record<string, string>;
  one(type: string, name?: string): Registered;
  all(type: string): Registered[];
}

type Env = keyof typeof ADMIN_TOKEN;

async function deploy(env: Env, overrides: Partial<Module.RotatorDeploymentArgs> = {}, name = `rotator-${env}`): Promise<Deployed> {
  const children: pulumi.ResourceTransformationArgs[] = [];
  const component = new mod.RotatorDeployment(
    name,
    { environment: env, gatewayUrl: GATEWAY[env], adminToken: pulumi.secret(ADMIN_TOKEN[env]), bundleDir: BUNDLE_DIR, ...overrides },
    {
      transformations: [
        (args) => {
          // Also called for the component itself, before `component` is assigned.
          if (args.type !== "openclaw:aws:RotatorDeployment") children.push(args);
          return undefined;
        },
      ],
    },
  );
  const outputs = await valueOf(
    pulumi.all({
      functionName: component.functionName,
      functionArn: component.functionArn,
      roleArn: component.roleArn,
      adminSecretArn: component.adminSecretArn,
      ledgerTableName: component.ledgerTableName,
      alarmTopicArn: component.alarmTopicArn,
      deadLetterQueueUrl: component.deadLetterQueueUrl,
      scheduleName: component.scheduleName,
    }),
  );
  const keys = new Set(children.map((c) => `${c.type}::${c.name}`));
  const mine = () => registered.filter((r) => keys.has(`${r.type}::${r.name}`));
  await until(() => mine().length === keys.size, `${name}'s resources`);
  const resources = mine();
  const all = (type: string) => resources.filter((r) => r.type === type);
  const one = (type: string, logical?: string) => {
    const found = all(type).filter((r) => logical === undefined || r.name === logical);
    if (found.length !== 1) throw new Error(`expected one ${type}${logical ? ` named ${logical}` : ""}, found ${found.length}`);
    return found[0];
  };
  return { component, children, resources, outputs, one, all };
}

const T = {
  Secret: "aws:secretsmanager/secret:Secret",
  SecretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
  Table: "aws:dynamodb/table:Table",
  LogGroup: "aws:cloudwatch/logGroup:LogGroup",
  Role: "aws:iam/role:Role",
  RolePolicy: "aws:iam/rolePolicy:RolePolicy",
  Function: "aws:lambda/function:Function",
  Permission: "aws:lambda/permission:Permission",
  Queue: "aws:sqs/queue:Queue",
  Schedule: "aws:scheduler/schedule:Schedule",
  Topic: "aws:sns/topic:Topic",
  Subscription: "aws:sns/topicSubscription:TopicSubscription",
  Alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
} as const;

/** Resource types AWS (or the provider) cannot tag. */
const UNTAGGABLE: readonly string[] = [T.SecretVersion, T.RolePolicy, T.Permission, T.Schedule, T.Subscription];

/** A secret value as Pulumi sends it to the engine (the mocks see the wire form). */
const wireSecret = (value: string) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value });

const policyOf = (json: string): PolicyDocument => JSON.parse(json) as PolicyDocument;

describe("RotatorDeployment", () => {
  let dev: Deployed;
  let prod: Deployed;

  beforeAll(async () => {
    dev = await deploy("dev");
    prod = await deploy("prod", { alarmEmail: "oncall@example.com" });
  });

  describe("resource graph", () => {
    it("registers the component under its own type token", () => {
      const component = registered.find((r) => r.name === "rotator-dev");
      expect(component).toMatchObject({ type: "openclaw:aws:RotatorDeployment", custom: false });
    });

    it("declares exactly the resources of one rotator, each a child of the component", () => {
      const counts = Object.fromEntries(Object.values(T).map((type) => [type, dev.all(type).length]));
      expect(counts).toEqual({
        [T.Secret]: 1,
        [T.SecretVersion]: 1,
        [T.Table]: 1,
        [T.LogGroup]: 1,
        [T.Role]: 2,
        [T.RolePolicy]: 2,
        [T.Function]: 1,
        [T.Permission]: 1,
        [T.Queue]: 1,
        [T.Schedule]: 1,
        [T.Topic]: 1,
        [T.Subscription]: 0,
        [T.Alarm]: 5,
      });
      expect(dev.resources).toHaveLength(dev.children.length);
      for (const child of dev.children) expect(child.opts.parent).toBe(dev.component);
    });

    it("adds an email subscription to the alarm topic only when alarmEmail is given", () => {
      expect(prod.one(T.Subscription).inputs).toEqual({
        topic: prod.outputs.alarmTopicArn,
        protocol: "email",
        endpoint: "oncall@example.com",
      });
    });

    it("tags every taggable resource with its environment and openclaw-token-ops", () => {
      for (const r of dev.resources) {
        if (UNTAGGABLE.includes(r.type)) {
          expect(r.inputs.tags).toBeUndefined();
        } else {
          expect({ resource: r.name, tags: r.inputs.tags }).toEqual({
            resource: r.name,
            tags: { "openclaw:environment": "dev", "openclaw:managed-by": "openclaw-token-ops" },
          });
        }
      }
    });

    it("exports the outputs a team needs", () => {
      expect(dev.outputs).toEqual({
        functionName: "openclaw-rotator-dev",
        functionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:openclaw-rotator-dev`,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/openclaw-rotator-dev-${REGION}`,
        adminSecretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:openclaw-admin/dev/gateway-AbCdEf`,
        ledgerTableName: "openclaw-rotator-dev-ledger",
        alarmTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:openclaw-rotator-dev-alarms`,
        deadLetterQueueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/openclaw-rotator-dev-dlq`,
        scheduleName: "openclaw-rotator-dev",
      });
    });

    it("merges a team's extra tags without letting them override the openclaw tags", async () => {
      const custom = await deploy("dev", { tags: { team: "platform", "openclaw:environment": "prod" } }, "rotator-tagged");
      expect(custom.one(T.Table).inputs.tags).toEqual({ team: "platform", "openclaw:environment": "dev", "openclaw:managed-by": "openclaw-token-ops" });
    });
  });

  describe("admin token", () => {
    it("is stored in openclaw-admin/<env>/gateway, outside the tokens' namespace", () => {
      expect(dev.one(T.Secret).inputs).toMatchObject({ name: "openclaw-admin/dev/gateway", recoveryWindowInDays: 7 });
      // The engine receives the value wrapped as a secret, so state holds it encrypted.
      expect(dev.one(T.SecretVersion).inputs).toEqual({ secretId: dev.outputs.adminSecretArn, secretString: wireSecret(ADMIN_TOKEN.dev) });
    });

    it("reaches no resource but the secret version", () => {
      for (const r of [...dev.resources, ...prod.resources]) {
        if (r.type === T.SecretVersion) continue;
        const serialised = JSON.stringify(r.inputs);
        expect({ resource: r.name, leaks: serialised.includes(ADMIN_TOKEN.dev) || serialised.includes(ADMIN_TOKEN.prod) }).toEqual({ resource: r.name, leaks: false });
      }
    });

    it("is a Pulumi secret even when passed as a plain string", async () => {
      const plain = await deploy("dev", { adminToken: ADMIN_TOKEN.dev }, "rotator-plain");
      const version = plain.children.find((c) => c.type === T.SecretVersion);
      expect(await pulumi.isSecret(pulumi.output(version?.props.secretString))).toBe(true);
      expect(plain.one(T.SecretVersion).inputs.secretString).toEqual(wireSecret(ADMIN_TOKEN.dev));
    });
  });

  describe("ledger table", () => {
    it("is on-demand, keyed by pk, with the due index, point-in-time recovery and deletion protection", () => {
      expect(dev.one(T.Table).inputs).toEqual({
        name: "openclaw-rotator-dev-ledger",
        billingMode: "PAY_PER_REQUEST",
        hashKey: "pk",
        attributes: [
          { name: "pk", type: "S" },
          { name: "dueBucket", type: "S" },
          { name: "nextCheckAtMs", type: "N" },
        ],
        globalSecondaryIndexes: [{ name: "due-index", hashKey: "dueBucket", rangeKey: "nextCheckAtMs", projectionType: "KEYS_ONLY" }],
        pointInTimeRecovery: { enabled: true },
        deletionProtectionEnabled: true,
        tags: dev.one(T.Table).inputs.tags,
      });
    });
  });

  describe("Lambda function", () => {
    it("runs the bundle on Node 24 (nodejs24.x), arm64, with the default timeout and memory", () => {
      const fn = dev.one(T.Function).inputs;
      expect(fn).toMatchObject({
        name: "openclaw-rotator-dev",
        runtime: "nodejs24.x",
        handler: "index.handler",
        architectures: ["arm64"],
        timeout: 300,
        memorySize: 256,
        role: dev.outputs.roleArn,
      });
      expect(fn.reservedConcurrentExecutions).toBeUndefined();
    });

    it("ships the bundle folder as its code", async () => {
      const code = dev.one(T.Function).inputs.code;
      expect(code).toBeInstanceOf(pulumi.asset.FileArchive);
      await expect((code as pulumi.asset.FileArchive).path).resolves.toBe(BUNDLE_DIR);
    });

    it("gets exactly the rotator's contract as environment variables, none of them secret", () => {
      expect(dev.one(T.Function).inputs.environment).toEqual({
        variables: {
          OPENCLAW_ENVIRONMENT: "dev",
          OPENCLAW_GATEWAY_URL: GATEWAY.dev,
          OPENCLAW_BACKEND: "documented-api",
          OPENCLAW_ADMIN_SECRET_ID: "openclaw-admin/dev/gateway",
          OPENCLAW_LEDGER_TABLE: "openclaw-rotator-dev-ledger",
          OPENCLAW_QUIET_PERIOD: "15m",
          OPENCLAW_MAX_CONCURRENCY: "8",
          POWERTOOLS_SERVICE_NAME: "openclaw-rotator",
          POWERTOOLS_METRICS_NAMESPACE: "OpenClawTokens",
          NODE_OPTIONS: "--enable-source-maps",
        },
      });
    });

    it("is created after its log group, its policy and the admin token", () => {
      const deps = dev.children.find((c) => c.type === T.Function)?.opts.dependsOn as pulumi.Resource[];
      const logical = deps.map((d) => dev.children.find((c) => c.resource === d)?.type);
      expect(logical.sort()).toEqual([T.LogGroup, T.RolePolicy, T.SecretVersion].sort());
    });

    it("logs to /aws/lambda/<function> with the retention", () => {
      expect(dev.one(T.LogGroup).inputs).toMatchObject({ name: "/aws/lambda/openclaw-rotator-dev", retentionInDays: 30 });
    });

    it("may be invoked by Secrets Manager for rotation, from this account only", () => {
      expect(dev.one(T.Permission).inputs).toEqual({
        statementId: "SecretsManagerRotation",
        action: "lambda:InvokeFunction",
        function: "openclaw-rotator-dev",
        principal: "secretsmanager.amazonaws.com",
        sourceAccount: ACCOUNT,
      });
    });

    it("takes the tunables from its arguments", async () => {
      const tuned = await deploy(
        "dev",
        { schedule: "rate(15 minutes)", quietPeriod: "30m", maxConcurrency: 4, logRetentionDays: 90, lambdaTimeoutSeconds: 600, memorySize: 512 },
        "rotator-tuned",
      );
      const fn = tuned.one(T.Function).inputs;
      expect(fn).toMatchObject({ timeout: 600, memorySize: 512 });
      expect(fn.environment.variables).toMatchObject({ OPENCLAW_QUIET_PERIOD: "30m", OPENCLAW_MAX_CONCURRENCY: "4" });
      expect(tuned.one(T.LogGroup).inputs.retentionInDays).toBe(90);
      expect(tuned.one(T.Schedule).inputs.scheduleExpression).toBe("rate(15 minutes)");
    });
  });

  describe("IAM: the rotator's role", () => {
    it("can be assumed by Lambda only", () => {
      expect(policyOf(dev.one(T.Role, "rotator-dev-role").inputs.assumeRolePolicy)).toEqual({
        Version: "2012-10-17",
        Statement: [{ Sid: "LambdaService", Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: ["sts:AssumeRole"] }],
      });
    });

    it("has one inline policy, statement by statement, on this deployment's ARNs", () => {
      const policy = dev.one(T.RolePolicy, "rotator-dev-policy");
      expect(policy.inputs.role).toBe("openclaw-rotator-dev-eu-west-1");
      const statements = policyOf(policy.inputs.policy).Statement;
      const tokenSecrets = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:openclaw/dev/*`;
      const logGroup = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/openclaw-rotator-dev`;
      const ledger = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/openclaw-rotator-dev-ledger`;
      expect(statements).toEqual([
        {
          Sid: "RotateThisEnvironmentsTokens",
          Effect: "Allow",
          Action: [
            "secretsmanager:DescribeSecret",
            "secretsmanager:GetSecretValue",
            "secretsmanager:PutSecretValue",
            "secretsmanager:UpdateSecretVersionStage",
          ],
          Resource: [tokenSecrets],
          Condition: {
            StringEquals: { "aws:ResourceTag/openclaw:environment": "dev" },
          },
        },
        { Sid: "ReadGatewayAdminToken", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [dev.outputs.adminSecretArn] },
        {
          Sid: "ReadLedger",
          Effect: "Allow",
          Action: ["dynamodb:GetItem", "dynamodb:Query"],
          Resource: [ledger, `${ledger}/index/*`],
        },
        {
          Sid: "WriteRotationStateOnly",
          Effect: "Allow",
          Action: ["dynamodb:UpdateItem"],
          Resource: [ledger],
          Condition: { "ForAllValues:StringEquals": { "dynamodb:Attributes": ["pk", "state", "lease", "version", "nextCheckAtMs", "dueBucket"] } },
        },
        { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [logGroup, `${logGroup}:*`] },
        {
          Sid: "KeepIdentityTags",
          Effect: "Deny",
          Action: ["secretsmanager:UntagResource"],
          Resource: [tokenSecrets],
          Condition: { "ForAnyValue:StringEquals": { "aws:TagKeys": ["openclaw:environment", "openclaw:managed-by"] } },
        },
      ]);
    });

    it("cannot write the admin token: no write action's resource matches its ARN", () => {
      const statements = policyOf(dev.one(T.RolePolicy, "rotator-dev-policy").inputs.policy).Statement;
      const reaching = statements.filter((s) => s.Effect === "Allow" && (s.Resource ?? []).some((p) => p !== "*" && arnMatches(p, dev.outputs.adminSecretArn)));
      expect(reaching.flatMap((s) => s.Action)).toEqual(["secretsmanager:GetSecretValue"]);
    });
  });

  describe("IAM: no wildcard actions anywhere", () => {
    it("holds for every policy and trust policy of both deployments", () => {
      const documents = [...dev.resources, ...prod.resources].flatMap((r) =>
        r.type === T.RolePolicy ? [policyOf(r.inputs.policy)] : r.type === T.Role ? [policyOf(r.inputs.assumeRolePolicy)] : [],
      );
      expect(documents).toHaveLength(8);
      const actions = documents.flatMap((d) => d.Statement.flatMap((s) => s.Action));
      expect(actions.length).toBeGreaterThan(0);
      expect(actions.filter((a) => a.includes("*"))).toEqual([]);
      expect(actions).not.toContain("secretsmanager:*");
      expect(actions).not.toContain("*");
      // No "*" resource at all: the scan queries the ledger, not ListSecrets.
      const starResources = documents.flatMap((d) => d.Statement.filter((s) => s.Resource?.includes("*")).flatMap((s) => s.Action));
      expect([...new Set(starResources)]).toEqual([]);
    });
  });

  describe("schedule", () => {
    it("invokes the function on the schedule, with retries and a dead-letter queue", () => {
      const schedule = dev.one(T.Schedule).inputs;
      expect(schedule).toMatchObject({
        name: "openclaw-rotator-dev",
        groupName: "default",
        scheduleExpression: "rate(1 hour)",
        flexibleTimeWindow: { mode: "OFF" },
        target: {
          arn: dev.outputs.functionArn,
          roleArn: `arn:aws:iam::${ACCOUNT}:role/openclaw-rotator-dev-scheduler-${REGION}`,
          input: JSON.stringify({ kind: "scheduled-scan" }),
          retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 1800 },
          deadLetterConfig: { arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:openclaw-rotator-dev-dlq` },
        },
      });
      expect(schedule.tags).toBeUndefined();
    });

    it("keeps dead letters for 14 days, encrypted", () => {
      expect(dev.one(T.Queue).inputs).toMatchObject({ name: "openclaw-rotator-dev-dlq", messageRetentionSeconds: 1_209_600, sqsManagedSseEnabled: true });
    });

    it("runs with a role that may only invoke this function and write this queue", () => {
      const policy = dev.one(T.RolePolicy, "rotator-dev-scheduler-policy");
      expect(policy.inputs.role).toBe(`openclaw-rotator-dev-scheduler-${REGION}`);
      expect(policyOf(policy.inputs.policy).Statement).toEqual([
        { Sid: "InvokeRotator", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [dev.outputs.functionArn] },
        { Sid: "DeadLetters", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [`arn:aws:sqs:${REGION}:${ACCOUNT}:openclaw-rotator-dev-dlq`] },
      ]);
    });

    it("has a role only EventBridge Scheduler may assume, for this schedule of this account", () => {
      const trust = policyOf(dev.one(T.Role, "rotator-dev-scheduler-role").inputs.assumeRolePolicy);
      expect(trust.Statement).toEqual([
        {
          Sid: "ThisScheduleOnly",
          Effect: "Allow",
          Principal: { Service: "scheduler.amazonaws.com" },
          Action: ["sts:AssumeRole"],
          // The ARN is computed before the schedule exists; it must be the one AWS then assigns.
          Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT, "aws:SourceArn": dev.one(T.Schedule).state.arn } },
        },
      ]);
    });
  });

  describe("alarms", () => {
    it("watch the rotator's failures, the dead-letter queue and the function's errors, notifying the topic", () => {
      const alarms = dev.all(T.Alarm).map((a) => a.inputs);
      const shared = {
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        period: 300,
        treatMissingData: "notBreaching",
        alarmActions: [dev.outputs.alarmTopicArn],
      };
      const byMetric = Object.fromEntries(alarms.map((a) => [a.metricName, a]));
      expect(Object.keys(byMetric).sort()).toEqual(["ApproximateNumberOfMessagesVisible", "BadState", "ConsumersStillOnOldToken", "Errors", "RotationsFailed"]);
      for (const metric of ["RotationsFailed", "ConsumersStillOnOldToken", "BadState"]) {
        expect(byMetric[metric]).toMatchObject({ ...shared, namespace: "OpenClawTokens", statistic: "Sum", dimensions: { environment: "dev" } });
      }
      expect(byMetric.ApproximateNumberOfMessagesVisible).toMatchObject({
        ...shared,
        namespace: "AWS/SQS",
        statistic: "Maximum",
        dimensions: { QueueName: "openclaw-rotator-dev-dlq" },
      });
      expect(byMetric.Errors).toMatchObject({ ...shared, namespace: "AWS/Lambda", statistic: "Sum", dimensions: { FunctionName: "openclaw-rotator-dev" } });
      for (const alarm of alarms) {
        expect(alarm.name).toMatch(/^openclaw-rotator-dev-/);
        expect(alarm.okActions).toBeUndefined();
      }
    });

    it("go to a topic named for the environment", () => {
      expect(dev.one(T.Topic).inputs.name).toBe("openclaw-rotator-dev-alarms");
    });
  });

  describe("dev and prod in one account", () => {
    /**
     * Every ID, ARN, URL and physical name a deployment's resources carry. Inline policies and permissions are left
     * out: their names exist only inside their role or function, and are equal on purpose.
     */
    const identifiers = (d: Deployed) =>
      d.resources
        .filter((r) => r.type !== T.RolePolicy && r.type !== T.Permission)
        .flatMap((r) => [r.id, r.state.arn, r.state.url, r.inputs.name].filter((v): v is string => typeof v === "string"));
    const allowPatterns = (d: Deployed) =>
      d.all(T.RolePolicy).flatMap((p) => policyOf(p.inputs.policy).Statement.flatMap((s) => (s.Resource ?? []).filter((r) => r !== "*")));

    it("share no resource: names, IDs and ARNs are disjoint", () => {
      const devIds = new Set(identifiers(dev));
      expect(identifiers(prod).filter((id) => devIds.has(id))).toEqual([]);
      for (const type of [T.Secret, T.Table, T.LogGroup, T.Function, T.Queue, T.Topic, T.Schedule, T.Role]) {
        for (const r of dev.all(type)) expect(r.inputs.name).toContain("dev");
        for (const r of prod.all(type)) expect(r.inputs.name).toContain("prod");
      }
    });

    it("grant nothing on each other's resources: no ARN pattern of one matches an ARN of the other", () => {
      const arnsOf = (d: Deployed) => d.resources.map((r) => r.state.arn).filter((a): a is string => typeof a === "string");
      for (const [mine, theirs] of [
        [dev, prod],
        [prod, dev],
      ] as const) {
        const patterns = allowPatterns(mine);
        expect(patterns.length).toBeGreaterThan(0);
        for (const arn of arnsOf(theirs)) {
          expect({ arn, matchedBy: patterns.filter((p) => arnMatches(p, arn)) }).toEqual({ arn, matchedBy: [] });
        }
      }
    });

    it("reach only their own environment's token secrets", () => {
      const token = (env: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:openclaw/${env}/ci-runner-Xy12Zw`;
      const reaches = (d: Deployed, arn: string) => allowPatterns(d).some((p) => arnMatches(p, arn));
      expect([reaches(dev, token("dev")), reaches(dev, token("prod")), reaches(dev, token("stage"))]).toEqual([true, false, false]);
      expect([reaches(prod, token("prod")), reaches(prod, token("dev")), reaches(prod, token("stage"))]).toEqual([true, false, false]);
      // A prefix trick: openclaw/dev-evil/... is not in openclaw/dev/.
      expect(reaches(dev, `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:openclaw/dev-evil/x-Xy12Zw`)).toBe(false);
    });
  });

  describe("arguments", () => {
    const base = { environment: "dev", gatewayUrl: GATEWAY.dev, adminToken: pulumi.secret(ADMIN_TOKEN.dev), bundleDir: BUNDLE_DIR } as const;
    const construct = (overrides: Record<string, unknown>, name: string) => () =>
      new mod.RotatorDeployment(name, { ...base, ...overrides } as Module.RotatorDeploymentArgs);

    it.each([
      [{ environment: "qa" }, /environment: "qa" is not an environment; use one of dev, stage, prod/],
      [{ environment: "prod", gatewayUrl: "http://gateway.openclaw.example" }, /gatewayUrl: a prod gateway must be reached over https/],
      [{ environment: "prod", gatewayUrl: "https://gateway-stage.openclaw.example" }, /gatewayUrl: host gateway-stage.openclaw.example names the stage environment/],
      [{ schedule: "every hour" }, /schedule: "every hour" is not a schedule expression/],
      [{ schedule: "rate(2 hour)" }, /schedule: write rate\(2 hours\), not rate\(2 hour\)/],
      [{ schedule: "at(2030-01-01T00:00:00)" }, /runs only once/],
      [{ quietPeriod: "15 minutes" }, /quietPeriod: "15 minutes" is not a duration/],
      [{ maxConcurrency: 0 }, /maxConcurrency: 0 is not a whole number from 1 to 50/],
      [{ logRetentionDays: 10 }, /logRetentionDays: 10 is not a CloudWatch Logs retention; use one of 1, 3, 5, 7, 14, 30/],
      [{ lambdaTimeoutSeconds: 901 }, /lambdaTimeoutSeconds: 901 .* from 30 to 900/],
      [{ memorySize: 64 }, /memorySize: 64 .* from 128 to 10240/],
      [{ alarmEmail: "oncall" }, /alarmEmail: "oncall" is not an email address/],
      [{ backend: "ssh" }, /backend: "ssh" is not a gateway backend; use one of documented-api/],
    ])("refuses %j", (overrides, message) => {
      expect(construct(overrides, `bad-${JSON.stringify(overrides).replace(/\W+/g, "-")}`)).toThrow(message);
    });

    it("refuses another environment's admin token before storing it where this rotator reads it, never quoting it", () => {
      const prodTokenForDev = construct({ adminToken: ADMIN_TOKEN.prod }, "bad-admin-token");
      expect(prodTokenForDev).toThrow(/adminToken: it is a prod token; the dev gateway needs a token starting openclaw_gw_dev_/);
      expect(() => {
        try {
          prodTokenForDev();
        } catch (error) {
          throw new Error(String(error).includes(ADMIN_TOKEN.prod) ? "the message quotes the token" : "refused");
        }
      }).toThrow("refused");
    });

    it("takes an OpenClaw gateway's shared token, which has no environment prefix", () => {
      expect(construct({ adminToken: "shared-gateway-token", backend: "openclaw-devices" }, "openclaw-admin-token")).not.toThrow();
    });

    it("refuses a missing bundle with the command that builds it", () => {
      const missing = join(BUNDLE_DIR, "nope");
      expect(construct({ bundleDir: missing }, "bad-bundle")).toThrow(mod.RotatorBundleMissingError);
      expect(construct({ bundleDir: missing }, "bad-bundle-2")).toThrow(/node scripts\/build.mjs/);
    });
  });
});

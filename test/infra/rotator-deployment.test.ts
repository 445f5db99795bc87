/**
 * RotatorDeployment on Pulumi mocks: the resources it declares, the values they are declared with, and the
 * isolation between a dev and a prod deployment in one account.
 */
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type * as Module from "../../infra/aws/rotator-deployment";
import { ADMIN_TOKEN, BUNDLE_DIR, Deployed, deployOnMocks, Env, GATEWAY, openclawDevices, policyOf, SHARED_TOKEN, T } from "./mocked-deployment";
import { ACCOUNT, arnMatches, installMocks, REGION, Registered } from "./pulumi-mocks";

let registered: Registered[];
let mod: typeof Module;

beforeAll(async () => {
  // Mocks first, then the module under test.
  registered = await installMocks();
  mod = await import("../../infra/aws/rotator-deployment");
});

const deploy = (env: Env, overrides: Partial<Module.RotatorDeploymentArgs> = {}, name = `rotator-${env}`): Promise<Deployed> =>
  deployOnMocks(mod, registered, env, overrides, name);

/** Resource types AWS (or the provider) cannot tag. */
const UNTAGGABLE: readonly string[] = [T.SecretVersion, T.RolePolicy, T.Permission, T.Schedule, T.Subscription, T.EventInvokeConfig, T.Dashboard];

/** A secret value as Pulumi sends it to the engine (the mocks see the wire form). */
const wireSecret = (value: string) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value });

/** Where a deployment's rotator credential is: the documented API's own, rotated one (any Secrets Manager suffix). */
const credentialPattern = (env: Env) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:openclaw-admin/${env}/rotator-??????`;
/** The credential's ARN as AWS would name it, and the admin secret's as the mocks do. */
const credentialArn = (env: Env) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:openclaw-admin/${env}/rotator-Qw3rTy`;
const adminSecretArn = (env: Env) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:openclaw-admin/${env}/gateway-AbCdEf`;

describe("RotatorDeployment", () => {
  /** The documented API (the default): no admin token given, the rotator holds its own self-rotated credential. */
  let dev: Deployed;
  let prod: Deployed;
  /** openclaw-devices: OpenClaw's shared token, kept in the stack's admin secret. */
  let devices: Deployed;

  beforeAll(async () => {
    dev = await deploy("dev");
    prod = await deploy("prod", { alarmEmail: "oncall@example.com" });
    devices = await deploy("dev", openclawDevices("dev"), "rotator-devices");
  });

  describe("resource graph", () => {
    it("registers the component under its own type token", () => {
      const component = registered.find((r) => r.name === "rotator-dev");
      expect(component).toMatchObject({ type: "openclaw:aws:RotatorDeployment", custom: false });
    });

    it("declares exactly the resources of one rotator, each a child of the component", () => {
      const counts = Object.fromEntries(Object.values(T).map((type) => [type, dev.all(type).length]));
      expect(counts).toEqual({
        // No admin secret: the rotator's credential is created by bootstrap-rotator, outside the stack.
        [T.Secret]: 0,
        [T.SecretVersion]: 0,
        [T.Table]: 1,
        [T.LogGroup]: 1,
        [T.Role]: 2,
        [T.RolePolicy]: 2,
        [T.Policy]: 3,
        [T.Function]: 1,
        [T.Permission]: 1,
        [T.Queue]: 2,
        [T.Schedule]: 1,
        [T.Topic]: 1,
        [T.Subscription]: 0,
        [T.Alarm]: 7,
        [T.EventInvokeConfig]: 1,
        [T.Dashboard]: 1,
        [T.EventRule]: 1,
      });
      expect(dev.resources).toHaveLength(dev.children.length);
      for (const child of dev.children) expect(child.opts.parent).toBe(dev.component);
    });

    it("declares, on openclaw-devices, the same resources plus the admin secret and its value", () => {
      const count = (d: Deployed) => Object.fromEntries(Object.values(T).map((type) => [type, d.all(type).length]));
      expect(count(devices)).toEqual({ ...count(dev), [T.Secret]: 1, [T.SecretVersion]: 1 });
      expect(devices.resources).toHaveLength(devices.children.length);
      for (const child of devices.children) expect(child.opts.parent).toBe(devices.component);
    });

    it("declares an example rule on the default bus for this environment's emergency revocations", () => {
      expect(dev.one(T.EventRule).inputs).toMatchObject({ name: "openclaw-rotator-dev-emergency-revoked", eventBusName: "default" });
      expect(JSON.parse(dev.one(T.EventRule).inputs.eventPattern)).toEqual({
        source: ["openclaw-token-ops"],
        "detail-type": ["OpenClaw Token Rotation Emergency Revoked"],
        detail: { environment: ["dev"] },
      });
      expect(JSON.parse(prod.one(T.EventRule).inputs.eventPattern).detail).toEqual({ environment: ["prod"] });
    });

    it("adds an email subscription to the alarm topic only when alarmEmail is given", () => {
      expect(prod.one(T.Subscription).inputs).toEqual({
        topic: prod.outputs.alarmTopicArn,
        protocol: "email",
        endpoint: "oncall@example.com",
      });
    });

    it("tags every taggable resource with its environment and openclaw-token-ops", () => {
      for (const r of [...dev.resources, ...devices.resources]) {
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
        credentialSecretName: "openclaw-admin/dev/rotator",
        ledgerTableName: "openclaw-rotator-dev-ledger",
        alarmTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:openclaw-rotator-dev-alarms`,
        deadLetterQueueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/openclaw-rotator-dev-dlq`,
        failedRunsQueueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/openclaw-rotator-dev-failed-runs`,
        dashboardName: "openclaw-rotator-dev",
        operatorPolicyArn: `arn:aws:iam::${ACCOUNT}:policy/openclaw-tokens-dev-operator-${REGION}`,
        viewerPolicyArn: `arn:aws:iam::${ACCOUNT}:policy/openclaw-tokens-dev-viewer-${REGION}`,
        tokenDeployerPolicyArn: `arn:aws:iam::${ACCOUNT}:policy/openclaw-tokens-dev-token-deployer-${REGION}`,
        scheduleName: "openclaw-rotator-dev",
      });
      // openclaw-devices: the same outputs, the credential being the admin secret.
      expect(devices.outputs).toEqual({ ...dev.outputs, credentialSecretName: "openclaw-admin/dev/gateway" });
      expect(prod.outputs.credentialSecretName).toBe("openclaw-admin/prod/rotator");
    });

    it("merges a team's extra tags without letting them override the openclaw tags", async () => {
      const custom = await deploy("dev", { tags: { team: "platform", "openclaw:environment": "prod" } }, "rotator-tagged");
      expect(custom.one(T.Table).inputs.tags).toEqual({ team: "platform", "openclaw:environment": "dev", "openclaw:managed-by": "openclaw-token-ops" });
    });
  });

  describe("the documented API: no admin token in the deployment", () => {
    it("stores no secret and no secret value at all", () => {
      for (const d of [dev, prod]) expect([d.all(T.Secret), d.all(T.SecretVersion)]).toEqual([[], []]);
      expect(dev.children.filter((c) => c.type === T.Secret || c.type === T.SecretVersion)).toEqual([]);
    });

    it.each([
      ["a plain string", ADMIN_TOKEN.dev],
      ["a secret", pulumi.secret(ADMIN_TOKEN.dev)],
    ])("refuses an adminToken given as %s, with the way to the rotator's own credential, never quoting it", (_how, adminToken) => {
      const construct = () => new mod.RotatorDeployment(`refused-admin-${_how.replace(/\W+/g, "-")}`, { environment: "dev", gatewayUrl: GATEWAY.dev, bundleDir: BUNDLE_DIR, adminToken });
      let thrown: unknown;
      try {
        construct();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(Error);
      expect(String(thrown)).toContain(
        "adminToken: a documented-API rotator holds no admin token: it rotates its own admin:tokens credential. Remove adminToken (openclaw:adminToken) and run `openclaw-tokens bootstrap-rotator` once with the break-glass token (docs/runbook.md)",
      );
      expect(String(thrown)).not.toContain(ADMIN_TOKEN.dev);
    });

    it("refuses an adminToken with the backend named explicitly too", () => {
      expect(() => new mod.RotatorDeployment("refused-admin-explicit", { environment: "dev", gatewayUrl: GATEWAY.dev, bundleDir: BUNDLE_DIR, backend: "documented-api", adminToken: ADMIN_TOKEN.dev })).toThrow(
        /adminToken: a documented-API rotator holds no admin token/,
      );
    });
  });

  describe("openclaw-devices: OpenClaw's shared token in the admin secret", () => {
    it("is stored in openclaw-admin/<env>/gateway, outside the tokens' namespace", () => {
      expect(devices.one(T.Secret).inputs).toEqual({
        name: "openclaw-admin/dev/gateway",
        description: "Shared token of the dev OpenClaw gateway, read by the token rotator. Set with pulumi config set --secret.",
        recoveryWindowInDays: 7,
        tags: { "openclaw:environment": "dev", "openclaw:managed-by": "openclaw-token-ops" },
      });
      // The engine receives the value wrapped as a secret, so state holds it encrypted.
      expect(devices.one(T.SecretVersion).inputs).toEqual({ secretId: adminSecretArn("dev"), secretString: wireSecret(SHARED_TOKEN.dev) });
    });

    it("reaches no resource but the secret version", () => {
      for (const r of [...dev.resources, ...prod.resources, ...devices.resources]) {
        if (r.type === T.SecretVersion) continue;
        const serialised = JSON.stringify(r.inputs);
        expect({ resource: r.name, leaks: serialised.includes(SHARED_TOKEN.dev) }).toEqual({ resource: r.name, leaks: false });
      }
    });

    it("is a Pulumi secret even when passed as a plain string", async () => {
      const plain = await deploy("dev", { backend: "openclaw-devices", adminToken: SHARED_TOKEN.dev }, "rotator-plain");
      const version = plain.children.find((c) => c.type === T.SecretVersion);
      expect(await pulumi.isSecret(pulumi.output(version?.props.secretString))).toBe(true);
      expect(plain.one(T.SecretVersion).inputs.secretString).toEqual(wireSecret(SHARED_TOKEN.dev));
    });

    it("is required: an openclaw-devices rotator has no token-management scope to rotate a credential of its own", () => {
      expect(() => new mod.RotatorDeployment("devices-without-token", { environment: "dev", gatewayUrl: GATEWAY.dev, bundleDir: BUNDLE_DIR, backend: "openclaw-devices" })).toThrow(
        "adminToken: an openclaw-devices rotator needs OpenClaw's shared gateway token (gateway.auth.token): set adminToken (pulumi config set --secret openclaw:adminToken)",
      );
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

    it("logs in Lambda's JSON format to its own log group, and traces only when asked", async () => {
      const fn = dev.one(T.Function).inputs;
      expect([fn.loggingConfig, fn.tracingConfig]).toEqual([
        { logFormat: "JSON", logGroup: "/aws/lambda/openclaw-rotator-dev", applicationLogLevel: "INFO", systemLogLevel: "WARN" },
        { mode: "PassThrough" },
      ]);
      const statements = (d: Deployed) => policyOf(d.one(T.RolePolicy, `${d.one(T.Function).name.replace(/-function$/, "")}-policy`).inputs.policy).Statement;
      expect(statements(dev).filter((s) => s.Sid.startsWith("WriteTraces"))).toEqual([]);

      const traced = await deploy("dev", { tracing: true }, "rotator-traced");
      expect(traced.one(T.Function).inputs.tracingConfig).toEqual({ mode: "Active" });
      expect(traced.one(T.Function).inputs.environment.variables.POWERTOOLS_TRACE_ENABLED).toBe("true");
      // X-Ray's two write actions, on "*" (they have no resource-level permissions), before the Deny.
      expect(statements(traced).slice(-2)).toEqual([
        { Sid: "WriteTracesXRayHasNoResourceScope", Effect: "Allow", Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource: ["*"] },
        expect.objectContaining({ Sid: "KeepIdentityTags" }),
      ]);
    });

    it("ships the bundle folder as its code", async () => {
      const code = dev.one(T.Function).inputs.code;
      expect(code).toBeInstanceOf(pulumi.asset.FileArchive);
      await expect((code as pulumi.asset.FileArchive).path).resolves.toBe(BUNDLE_DIR);
    });

    it("gets exactly the rotator's contract as environment variables, none of them secret, and no admin secret to read", () => {
      expect(dev.one(T.Function).inputs.environment).toEqual({
        variables: {
          OPENCLAW_ENVIRONMENT: "dev",
          OPENCLAW_GATEWAY_URL: GATEWAY.dev,
          OPENCLAW_BACKEND: "documented-api",
          OPENCLAW_LEDGER_TABLE: "openclaw-rotator-dev-ledger",
          OPENCLAW_QUIET_PERIOD: "15m",
          OPENCLAW_SUSPENSION_WINDOW: "1h",
          OPENCLAW_MAX_CONCURRENCY: "8",
          POWERTOOLS_SERVICE_NAME: "openclaw-rotator",
          POWERTOOLS_METRICS_NAMESPACE: "OpenClawTokens",
          POWERTOOLS_TRACE_ENABLED: "false",
          NODE_OPTIONS: "--enable-source-maps",
        },
      });
    });

    it("on openclaw-devices, gets the backend and the admin secret's name besides", () => {
      expect(devices.one(T.Function).inputs.environment.variables).toEqual({
        ...dev.one(T.Function).inputs.environment.variables,
        OPENCLAW_BACKEND: "openclaw-devices",
        OPENCLAW_ADMIN_SECRET_ID: "openclaw-admin/dev/gateway",
      });
    });

    it("is created after its log group and its policy, and on openclaw-devices after the admin token's value", () => {
      const dependencies = (d: Deployed) => {
        const deps = d.children.find((c) => c.type === T.Function)?.opts.dependsOn as pulumi.Resource[];
        return deps.map((dep) => d.children.find((c) => c.resource === dep)?.type).sort();
      };
      expect(dependencies(dev)).toEqual([T.LogGroup, T.RolePolicy].sort());
      expect(dependencies(devices)).toEqual([T.LogGroup, T.RolePolicy, T.SecretVersion].sort());
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
        { schedule: "rate(15 minutes)", quietPeriod: "30m", suspensionWindow: "0", maxConcurrency: 4, logRetentionDays: 90, lambdaTimeoutSeconds: 600, memorySize: 512 },
        "rotator-tuned",
      );
      const fn = tuned.one(T.Function).inputs;
      expect(fn).toMatchObject({ timeout: 600, memorySize: 512 });
      expect(fn.environment.variables).toMatchObject({ OPENCLAW_QUIET_PERIOD: "30m", OPENCLAW_SUSPENSION_WINDOW: "0", OPENCLAW_MAX_CONCURRENCY: "4" });
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
        {
          Sid: "RotateOwnCredential",
          Effect: "Allow",
          Action: [
            "secretsmanager:DescribeSecret",
            "secretsmanager:GetSecretValue",
            "secretsmanager:PutSecretValue",
            "secretsmanager:UpdateSecretVersionStage",
          ],
          Resource: [credentialPattern("dev")],
          Condition: { StringEquals: { "aws:ResourceTag/openclaw:environment": "dev" } },
        },
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
        { Sid: "RecordFailedRuns", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [`arn:aws:sqs:${REGION}:${ACCOUNT}:openclaw-rotator-dev-failed-runs`] },
        { Sid: "PublishRotationEvents", Effect: "Allow", Action: ["events:PutEvents"], Resource: [`arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`] },
        {
          Sid: "KeepIdentityTags",
          Effect: "Deny",
          Action: ["secretsmanager:UntagResource"],
          Resource: [tokenSecrets],
          Condition: { "ForAnyValue:StringEquals": { "aws:TagKeys": ["openclaw:environment", "openclaw:managed-by"] } },
        },
      ]);
    });

    const allowsOn = (d: Deployed, policyName: string, arn: string) =>
      policyOf(d.one(T.RolePolicy, policyName).inputs.policy)
        .Statement.filter((s) => s.Effect === "Allow" && (s.Resource ?? []).some((p) => p !== "*" && arnMatches(p, arn)))
        .flatMap((s) => s.Action);

    it("on openclaw-devices, reads the admin secret in place of its own credential: the only difference", () => {
      const statements = policyOf(devices.one(T.RolePolicy, "rotator-devices-policy").inputs.policy).Statement;
      const documented = policyOf(dev.one(T.RolePolicy, "rotator-dev-policy").inputs.policy).Statement;
      expect(statements[1]).toEqual({ Sid: "ReadGatewayAdminToken", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [adminSecretArn("dev")] });
      expect(statements.filter((s) => s.Sid !== "ReadGatewayAdminToken")).toEqual(documented.filter((s) => s.Sid !== "RotateOwnCredential"));
    });

    it("cannot write the admin token (openclaw-devices: it only reads it; documented API: it cannot reach it at all)", () => {
      expect(allowsOn(devices, "rotator-devices-policy", adminSecretArn("dev"))).toEqual(["secretsmanager:GetSecretValue"]);
      expect(allowsOn(dev, "rotator-dev-policy", adminSecretArn("dev"))).toEqual([]);
    });

    it("writes its own credential's versions and stages, but can neither create nor delete it, and reaches no other environment's", () => {
      expect(allowsOn(dev, "rotator-dev-policy", credentialArn("dev"))).toEqual([
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
      ]);
      expect(allowsOn(dev, "rotator-dev-policy", credentialArn("prod"))).toEqual([]);
      expect(allowsOn(prod, "rotator-prod-policy", credentialArn("dev"))).toEqual([]);
      expect(allowsOn(devices, "rotator-devices-policy", credentialArn("dev"))).toEqual([]);
    });
  });

  describe("IAM: managed policies for the operator, the viewer and the token deployer", () => {
    const tokenSecrets = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:openclaw/dev/*`;
    const table = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/openclaw-rotator-dev-ledger`;
    const fence = { StringEquals: { "aws:ResourceTag/openclaw:environment": "dev" }, StringEqualsIfExists: { "aws:RequestTag/openclaw:environment": "dev" } };
    const readLedger = { Sid: "ReadLedger", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:Query"], Resource: [table, `${table}/index/*`] };
    const keepTags = {
      Sid: "KeepIdentityTags",
      Effect: "Deny",
      Action: ["secretsmanager:UntagResource"],
      Resource: [tokenSecrets],
      Condition: { "ForAnyValue:StringEquals": { "aws:TagKeys": ["openclaw:environment", "openclaw:managed-by"] } },
    };
    const rotation = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"];
    const managed = (who: string, d = dev) => d.one(T.Policy, `${d === devices ? "rotator-devices" : "rotator-dev"}-${who}-policy`).inputs;
    const writeRotationState = {
      Sid: "WriteRotationStateOnly",
      Effect: "Allow",
      Action: ["dynamodb:UpdateItem"],
      Resource: [table],
      Condition: { "ForAllValues:StringEquals": { "dynamodb:Attributes": ["pk", "state", "lease", "version", "nextCheckAtMs", "dueBucket"] } },
    };

    it("are named per environment and region, described and tagged", () => {
      const tags = { "openclaw:environment": "dev", "openclaw:managed-by": "openclaw-token-ops" };
      expect(["operator", "viewer", "token-deployer"].map((who) => [managed(who).name, managed(who).description, managed(who).tags])).toEqual([
        [`openclaw-tokens-dev-operator-${REGION}`, "OpenClaw dev tokens: leak response and manual rotation with the CLI", tags],
        [`openclaw-tokens-dev-viewer-${REGION}`, "OpenClaw dev tokens: status, without any secret value", tags],
        [`openclaw-tokens-dev-token-deployer-${REGION}`, "OpenClaw dev tokens: pulumi up/destroy of GatewayToken resources", tags],
      ]);
    });

    it("give the operator the rotator's permissions on the environment (rotation state only in the ledger), reading the rotator's credential", () => {
      expect(policyOf(managed("operator").policy).Statement).toEqual([
        { Sid: "OperateThisEnvironmentsTokens", Effect: "Allow", Action: rotation, Resource: [tokenSecrets], Condition: fence },
        // The CLI acts with the rotator's credential: it reads it, never writes it.
        { Sid: "ReadGatewayCredential", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [credentialPattern("dev")] },
        readLedger,
        writeRotationState,
        keepTags,
      ]);
      // openclaw-devices: the same, on the admin secret.
      expect(policyOf(managed("operator", devices).policy).Statement).toEqual([
        { Sid: "OperateThisEnvironmentsTokens", Effect: "Allow", Action: rotation, Resource: [tokenSecrets], Condition: fence },
        { Sid: "ReadGatewayCredential", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [adminSecretArn("dev")] },
        readLedger,
        writeRotationState,
        keepTags,
      ]);
    });

    it("let the viewer read the ledger, and deny every secret value explicitly, the gateway credential's included", () => {
      expect(policyOf(managed("viewer").policy).Statement).toEqual([
        readLedger,
        { Sid: "NeverReadSecretValues", Effect: "Deny", Action: ["secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue"], Resource: [tokenSecrets, credentialPattern("dev")] },
      ]);
      expect(policyOf(managed("viewer", devices).policy).Statement).toEqual([
        readLedger,
        { Sid: "NeverReadSecretValues", Effect: "Deny", Action: ["secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue"], Resource: [tokenSecrets, adminSecretArn("dev")] },
      ]);
    });

    const deployerTokenStatements = [
      {
        Sid: "CreateTokenSecretsTagged",
        Effect: "Allow",
        Action: ["secretsmanager:CreateSecret", "secretsmanager:TagResource"],
        Resource: [tokenSecrets],
        Condition: { StringEquals: { "aws:RequestTag/openclaw:environment": "dev" }, StringEqualsIfExists: { "aws:ResourceTag/openclaw:environment": "dev" } },
      },
      { Sid: "LookUpTokenSecrets", Effect: "Allow", Action: ["secretsmanager:DescribeSecret"], Resource: [tokenSecrets] },
      {
        Sid: "ManageThisEnvironmentsTokens",
        Effect: "Allow",
        Action: [...rotation.slice(1), "secretsmanager:DeleteSecret", "secretsmanager:RestoreSecret"],
        Resource: [tokenSecrets],
        Condition: fence,
      },
    ];
    const writeLedger = { Sid: "WriteLedger", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"], Resource: [table, `${table}/index/*`] };

    it("let the token deployer create tagged secrets, look them up, manage and delete them, read the rotator's credential to mint and create it once", () => {
      expect(policyOf(managed("token-deployer").policy).Statement).toEqual([
        ...deployerTokenStatements,
        // Tokens declared without adminToken are minted with the rotator's credential.
        { Sid: "ReadRotatorCredential", Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: [credentialPattern("dev")] },
        // bootstrap-rotator (a human with the break-glass token) creates it, tagged for this environment...
        {
          Sid: "BootstrapRotatorCredential",
          Effect: "Allow",
          Action: ["secretsmanager:CreateSecret", "secretsmanager:TagResource"],
          Resource: [credentialPattern("dev")],
          Condition: { StringEquals: { "aws:RequestTag/openclaw:environment": "dev" }, StringEqualsIfExists: { "aws:ResourceTag/openclaw:environment": "dev" } },
        },
        // ...and replaces it when it is dead, by a rotation of that secret, tagged for this environment.
        {
          Sid: "ReplaceRotatorCredential",
          Effect: "Allow",
          Action: ["secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"],
          Resource: [credentialPattern("dev")],
          Condition: { StringEquals: { "aws:ResourceTag/openclaw:environment": "dev" } },
        },
        writeLedger,
        keepTags,
      ]);
    });

    it("on openclaw-devices, give the token deployer nothing on the admin secret: its tokens carry the adminToken they mint with", () => {
      expect(policyOf(managed("token-deployer", devices).policy).Statement).toEqual([...deployerTokenStatements, writeLedger, keepTags]);
    });
  });

  describe("IAM: no wildcard actions anywhere", () => {
    it("holds for every policy and trust policy of both deployments", () => {
      const documents = [...dev.resources, ...prod.resources].flatMap((r) =>
        r.type === T.RolePolicy ? [policyOf(r.inputs.policy)] : r.type === T.Role ? [policyOf(r.inputs.assumeRolePolicy)] : [],
      );
      expect(documents).toHaveLength(8);
      documents.push(...[...dev.resources, ...prod.resources].filter((r) => r.type === T.Policy).map((r) => policyOf(r.inputs.policy)));
      expect(documents).toHaveLength(14);
      // openclaw-devices' documents too.
      documents.push(...devices.resources.flatMap((r) => (r.type === T.RolePolicy || r.type === T.Policy ? [policyOf(r.inputs.policy)] : r.type === T.Role ? [policyOf(r.inputs.assumeRolePolicy)] : [])));
      expect(documents).toHaveLength(21);
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
      const queues = Object.fromEntries(dev.all(T.Queue).map((q) => [q.inputs.name, q.inputs]));
      const tags = { "openclaw:environment": "dev", "openclaw:managed-by": "openclaw-token-ops" };
      expect(queues).toEqual({
        "openclaw-rotator-dev-dlq": { name: "openclaw-rotator-dev-dlq", messageRetentionSeconds: 1_209_600, sqsManagedSseEnabled: true, tags },
        "openclaw-rotator-dev-failed-runs": { name: "openclaw-rotator-dev-failed-runs", messageRetentionSeconds: 1_209_600, sqsManagedSseEnabled: true, tags },
      });
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
      const alarms = Object.fromEntries(dev.all(T.Alarm).map((a) => [a.inputs.name, a.inputs]));
      const tags = { "openclaw:environment": "dev", "openclaw:managed-by": "openclaw-token-ops" };
      const shared = {
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        period: 300,
        treatMissingData: "notBreaching",
        alarmActions: [dev.outputs.alarmTopicArn],
        tags,
      };
      // The rotator's metrics carry exactly the dimensions Powertools publishes: service and environment.
      const rotator = (metricName: string) => ({ ...shared, namespace: "OpenClawTokens", metricName, statistic: "Sum", dimensions: { service: "openclaw-rotator", environment: "dev" } });
      expect(alarms).toEqual({
        "openclaw-rotator-dev-rotations-failed": {
          ...rotator("RotationsFailed"),
          name: "openclaw-rotator-dev-rotations-failed",
          alarmDescription: "A dev token rotation failed; see the rotator's logs for the token and the fix",
        },
        "openclaw-rotator-dev-consumers-on-old-token": {
          ...rotator("ConsumersStillOnOldToken"),
          name: "openclaw-rotator-dev-consumers-on-old-token",
          alarmDescription: "A dev consumer still uses a retiring token after the quiet period; roll it so that it reloads its secret",
        },
        "openclaw-rotator-dev-bad-state": {
          ...rotator("BadState"),
          name: "openclaw-rotator-dev-bad-state",
          alarmDescription: "A dev token secret is in a state the rotator will not touch; it needs an operator",
        },
        "openclaw-rotator-dev-dead-letters": {
          ...shared,
          name: "openclaw-rotator-dev-dead-letters",
          alarmDescription: "EventBridge Scheduler could not start the dev rotator; the event is in the dead-letter queue",
          namespace: "AWS/SQS",
          metricName: "ApproximateNumberOfMessagesVisible",
          statistic: "Maximum",
          dimensions: { QueueName: "openclaw-rotator-dev-dlq" },
        },
        "openclaw-rotator-dev-lambda-errors": {
          ...shared,
          name: "openclaw-rotator-dev-lambda-errors",
          alarmDescription: "The dev rotator Lambda failed (error, timeout or crash)",
          namespace: "AWS/Lambda",
          metricName: "Errors",
          statistic: "Sum",
          dimensions: { FunctionName: "openclaw-rotator-dev" },
        },
        "openclaw-rotator-dev-failed-runs": {
          ...shared,
          name: "openclaw-rotator-dev-failed-runs",
          alarmDescription: "A scheduled dev rotator run failed or expired unrun; the event is in the failed-runs queue",
          namespace: "AWS/SQS",
          metricName: "ApproximateNumberOfMessagesVisible",
          statistic: "Maximum",
          dimensions: { QueueName: "openclaw-rotator-dev-failed-runs" },
        },
        // The heartbeat: two schedule periods (rate(1 hour)) without a completed run, silence counting as failure.
        "openclaw-rotator-dev-no-recent-run": {
          ...rotator("Heartbeat"),
          name: "openclaw-rotator-dev-no-recent-run",
          alarmDescription: "No scheduled dev rotator run completed within its heartbeat window (schedule disabled, deployment broken or permissions lost)",
          period: 3600,
          evaluationPeriods: 2,
          datapointsToAlarm: 2,
          comparisonOperator: "LessThanThreshold",
          threshold: 1,
          treatMissingData: "breaching",
        },
      });
    });

    it("go to a topic named for the environment", () => {
      expect(dev.one(T.Topic).inputs.name).toBe("openclaw-rotator-dev-alarms");
    });

    const heartbeatOf = (d: Deployed) => {
      const alarm = d.all(T.Alarm).find((a) => a.inputs.metricName === "Heartbeat")?.inputs;
      return [alarm?.period, alarm?.evaluationPeriods, alarm?.datapointsToAlarm];
    };
    const maxEventAgeOf = (d: Deployed) => d.one(T.EventInvokeConfig).inputs.maximumEventAgeInSeconds;

    it.each([
      ["rate(15 minutes)", undefined, [900, 2, 2], 900],
      ["rate(12 hours)", undefined, [43_200, 2, 2], 21_600],
      // Two days is more than CloudWatch judges: one day, one period.
      ["rate(1 day)", undefined, [86_400, 1, 1], 21_600],
      ["cron(15 3 * * ? *)", "1d", [43_200, 2, 2], 21_600],
      ["rate(1 minute)", undefined, [60, 2, 2], 60],
    ])("watch a %s schedule (heartbeatWindow %s) over two periods where CloudWatch allows", async (schedule, heartbeatWindow, alarm, maxEventAge) => {
      const d = await deploy("dev", { schedule, heartbeatWindow }, `rotator-hb-${schedule.replace(/\W+/g, "-")}`);
      expect(heartbeatOf(d)).toEqual(alarm);
      expect(maxEventAgeOf(d)).toBe(maxEventAge);
    });
  });

  describe("scheduled runs through Lambda's async queue", () => {
    it("are not retried by Lambda, expire after one schedule interval and land in the failed-runs queue", () => {
      expect(dev.one(T.EventInvokeConfig).inputs).toEqual({
        functionName: "openclaw-rotator-dev",
        maximumRetryAttempts: 0,
        maximumEventAgeInSeconds: 3600,
        destinationConfig: { onFailure: { destination: `arn:aws:sqs:${REGION}:${ACCOUNT}:openclaw-rotator-dev-failed-runs` } },
      });
    });

    it("are configured only once the role may send to the queue", () => {
      const deps = dev.children.find((c) => c.type === T.EventInvokeConfig)?.opts.dependsOn as pulumi.Resource[];
      expect(deps.map((d) => dev.children.find((c) => c.resource === d)?.name)).toEqual(["rotator-dev-policy"]);
    });
  });

  describe("dashboard", () => {
    it("shows, per environment, the alarms and every rotator metric under the exact dimensions they are published with", () => {
      const dashboard = dev.one(T.Dashboard).inputs;
      expect(dashboard.dashboardName).toBe("openclaw-rotator-dev");
      const body = JSON.parse(dashboard.dashboardBody);
      const rotator = (metric: string) => ["OpenClawTokens", metric, "service", "openclaw-rotator", "environment", "dev"];
      const graph = (title: string, metrics: unknown[], stat = "Sum") => ({ title, region: REGION, view: "timeSeries", stacked: false, period: 300, stat, metrics });
      // In declaration order: the rotator's own failures first.
      const alarmArns = ["rotations-failed", "consumers-on-old-token", "bad-state", "dead-letters", "lambda-errors", "failed-runs", "no-recent-run"].map(
        (what) => `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:openclaw-rotator-dev-${what}`,
      );
      expect(dev.all(T.Alarm).map((a) => a.state.arn).sort()).toEqual([...alarmArns].sort());
      expect(body.widgets.map((w: { properties: unknown }) => w.properties)).toEqual([
        { title: "Rotator alarms (dev)", alarms: alarmArns },
        graph("Heartbeat: completed scheduled runs", [rotator("Heartbeat")]),
        graph("Tokens due, rotations started and completed", [rotator("TokensDue"), rotator("RotationsStarted"), rotator("RotationsCompleted")]),
        graph("Failures: rotations failed, bad state", [rotator("RotationsFailed"), rotator("BadState")]),
        graph("Consumers still on old tokens at the deadline", [rotator("ConsumersStillOnOldToken")]),
        graph(
          "Run duration (ms)",
          [
            ["AWS/Lambda", "Duration", "FunctionName", "openclaw-rotator-dev", { stat: "Average" }],
            ["AWS/Lambda", "Duration", "FunctionName", "openclaw-rotator-dev", { stat: "Maximum" }],
          ],
          "Average",
        ),
        graph("Lambda errors and undelivered or failed runs", [
          ["AWS/Lambda", "Errors", "FunctionName", "openclaw-rotator-dev"],
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "openclaw-rotator-dev-dlq", { stat: "Maximum" }],
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "openclaw-rotator-dev-failed-runs", { stat: "Maximum" }],
        ]),
      ]);
      // Laid out on CloudWatch's 24-column grid without overlaps.
      const cells = new Set<string>();
      for (const w of body.widgets) {
        expect(w.x + w.width).toBeLessThanOrEqual(24);
        for (let x = w.x; x < w.x + w.width; x++) for (let y = w.y; y < w.y + w.height; y++) {
          expect(cells.has(`${x},${y}`)).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    });

    it("is one per environment", () => {
      expect(prod.one(T.Dashboard).inputs.dashboardName).toBe("openclaw-rotator-prod");
      expect(prod.one(T.Dashboard).inputs.dashboardBody).not.toContain("dev");
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
    const base = { environment: "dev", gatewayUrl: GATEWAY.dev, bundleDir: BUNDLE_DIR } as const;
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
      [{ suspensionWindow: "an hour" }, /suspensionWindow: "an hour" is not a duration; .* or "0" for no suspension/],
      [{ suspensionWindow: "8d" }, /suspensionWindow: 8d is outside 1m..7d \("0" disables the suspension\)/],
      [{ maxConcurrency: 0 }, /maxConcurrency: 0 is not a whole number from 1 to 50/],
      [{ logRetentionDays: 10 }, /logRetentionDays: 10 is not a CloudWatch Logs retention; use one of 1, 3, 5, 7, 14, 30/],
      [{ lambdaTimeoutSeconds: 901 }, /lambdaTimeoutSeconds: 901 .* from 30 to 900/],
      [{ memorySize: 64 }, /memorySize: 64 .* from 128 to 10240/],
      [{ tracing: "on" }, /tracing: "on" is not true or false/],
      [{ alarmEmail: "oncall" }, /alarmEmail: "oncall" is not an email address/],
      [{ backend: "ssh" }, /backend: "ssh" is not a gateway backend; use one of documented-api/],
      [{ schedule: "cron(0 * * * ? *)" }, /heartbeatWindow: a cron schedule \(cron\(0 \* \* \* \? \*\)\) has no fixed interval; set heartbeatWindow/],
      [{ schedule: "rate(2 days)" }, /heartbeatWindow: rate\(2 days\) runs less than once a day/],
      [{ heartbeatWindow: "3d" }, /heartbeatWindow: "3d" is not a heartbeat window; write a duration from 2m to 1d/],
    ])("refuses %j", (overrides, message) => {
      expect(construct(overrides, `bad-${JSON.stringify(overrides).replace(/\W+/g, "-")}`)).toThrow(message);
    });

    it("refuses another environment's admin token, never quoting it", () => {
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

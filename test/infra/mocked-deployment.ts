/**
 * A RotatorDeployment constructed on Pulumi's mocks (installMocks first), with the children it declared and the
 * resources the engine registered for them: shared by the deployment tests and the tests that check its alarms and
 * IAM documents against real runs.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type * as Module from "../../infra/aws/rotator-deployment";
import type { PolicyDocument } from "../../infra/aws/rotator-policy";
import type { AlarmDefinition } from "../support/cloudwatch-alarms";
import { Registered, until, valueOf } from "./pulumi-mocks";

/** Admin:* tokens of the documented API's gateways: a documented-API deployment must refuse every one of them. */
export const ADMIN_TOKEN = {
  dev: "openclaw_gw_dev_fake-admin-token-dev",
  stage: "openclaw_gw_stage_fake-admin-token-stage",
  prod: "openclaw_gw_live_fake-admin-token-prod",
} as const;
/** OpenClaw's shared gateway tokens (gateway.auth.token), which an openclaw-devices deployment keeps in its admin secret. */
export const SHARED_TOKEN = {
  dev: "fake-openclaw-shared-token-dev",
  stage: "fake-openclaw-shared-token-stage",
  prod: "fake-openclaw-shared-token-prod",
} as const;
export const GATEWAY = { dev: "https://gateway-dev.openclaw.example", stage: "https://gateway-stage.openclaw.example", prod: "https://gateway.openclaw.example" } as const;
export type Env = keyof typeof ADMIN_TOKEN;

/** The arguments of an openclaw-devices deployment: the backend and OpenClaw's shared token, as a secret. */
export const openclawDevices = (env: Env): Partial<Module.RotatorDeploymentArgs> => ({ backend: "openclaw-devices", adminToken: pulumi.secret(SHARED_TOKEN[env]) });

/** A stand-in for the esbuild bundle: the component checks that index.js exists; the mocks never read it. */
export const BUNDLE_DIR = mkdtempSync(join(tmpdir(), "rotator-bundle-"));
writeFileSync(join(BUNDLE_DIR, "index.js"), "exports.handler = async () => {};\n");

export const T = {
  Secret: "aws:secretsmanager/secret:Secret",
  SecretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
  Table: "aws:dynamodb/table:Table",
  LogGroup: "aws:cloudwatch/logGroup:LogGroup",
  Role: "aws:iam/role:Role",
  RolePolicy: "aws:iam/rolePolicy:RolePolicy",
  Policy: "aws:iam/policy:Policy",
  Function: "aws:lambda/function:Function",
  Permission: "aws:lambda/permission:Permission",
  EventInvokeConfig: "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
  Queue: "aws:sqs/queue:Queue",
  Schedule: "aws:scheduler/schedule:Schedule",
  Topic: "aws:sns/topic:Topic",
  Subscription: "aws:sns/topicSubscription:TopicSubscription",
  Alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  Dashboard: "aws:cloudwatch/dashboard:Dashboard",
  EventRule: "aws:cloudwatch/eventRule:EventRule",
} as const;

export interface Deployed {
  readonly component: Module.RotatorDeployment;
  /** Every child as constructed: its type, logical name, raw inputs and options (with the parent). */
  readonly children: readonly pulumi.ResourceTransformationArgs[];
  /** The children as the engine registered them, inputs resolved. */
  readonly resources: readonly Registered[];
  readonly outputs: Record<string, string>;
  one(type: string, name?: string): Registered;
  all(type: string): Registered[];
}

/**
 * A deployment as the stack declares it: by default the documented API, which takes no admin token (its rotator
 * rotates its own credential); pass `openclawDevices(env)` for the admin-secret mode.
 */
export async function deployOnMocks(
  mod: typeof Module,
  registered: readonly Registered[],
  env: Env,
  overrides: Partial<Module.RotatorDeploymentArgs> = {},
  name = `rotator-${env}`,
): Promise<Deployed> {
  const children: pulumi.ResourceTransformationArgs[] = [];
  const component = new mod.RotatorDeployment(
    name,
    { environment: env, gatewayUrl: GATEWAY[env], bundleDir: BUNDLE_DIR, ...overrides },
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
      credentialSecretName: component.credentialSecretName,
      ledgerTableName: component.ledgerTableName,
      alarmTopicArn: component.alarmTopicArn,
      deadLetterQueueUrl: component.deadLetterQueueUrl,
      failedRunsQueueUrl: component.failedRunsQueueUrl,
      dashboardName: component.dashboardName,
      operatorPolicyArn: component.operatorPolicyArn,
      viewerPolicyArn: component.viewerPolicyArn,
      tokenDeployerPolicyArn: component.tokenDeployerPolicyArn,
      scheduleName: component.scheduleName,
    }),
  );
  return { component, children, outputs, ...(await registeredChildren(registered, children, name)) };
}

/** A component's children as the engine registered them (waited for), with lookups by type and logical name. */
export async function registeredChildren(registered: readonly Registered[], children: readonly pulumi.ResourceTransformationArgs[], name: string) {
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
  return { resources, one, all };
}

export const policyOf = (json: string): PolicyDocument => JSON.parse(json) as PolicyDocument;

/** Every alarm a deployment declares, as the evaluator reads it. */
export function alarmsOf(d: Deployed): AlarmDefinition[] {
  return d.all(T.Alarm).map((a) => a.inputs as AlarmDefinition);
}

/**
 * The stack program: one stack per environment, each declaring that environment's gateway tokens.
 * Configuration is validated as a whole first, so that a bad token is refused before any is created.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { GatewayToken } from "../src/provider/gateway-token";
import { RotatorDeployment } from "./aws/rotator-deployment";
import { TokenFrontDeployment } from "./aws/token-front";
import { loadStackConfig, protectToken } from "./config";
import { buildProviderRuntime } from "./provider-runtime";

const config = loadStackConfig();
buildProviderRuntime();

/**
 * The scheduled rotator (Lambda, schedule, ledger table, alarms), when `openclaw:rotator.deploy` is true. Off by
 * default, so that a stack that only declares tokens needs no AWS provider beyond Secrets Manager access.
 */
const rotatorDeployment = config.rotator.deploy
  ? new RotatorDeployment("rotator", {
      environment: config.environment,
      gatewayUrl: config.gatewayUrl,
      adminToken: config.adminToken,
      backend: config.backend,
      schedule: config.rotator.schedule,
      quietPeriod: config.rotator.quietPeriod,
      suspensionWindow: config.rotator.suspensionWindow,
      maxConcurrency: config.rotator.maxConcurrency,
      logRetentionDays: config.rotator.logRetentionDays,
      alarmEmail: config.rotator.alarmEmail,
      heartbeatWindow: config.rotator.heartbeatWindow,
      tracing: config.rotator.tracing,
    })
  : undefined;

// Prod tokens are protected from an accidental `pulumi destroy`; `protect: false` in a declaration opts out. The ledger
// table must exist before a token is recorded in it: the rotator's deployment, when there is one, creates it.
const tokens = config.tokens.map(({ protect: _protect, ...token }, i) =>
  new GatewayToken(
    token.name,
    {
      ...token,
      scopes: [...token.scopes],
      environment: config.environment,
      gatewayUrl: config.gatewayUrl,
      adminToken: config.adminToken,
      backend: config.backend,
    },
    { protect: protectToken(config.tokens[i], config.environment), ...(rotatorDeployment ? { dependsOn: [rotatorDeployment] } : {}) },
  ),
);

/** Per token, where its consumers read it: the secret's AWSCURRENT version. */
export const tokenSecrets = pulumi
  .all(tokens.map((t) => pulumi.all([t.urn, t.secretName, t.secretArn])))
  .apply((rows) => Object.fromEntries(rows.map(([urn, secretName, secretArn]) => [urn.split("::").pop() as string, { secretName, secretArn }])));
export const environment = config.environment;

/**
 * Secrets Manager's own rotation, pointed at the rotator, so that `aws secretsmanager rotate-secret` and the
 * console's "rotate now" work. Its schedule is only a backstop (Secrets Manager's longest, 1000 days): the
 * rotator's schedule rotates each token at its fraction of the TTL.
 */
if (rotatorDeployment) {
  tokens.forEach(
    (token, i) =>
      new aws.secretsmanager.SecretRotation(
        `${config.tokens[i].name}-rotation`,
        {
          secretId: token.secretArn,
          rotationLambdaArn: rotatorDeployment.functionArn,
          rotateImmediately: false,
          rotationRules: { automaticallyAfterDays: 1000 },
        },
        { parent: token, dependsOn: [rotatorDeployment] },
      ),
  );
}

export const rotator = rotatorDeployment && {
  functionName: rotatorDeployment.functionName,
  functionArn: rotatorDeployment.functionArn,
  roleArn: rotatorDeployment.roleArn,
  credentialSecretName: rotatorDeployment.credentialSecretName,
  ledgerTableName: rotatorDeployment.ledgerTableName,
  alarmTopicArn: rotatorDeployment.alarmTopicArn,
  deadLetterQueueUrl: rotatorDeployment.deadLetterQueueUrl,
  failedRunsQueueUrl: rotatorDeployment.failedRunsQueueUrl,
  dashboardName: rotatorDeployment.dashboardName,
  operatorPolicyArn: rotatorDeployment.operatorPolicyArn,
  viewerPolicyArn: rotatorDeployment.viewerPolicyArn,
  tokenDeployerPolicyArn: rotatorDeployment.tokenDeployerPolicyArn,
  scheduleName: rotatorDeployment.scheduleName,
};

/**
 * The token front fleet on AWS in front of a self-hosted OpenClaw, when `openclaw:front.deploy` is true (off by
 * default). `openclawConfig` is what to merge into the OpenClaw host's openclaw.json (docs/self-hosted-openclaw.md).
 */
const frontDeployment = config.front.deploy ? new TokenFrontDeployment("front", config.front.settings) : undefined;

export const front = frontDeployment && {
  url: frontDeployment.url,
  loadBalancerDnsName: frontDeployment.loadBalancerDnsName,
  loadBalancerZoneId: frontDeployment.loadBalancerZoneId,
  clusterName: frontDeployment.clusterName,
  serviceName: frontDeployment.serviceName,
  registryTableName: frontDeployment.registryTableName,
  logGroupName: frontDeployment.logGroupName,
  taskRoleArn: frontDeployment.taskRoleArn,
  trustedProxies: frontDeployment.trustedProxies,
  openclawConfig: frontDeployment.openclawConfig,
};

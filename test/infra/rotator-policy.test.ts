import {
  lambdaAssumeRolePolicy,
  PolicyStatement,
  rotatorCredentialArnPattern,
  rotatorPolicyDocument,
  RotatorPolicyContext,
  scheduleArn,
  schedulerAssumeRolePolicy,
  schedulerPolicyDocument,
  tokenSecretsArnPattern,
  wildcardActions,
} from "../../infra/aws/rotator-policy";
import { arnMatches } from "./pulumi-mocks";

const ADMIN_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:openclaw-admin/stage/gateway-Q1w2E3";
const CREDENTIAL_ARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:openclaw-admin/stage/rotator-Zx9Yw8";

const context: RotatorPolicyContext = {
  partition: "aws",
  region: "us-east-1",
  accountId: "111122223333",
  environment: "stage",
  // The documented API: the rotator's own credential, which it rotates.
  credential: { kind: "self-rotated", arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:openclaw-admin/stage/rotator-??????" },
  ledgerTableArn: "arn:aws:dynamodb:us-east-1:111122223333:table/openclaw-rotator-stage-ledger",
  logGroupArn: "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/openclaw-rotator-stage",
  failedRunsQueueArn: "arn:aws:sqs:us-east-1:111122223333:openclaw-rotator-stage-failed-runs",
};

describe("rotatorPolicyDocument", () => {
  const document = rotatorPolicyDocument(context);
  const statement = (sid: string): PolicyStatement => {
    const found = document.Statement.filter((s) => s.Sid === sid);
    expect(found).toHaveLength(1);
    return found[0];
  };

  it("has exactly these statements, in this order", () => {
    expect(document.Version).toBe("2012-10-17");
    expect(document.Statement.map((s) => `${s.Effect} ${s.Sid}`)).toEqual([
      "Allow RotateThisEnvironmentsTokens",
      "Allow RotateOwnCredential",
      "Allow ReadLedger",
      "Allow WriteRotationStateOnly",
      "Allow WriteOwnLogs",
      "Allow RecordFailedRuns",
      "Allow PublishRotationEvents",
      "Deny KeepIdentityTags",
    ]);
  });

  it("lets the rotator work on openclaw/<env>/* secrets that carry its environment tag, and nothing else", () => {
    expect(statement("RotateThisEnvironmentsTokens")).toEqual({
      Sid: "RotateThisEnvironmentsTokens",
      Effect: "Allow",
      Action: [
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
      ],
      Resource: ["arn:aws:secretsmanager:us-east-1:111122223333:secret:openclaw/stage/*"],
      Condition: {
        StringEquals: { "aws:ResourceTag/openclaw:environment": "stage" },
      },
    });
  });

  it("grants no secret creation, deletion, restore, rotation setup or policy change", () => {
    const actions = document.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => s.Action);
    for (const forbidden of [
      "secretsmanager:CreateSecret",
      "secretsmanager:DeleteSecret",
      "secretsmanager:RestoreSecret",
      "secretsmanager:RotateSecret",
      "secretsmanager:PutResourcePolicy",
      "secretsmanager:DeleteResourcePolicy",
    ]) {
      expect(actions).not.toContain(forbidden);
    }
  });

  it("neither lists secrets nor writes tags: the rotation state is in the ledger, and nothing is on \"*\"", () => {
    const actions = document.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => s.Action);
    for (const gone of ["secretsmanager:ListSecrets", "secretsmanager:TagResource", "secretsmanager:UntagResource"]) expect(actions).not.toContain(gone);
    expect(document.Statement.filter((s) => s.Resource?.includes("*"))).toEqual([]);
  });

  it("rotates its own credential like a token: versions and stages of that one secret, tagged for its environment", () => {
    expect(rotatorCredentialArnPattern(context, "stage")).toBe(context.credential.arn);
    expect(statement("RotateOwnCredential")).toEqual({
      Sid: "RotateOwnCredential",
      Effect: "Allow",
      Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"],
      Resource: ["arn:aws:secretsmanager:us-east-1:111122223333:secret:openclaw-admin/stage/rotator-??????"],
      Condition: { StringEquals: { "aws:ResourceTag/openclaw:environment": "stage" } },
    });
    // The pattern is the credential's name and Secrets Manager's 6-character suffix: not the admin secret, not a
    // longer name, not another environment's credential; and the tokens' namespace does not reach it.
    const pattern = context.credential.arn;
    expect([CREDENTIAL_ARN, ADMIN_SECRET_ARN, CREDENTIAL_ARN.replace("rotator-", "rotator-x-"), CREDENTIAL_ARN.replace("/stage/", "/prod/")].map((arn) => arnMatches(pattern, arn))).toEqual([
      true,
      false,
      false,
      false,
    ]);
    expect(arnMatches(tokenSecretsArnPattern(context, "stage"), CREDENTIAL_ARN)).toBe(false);
    expect(document.Statement.map((s) => s.Sid)).not.toContain("ReadGatewayAdminToken");
  });

  it("on openclaw-devices, reads the admin secret (OpenClaw's shared token) and does nothing else with it", () => {
    const devices = rotatorPolicyDocument({ ...context, credential: { kind: "admin-secret", arn: ADMIN_SECRET_ARN } });
    expect(devices.Statement.map((s) => `${s.Effect} ${s.Sid}`)).toEqual([
      "Allow RotateThisEnvironmentsTokens",
      "Allow ReadGatewayAdminToken",
      "Allow ReadLedger",
      "Allow WriteRotationStateOnly",
      "Allow WriteOwnLogs",
      "Allow RecordFailedRuns",
      "Allow PublishRotationEvents",
      "Deny KeepIdentityTags",
    ]);
    expect(devices.Statement[1]).toEqual({ Sid: "ReadGatewayAdminToken", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [ADMIN_SECRET_ARN] });
    // The tokens' namespace pattern does not reach the admin secret (openclaw-admin/ is not openclaw/).
    expect(arnMatches(tokenSecretsArnPattern(context, "stage"), ADMIN_SECRET_ARN)).toBe(false);
    // Every other statement is the documented API's.
    expect(devices.Statement.filter((s) => s.Sid !== "ReadGatewayAdminToken")).toEqual(document.Statement.filter((s) => s.Sid !== "RotateOwnCredential"));
  });

  it("reads the ledger and writes only its rotation state: never a declaration, never a new or deleted entry", () => {
    expect(statement("ReadLedger")).toEqual({
      Sid: "ReadLedger",
      Effect: "Allow",
      Action: ["dynamodb:GetItem", "dynamodb:Query"],
      Resource: [context.ledgerTableArn, `${context.ledgerTableArn}/index/*`],
    });
    expect(statement("WriteRotationStateOnly")).toEqual({
      Sid: "WriteRotationStateOnly",
      Effect: "Allow",
      Action: ["dynamodb:UpdateItem"],
      Resource: [context.ledgerTableArn],
      Condition: { "ForAllValues:StringEquals": { "dynamodb:Attributes": ["pk", "state", "lease", "version", "nextCheckAtMs", "dueBucket"] } },
    });
    const actions = document.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => s.Action);
    for (const forbidden of ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan", "dynamodb:BatchWriteItem"]) expect(actions).not.toContain(forbidden);
  });

  it("writes its own log group's streams only", () => {
    expect(statement("WriteOwnLogs")).toEqual({
      Sid: "WriteOwnLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [context.logGroupArn, `${context.logGroupArn}:*`],
    });
    const stream = `${context.logGroupArn}:log-stream:2026/01/01/[$LATEST]abc`;
    expect(statement("WriteOwnLogs").Resource?.some((p) => arnMatches(p, stream))).toBe(true);
    expect(statement("WriteOwnLogs").Resource?.some((p) => arnMatches(p, `${context.logGroupArn}-other:log-stream:x`))).toBe(false);
  });

  it("sends to its own failed-runs queue only (Lambda's on-failure destination uses the function's role)", () => {
    expect(statement("RecordFailedRuns")).toEqual({
      Sid: "RecordFailedRuns",
      Effect: "Allow",
      Action: ["sqs:SendMessage"],
      Resource: ["arn:aws:sqs:us-east-1:111122223333:openclaw-rotator-stage-failed-runs"],
    });
  });

  it("publishes events to the account's default bus in its region only", () => {
    expect(statement("PublishRotationEvents")).toEqual({
      Sid: "PublishRotationEvents",
      Effect: "Allow",
      Action: ["events:PutEvents"],
      Resource: ["arn:aws:events:us-east-1:111122223333:event-bus/default"],
    });
  });

  it("forbids removing the tags the tag fence relies on", () => {
    expect(statement("KeepIdentityTags")).toEqual({
      Sid: "KeepIdentityTags",
      Effect: "Deny",
      Action: ["secretsmanager:UntagResource"],
      Resource: ["arn:aws:secretsmanager:us-east-1:111122223333:secret:openclaw/stage/*"],
      Condition: { "ForAnyValue:StringEquals": { "aws:TagKeys": ["openclaw:environment", "openclaw:managed-by"] } },
    });
  });

  it("names every action: no wildcard, no secretsmanager:*", () => {
    const actions = document.Statement.flatMap((s) => s.Action);
    expect(wildcardActions(document)).toEqual([]);
    expect(actions).not.toContain("*");
    expect(actions).not.toContain("secretsmanager:*");
    expect(actions.every((a) => /^[a-z0-9]+:[A-Za-z]+$/.test(a))).toBe(true);
  });

  it("follows the partition (GovCloud, China)", () => {
    const gov = rotatorPolicyDocument({ ...context, partition: "aws-us-gov", region: "us-gov-west-1" });
    expect(gov.Statement[0].Resource).toEqual(["arn:aws-us-gov:secretsmanager:us-gov-west-1:111122223333:secret:openclaw/stage/*"]);
  });

  it("confines each environment to its own namespace", () => {
    const secret = (env: string) => `arn:aws:secretsmanager:us-east-1:111122223333:secret:openclaw/${env}/app-backend-AbCdEf`;
    for (const mine of ["dev", "stage", "prod"] as const) {
      const pattern = tokenSecretsArnPattern(context, mine);
      expect(["dev", "stage", "prod"].filter((env) => arnMatches(pattern, secret(env)))).toEqual([mine]);
    }
  });
});

describe("wildcardActions", () => {
  it("finds any action with a wildcard", () => {
    expect(
      wildcardActions({
        Version: "2012-10-17",
        Statement: [{ Sid: "A", Effect: "Allow", Action: ["secretsmanager:*", "s3:Get*", "sqs:SendMessage"], Resource: ["*"] }],
      }),
    ).toEqual(["secretsmanager:*", "s3:Get*"]);
  });
});

describe("trust and scheduler policies", () => {
  it("lets only Lambda assume the rotator's role", () => {
    expect(lambdaAssumeRolePolicy().Statement).toEqual([
      { Sid: "LambdaService", Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: ["sts:AssumeRole"] },
    ]);
  });

  it("lets only this account's one schedule assume the scheduler's role", () => {
    const arn = scheduleArn(context, "default", "openclaw-rotator-stage");
    expect(arn).toBe("arn:aws:scheduler:us-east-1:111122223333:schedule/default/openclaw-rotator-stage");
    expect(schedulerAssumeRolePolicy(context, arn).Statement).toEqual([
      {
        Sid: "ThisScheduleOnly",
        Effect: "Allow",
        Principal: { Service: "scheduler.amazonaws.com" },
        Action: ["sts:AssumeRole"],
        Condition: { StringEquals: { "aws:SourceAccount": "111122223333", "aws:SourceArn": arn } },
      },
    ]);
  });

  it("lets the scheduler invoke one function and write one queue", () => {
    const fn = "arn:aws:lambda:us-east-1:111122223333:function:openclaw-rotator-stage";
    const dlq = "arn:aws:sqs:us-east-1:111122223333:openclaw-rotator-stage-dlq";
    expect(schedulerPolicyDocument(fn, dlq)).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Sid: "InvokeRotator", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [fn] },
        { Sid: "DeadLetters", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [dlq] },
      ],
    });
  });
});

/**
 * The people and pipelines around one environment's rotator, each with its own IAM policy (RotatorDeployment
 * creates them as managed policies to attach to a team's roles):
 *
 *   - operator:       leak response and manual rotation with the CLI (`revoke --emergency`, `rotate`, `verify`):
 *                     what the rotator may do, plus nothing else.
 *   - viewer:         `status` without any secret value: names, tags and the token table; every secret value of the
 *                     environment, the gateway admin token included, is explicitly denied.
 *   - token deployer: what `pulumi up`/`destroy` of GatewayToken resources does to Secrets Manager (the provider
 *                     runtime): create, tag, write and delete the environment's token secrets.
 *
 * All are fenced like the rotator: the `openclaw/<env>/` namespace AND the environment tag, with the identity tags
 * never removable. None may write the admin secret (`openclaw-admin/<env>/gateway`), which only the stack writes; the
 * rotator credential (`openclaw-admin/<env>/rotator`) is written by the rotator, and created by the token deployer.
 */
import { Environment } from "../../src/domain/environments";
import { Tag } from "../../src/store/metadata";
import { AwsLocation, LEDGER_DEPLOYER_ACTIONS, RotatorCredentialLocation, LEDGER_ROTATOR_ATTRIBUTES, PolicyDocument, PolicyStatement, tableAndIndexes, TOKEN_SECRET_ACTIONS, tokenSecretsArnPattern } from "./rotator-policy";

export interface AccessPolicyContext extends AwsLocation {
  readonly environment: Environment;
  /** The rotator's gateway credential: the CLI acts with it too (see rotator-policy.ts). */
  readonly credential: RotatorCredentialLocation;
  /** The environment's ledger table (src/ledger/). */
  readonly ledgerTableArn: string;
}

/** The statements every role that touches token secrets shares: the tag fence, and the identity tags kept. */
function tokenFence(ctx: AccessPolicyContext) {
  const tokenSecrets = tokenSecretsArnPattern(ctx, ctx.environment);
  return {
    tokenSecrets,
    condition: {
      StringEquals: { [`aws:ResourceTag/${Tag.Environment}`]: ctx.environment },
      StringEqualsIfExists: { [`aws:RequestTag/${Tag.Environment}`]: ctx.environment },
    },
    keepIdentityTags: {
      Sid: "KeepIdentityTags",
      Effect: "Deny",
      Action: ["secretsmanager:UntagResource"],
      Resource: [tokenSecrets],
      Condition: { "ForAnyValue:StringEquals": { "aws:TagKeys": [Tag.Environment, Tag.ManagedBy] } },
    } satisfies PolicyStatement,
  };
}

/** Leak response and manual rotation with the CLI: the rotator's own permissions on the environment, nothing more. */
export function operatorPolicyDocument(ctx: AccessPolicyContext): PolicyDocument {
  const fence = tokenFence(ctx);
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "OperateThisEnvironmentsTokens", Effect: "Allow", Action: TOKEN_SECRET_ACTIONS, Resource: [fence.tokenSecrets], Condition: fence.condition },
      // The CLI talks to the gateway with the rotator's credential, as the rotator does; it reads it and never writes it
      // (a break-glass token a human gives for one command, OPENCLAW_ADMIN_TOKEN, needs no AWS permission).
      { Sid: "ReadGatewayCredential", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [ctx.credential.arn] },
      // The CLI lists the ledger (status) and, like the rotator, writes only rotation state: `revoke --emergency` takes a
      // token's entry over, so that a scheduled run stops at its next write. Never a declaration.
      { Sid: "ReadLedger", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:Query"], Resource: tableAndIndexes(ctx.ledgerTableArn) },
      {
        Sid: "WriteRotationStateOnly",
        Effect: "Allow",
        Action: ["dynamodb:UpdateItem"],
        Resource: [ctx.ledgerTableArn],
        Condition: { "ForAllValues:StringEquals": { "dynamodb:Attributes": LEDGER_ROTATOR_ATTRIBUTES } },
      },
      fence.keepIdentityTags,
    ],
  };
}

/** `status` without any secret: the ledger only. Secret values are denied even if another policy allows them. */
export function viewerPolicyDocument(ctx: AccessPolicyContext): PolicyDocument {
  const fence = tokenFence(ctx);
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ReadLedger", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:Query"], Resource: tableAndIndexes(ctx.ledgerTableArn) },
      {
        // A viewer's role may carry broader read policies (ReadOnlyAccess, a team's own): no value of this
        // environment, token or admin, is readable through this role whatever else it holds.
        Sid: "NeverReadSecretValues",
        Effect: "Deny",
        Action: ["secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue"],
        Resource: [fence.tokenSecrets, ctx.credential.arn],
      },
    ],
  };
}

/** What the GatewayToken provider does during `pulumi up` and `pulumi destroy`. */
export function tokenDeployerPolicyDocument(ctx: AccessPolicyContext): PolicyDocument {
  const fence = tokenFence(ctx);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        // A new secret must be created with this environment's tag: the fence every other statement relies on.
        // TagResource is authorized with CreateSecret when the request carries tags.
        Sid: "CreateTokenSecretsTagged",
        Effect: "Allow",
        Action: ["secretsmanager:CreateSecret", "secretsmanager:TagResource"],
        Resource: [fence.tokenSecrets],
        // And never onto an existing secret of another environment (a new one has no tags yet).
        Condition: {
          StringEquals: { [`aws:RequestTag/${Tag.Environment}`]: ctx.environment },
          StringEqualsIfExists: { [`aws:ResourceTag/${Tag.Environment}`]: ctx.environment },
        },
      },
      {
        // `create` first asks whether the secret exists (to restore one pending deletion). A secret that does not exist
        // has no tags, so a tag condition would turn "not found" into AccessDenied: this one read of names and tags
        // (never a value) is fenced by the namespace alone.
        Sid: "LookUpTokenSecrets",
        Effect: "Allow",
        Action: ["secretsmanager:DescribeSecret"],
        Resource: [fence.tokenSecrets],
      },
      {
        // Replacing and destroying tokens: new versions, stage moves, tags, deletion (with its recovery window) and restore.
        Sid: "ManageThisEnvironmentsTokens",
        Effect: "Allow",
        Action: [...TOKEN_SECRET_ACTIONS.filter((a) => a !== "secretsmanager:DescribeSecret"), "secretsmanager:DeleteSecret", "secretsmanager:RestoreSecret"],
        Resource: [fence.tokenSecrets],
        Condition: fence.condition,
      },
      // Tokens declared without adminToken are minted with the rotator's credential (read per operation, never
      // stored); bootstrap-rotator, run by the deployer with the break-glass token, creates that credential's secret.
      ...credentialStatements(ctx),
      // The ledger: the deployer writes declarations and whole entries (create, scope change, destroy).
      { Sid: "WriteLedger", Effect: "Allow", Action: LEDGER_DEPLOYER_ACTIONS, Resource: tableAndIndexes(ctx.ledgerTableArn) },
      fence.keepIdentityTags,
    ],
  };
}

/** The deployer's access to the rotator credential: read it (documented API), and create it once (bootstrap-rotator). */
function credentialStatements(ctx: AccessPolicyContext): PolicyStatement[] {
  if (ctx.credential.kind === "admin-secret") return [];
  return [
    { Sid: "ReadRotatorCredential", Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: [ctx.credential.arn] },
    {
      Sid: "BootstrapRotatorCredential",
      Effect: "Allow",
      Action: ["secretsmanager:CreateSecret", "secretsmanager:TagResource"],
      Resource: [ctx.credential.arn],
      Condition: {
        StringEquals: { [`aws:RequestTag/${Tag.Environment}`]: ctx.environment },
        StringEqualsIfExists: { [`aws:ResourceTag/${Tag.Environment}`]: ctx.environment },
      },
    },
    // Replacing a dead credential is a rotation (a new version, the stages moved): requests that carry no tags, so
    // fenced by the secret's own environment tag (a request-tag condition would deny them all).
    {
      Sid: "ReplaceRotatorCredential",
      Effect: "Allow",
      Action: ["secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"],
      Resource: [ctx.credential.arn],
      Condition: { StringEquals: { [`aws:ResourceTag/${Tag.Environment}`]: ctx.environment } },
    },
  ];
}

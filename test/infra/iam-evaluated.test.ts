/**
 * IAM evaluated, not asserted. The provider runtime, the bundled rotator Lambda and the operator CLI run for real on
 * moto and the reference gateway, each signing as its own principal through a recorder that authorizes every AWS
 * call with a real IAM evaluator against the policy documents the Pulumi-mocked deployment generates (a denied call
 * is answered AccessDenied, as AWS would). Then the matrix: every call of its own environment was allowed; the same
 * calls on another environment's resources are denied; and a list of calls no role may make is denied.
 */
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DescribeSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type * as Module from "../../infra/aws/rotator-deployment";
import type { PolicyDocument } from "../../infra/aws/rotator-policy";
import { runCli } from "../cli/run-cli";
import { AwsCall, AwsCallRecorder, RecordedCall, startAwsCallRecorder } from "../support/aws-call-recorder";
import { decide, Decision } from "../support/iam-evaluation";
import { DAY, RotationHarness } from "../support/rotation-harness";
import { runBundledRotator } from "../support/run-rotator";
import { runProvider } from "../support/run-provider";
import { Deployed, deployOnMocks, policyOf, T } from "./mocked-deployment";
import { ACCOUNT, installMocks } from "./pulumi-mocks";

jest.setTimeout(240_000);

// moto's account is the mocks' ACCOUNT; the mocked deployment is placed in moto's region.
const REGION = "us-east-1";
const PRINCIPALS = ["rotator", "operator", "viewer", "token-deployer"] as const;
type Principal = (typeof PRINCIPALS)[number];

describe("IAM evaluated on the calls of real local runs", () => {
  let h: RotationHarness;
  let dev: Deployed;
  let prod: Deployed;
  let recorder: AwsCallRecorder;
  const policiesOf = (d: Deployed, principal: Principal): Record<string, PolicyDocument> =>
    principal === "rotator"
      ? { rotator: policyOf(d.one(T.RolePolicy, `rotator-${envOf(d)}-policy`).inputs.policy) }
      : { [principal]: policyOf(d.one(T.Policy, `rotator-${envOf(d)}-${principal}-policy`).inputs.policy) };
  const envOf = (d: Deployed) => (d === dev ? "dev" : "prod");
  const recorded = (principal: Principal) => recorder.calls.filter((c) => c.principal === principal);

  beforeAll(async () => {
    h = await RotationHarness.start();
    // The stack's admin secret exists in moto (the harness created it); the mocks give the deployment its real ARN.
    const direct = new SecretsManagerClient({});
    const adminArn = (await direct.send(new DescribeSecretCommand({ SecretId: "openclaw-admin/dev/gateway" }))).ARN as string;
    direct.destroy();
    const registered = await installMocks("iam", { region: REGION, secretArn: (name) => (name === "openclaw-admin/dev/gateway" ? adminArn : undefined) });
    const mod: typeof Module = await import("../../infra/aws/rotator-deployment");
    dev = await deployOnMocks(mod, registered, "dev");
    prod = await deployOnMocks(mod, registered, "prod");
    await createDeclaredTable(dev.one(T.Table).inputs);

    recorder = await startAwsCallRecorder({
      motoEndpoint: h.moto.endpoint,
      region: REGION,
      account: ACCOUNT,
      async authorize(call) {
        if (!(PRINCIPALS as readonly string[]).includes(call.principal)) return `unknown principal ${call.principal}`;
        const decision = await decide(policiesOf(dev, call.principal as Principal), call, ACCOUNT);
        return decision === "Allowed" ? undefined : `User: ${call.principal} is not authorized to perform: ${call.action} on resource: ${call.resource} (${decision})`;
      },
    });

    // pulumi up: the provider runtime declares three tokens; pulumi destroy removes one.
    const provider = await runProvider(recorder.envFor("token-deployer"), [
      ...["ci-runner", "dashboard", "retired"].map((name) => ({
        op: "create" as const,
        inputs: { name, scopes: ["run:jobs"], ttl: "30d", environment: "dev", gatewayUrl: h.gateway.url, adminToken: h.gateway.adminToken, recoveryWindowDays: 7 },
      })),
      { op: "delete" as const, name: "retired" },
    ]);
    expect({ code: provider.code, out: provider.code ? provider.stdout.slice(-1500) + provider.stderr.slice(-1500) : "" }).toEqual({ code: 0, out: "" });
    expect(recorder.calls.filter((c) => c.denied).map((c) => c.denied)).toEqual([]);

    // Scheduled runs, with exactly the environment the deployment gives the function (but the local gateway).
    // The suspension's grace window (an hour, and gateway calls only) is left out, so that two runs complete a rotation.
    const functionEnv = { ...dev.one(T.Function).inputs.environment.variables, OPENCLAW_GATEWAY_URL: h.gateway.url, OPENCLAW_SUSPENSION_WINDOW: "0", ...recorder.envFor("rotator") };
    await h.advance(25 * DAY);
    const first = await runBundledRotator(h, { event: { kind: "scheduled-scan" }, env: functionEnv });
    expect(first.result.outcomes).toEqual({ "openclaw/dev/ci-runner": "waiting", "openclaw/dev/dashboard": "waiting" });
    for (const name of ["ci-runner", "dashboard"]) expect(await h.consume(await h.current(name))).toBe(201);
    await h.advance(20 * 60_000);
    const second = await runBundledRotator(h, { event: { kind: "scheduled-scan" }, env: functionEnv });
    expect(second.result.outcomes).toEqual({ "openclaw/dev/ci-runner": "completed", "openclaw/dev/dashboard": "completed" });

    // The operator's CLI: a manual rotation, a leak response, a check; the viewer's status.
    const cli = (principal: Principal, args: string[]) =>
      runCli(h, [...args, "--environment", "dev"], { bare: true, env: { ...recorder.envFor(principal), OPENCLAW_CLOCK_OFFSET_MS: String(h.clock.offsetMs) } });
    for (const args of [["rotate", "ci-runner"], ["revoke", "dashboard", "--emergency"], ["verify", "ci-runner"]]) {
      const run = await cli("operator", args);
      expect({ args, code: run.code, stderr: run.code ? run.stderr : "" }).toEqual({ args, code: 0, stderr: "" });
    }
    viewerStatus = await cli("viewer", ["status", "--json"]);
    viewerLive = await cli("viewer", ["status", "--json", "--live"]);
  });
  let viewerStatus: { code: number; stdout: string; stderr: string };
  let viewerLive: { code: number; stdout: string; stderr: string };

  afterAll(async () => {
    await recorder?.stop();
    await h?.stop();
  });

  /** The table the deployment declares, created in moto as the stack would (keys and indexes from its inputs). */
  async function createDeclaredTable(table: Record<string, any>): Promise<void> {
    const client = new DynamoDBClient({});
    // The harness made the ledger table from the code's own definition: replace it with the deployment's.
    await client.send(new DeleteTableCommand({ TableName: table.name })).catch(() => undefined);
    const indexes = (table.globalSecondaryIndexes ?? []) as Array<{ name: string; hashKey: string; rangeKey?: string; projectionType: string }>;
    await client.send(
      new CreateTableCommand({
        TableName: table.name,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: (table.attributes as Array<{ name: string; type: "S" | "N" | "B" }>).map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
        KeySchema: [{ AttributeName: table.hashKey, KeyType: "HASH" }, ...(table.rangeKey ? [{ AttributeName: table.rangeKey, KeyType: "RANGE" as const }] : [])],
        ...(indexes.length
          ? {
              GlobalSecondaryIndexes: indexes.map((i) => ({
                IndexName: i.name,
                KeySchema: [{ AttributeName: i.hashKey, KeyType: "HASH" as const }, ...(i.rangeKey ? [{ AttributeName: i.rangeKey, KeyType: "RANGE" as const }] : [])],
                Projection: { ProjectionType: i.projectionType as "ALL" },
              })),
            }
          : {}),
      }),
    );
    client.destroy();
  }

  const show = (c: AwsCall) => `${c.action} ${c.resource}`;
  const judge = async (d: Deployed, principal: Principal, call: AwsCall): Promise<Decision> => decide(policiesOf(d, principal), call, ACCOUNT);

  it("recorded every role's calls, secret and table alike", () => {
    const actions = (p: Principal) => [...new Set(recorded(p).map((c) => c.action))].sort();
    const services = (p: Principal) => [...new Set(actions(p).map((a) => a.split(":")[0]))].sort();
    expect(actions("token-deployer")).toEqual(expect.arrayContaining(["secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:DescribeSecret"]));
    // The rotation itself: read the admin token and the values, write a version, move the stages; and its table.
    expect(actions("rotator")).toEqual(expect.arrayContaining(["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"]));
    expect(services("rotator")).toEqual(["dynamodb", "events", "secretsmanager"]);
    // Its milestone events go to the account's default bus, the one bus its policy names.
    expect([...new Set(recorded("rotator").filter((c) => c.action === "events:PutEvents").map((c) => c.resource))]).toEqual([`arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`]);
    expect(actions("operator")).toEqual(expect.arrayContaining(["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"]));
    expect(services("operator")).toEqual(["dynamodb", "secretsmanager"]);
    expect(recorded("viewer").length).toBeGreaterThan(0);
  });

  it("allowed every call of its own environment (the runs met the policies as AWS would enforce them)", () => {
    const denied = (p: Principal) => recorded(p).filter((c) => c.denied).map(show);
    expect({ deployer: denied("token-deployer"), rotator: denied("rotator"), operator: denied("operator") }).toEqual({ deployer: [], rotator: [], operator: [] });
  });

  it("lets the viewer see status from the ledger alone; --live is refused the admin token and still answers", () => {
    const denied = recorded("viewer").filter((c) => c.denied);
    // Plain status touches no secret at all; --live tries the admin token once, is denied, and shows the ledger's view.
    expect(denied.map(show)).toEqual([`secretsmanager:GetSecretValue ${dev.outputs.adminSecretArn}`]);
    expect(recorded("viewer").filter((c) => !c.denied && c.action.startsWith("secretsmanager:"))).toEqual([]);
    for (const run of [viewerStatus, viewerLive]) {
      expect(run.code).toBe(0);
      const rows = JSON.parse(run.stdout) as Array<{ name: string }>;
      expect(rows.map((r) => r.name).sort()).toEqual(["ci-runner", "dashboard"]);
    }
    expect(viewerLive.stderr).toMatch(/may not read the gateway admin token/);
  });

  /** A call moved to another environment: its resources' names and ARNs, and every environment tag. */
  function inEnvironment(call: AwsCall, env: string): AwsCall {
    const retag = (tags: Readonly<Record<string, string>>) =>
      Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, k === "openclaw:environment" ? env : v]));
    return {
      ...call,
      resource: call.resource.replace("secret:openclaw/dev/", `secret:openclaw/${env}/`).replace("secret:openclaw-admin/dev/", `secret:openclaw-admin/${env}/`).replace("openclaw-rotator-dev", `openclaw-rotator-${env}`),
      resourceTags: retag(call.resourceTags),
      requestTags: retag(call.requestTags),
    };
  }

  /**
   * Actions a policy fences by the environment's namespace alone, on purpose: the token deployer's existence check
   * (DescribeSecret before CreateSecret) must see "not found", which a tag condition would turn into AccessDenied.
   */
  const NAMESPACE_FENCE_ONLY: Record<Principal, readonly string[]> = { rotator: [], operator: [], viewer: [], "token-deployer": ["secretsmanager:DescribeSecret"] };

  const distinctCalls = (calls: readonly RecordedCall[]) => {
    const seen = new Map<string, AwsCall>();
    for (const { denied, ...call } of calls) if (!denied) seen.set(JSON.stringify(call), call);
    return [...seen.values()];
  };

  it.each(PRINCIPALS)("denies the %s's calls on another environment's resources, by name and by tag", async (principal) => {
    expect(recorded(principal).length).toBeGreaterThan(0);
    // ListSecrets has no resource: IAM cannot scope it. The default event bus is the account's, shared by every
    // environment on purpose (rules match the environment in the event's detail).
    const calls = distinctCalls(recorded(principal)).filter((c) => c.resource !== "*" && c.action !== "events:PutEvents");
    const allowedElsewhere: string[] = [];
    for (const call of calls) {
      for (const env of ["prod", "stage"]) {
        const moved = inEnvironment(call, env);
        expect(moved.resource).not.toBe(call.resource); // every recorded resource is named for its environment
        if ((await judge(dev, principal, moved)) === "Allowed") allowedElsewhere.push(`dev policy: ${show(moved)}`);
      }
      // The prod deployment's policy on dev's resources.
      if ((await judge(prod, principal, call)) === "Allowed") allowedElsewhere.push(`prod policy: ${show(call)}`);
      // A secret of dev's namespace tagged (or being tagged) for prod: the tag fence holds on its own.
      if (call.action.startsWith("secretsmanager:") && !call.resource.includes("openclaw-admin/") && !NAMESPACE_FENCE_ONLY[principal].includes(call.action)) {
        const retagged = { ...inEnvironment(call, "prod"), resource: call.resource };
        if (Object.keys(retagged.resourceTags).length + Object.keys(retagged.requestTags).length > 0 && (await judge(dev, principal, retagged)) === "Allowed") {
          allowedElsewhere.push(`tag fence: ${show(retagged)}`);
        }
      }
    }
    expect(allowedElsewhere).toEqual([]);
  });

  /** Calls no role of this list may make, on dev's own resources unless said otherwise. */
  function forbidden(): Record<Principal, AwsCall[]> {
    const token = recorder.calls.find((c) => c.principal === "rotator" && c.action.startsWith("secretsmanager:") && c.resource.includes(":secret:openclaw/dev/")) as AwsCall;
    const admin = dev.outputs.adminSecretArn;
    const table = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${dev.outputs.ledgerTableName}`;
    const devTags = token.resourceTags;
    const on = (principal: Principal, action: string, resource: string, extra: Partial<AwsCall> = {}): AwsCall => ({
      principal,
      action,
      resource,
      resourceTags: resource === token.resource ? devTags : {},
      requestTags: {},
      ...extra,
    });
    const prodToken = inEnvironment(token, "prod");
    const common = (p: Principal): AwsCall[] => [
      on(p, "secretsmanager:PutResourcePolicy", token.resource),
      on(p, "secretsmanager:DeleteResourcePolicy", token.resource),
      on(p, "secretsmanager:PutSecretValue", admin),
      on(p, "secretsmanager:UpdateSecret", admin),
      on(p, "secretsmanager:DeleteSecret", admin),
      on(p, "secretsmanager:TagResource", admin, { requestTags: { "openclaw:environment": "dev" }, tagKeys: ["openclaw:environment"] }),
      { ...prodToken, principal: p, action: "secretsmanager:GetSecretValue" },
      on(p, "secretsmanager:GetSecretValue", admin.replace("openclaw-admin/dev/", "openclaw-admin/prod/")),
      on(p, "secretsmanager:UntagResource", token.resource, { tagKeys: ["openclaw:environment"] }),
      on(p, "secretsmanager:UntagResource", token.resource, { tagKeys: ["openclaw:phase", "openclaw:managed-by"] }),
      on(p, "secretsmanager:TagResource", token.resource, { requestTags: { "openclaw:environment": "prod" }, tagKeys: ["openclaw:environment"] }),
      on(p, "dynamodb:Scan", table),
      on(p, "dynamodb:DeleteTable", table),
      on(p, "dynamodb:GetItem", table.replace("openclaw-rotator-dev", "openclaw-rotator-prod")),
    ];
    // The declaration (scopes, TTL, gateway) is the deployer's: no other role may write it, nor create or delete entries.
    const declarationWrites = (p: Principal): AwsCall[] => [
      on(p, "dynamodb:UpdateItem", table, { conditionKeys: { "dynamodb:Attributes": ["declaration", "pk", "version"], "dynamodb:LeadingKeys": ["openclaw/dev/ci-runner"] } }),
      on(p, "dynamodb:PutItem", table, { conditionKeys: { "dynamodb:Attributes": ["declaration", "pk", "state", "version"], "dynamodb:LeadingKeys": ["openclaw/dev/ci-runner"] } }),
      on(p, "dynamodb:DeleteItem", table, { conditionKeys: { "dynamodb:LeadingKeys": ["openclaw/dev/ci-runner"] } }),
    ];
    return {
      rotator: [
        ...common("rotator"),
        ...declarationWrites("rotator"),
        ...["DeleteSecret", "CreateSecret", "RestoreSecret", "RotateSecret", "CancelRotateSecret", "UpdateSecret"].map((a) => on("rotator", `secretsmanager:${a}`, token.resource)),
      ],
      operator: [...common("operator"), ...declarationWrites("operator"), ...["DeleteSecret", "CreateSecret", "RotateSecret", "UpdateSecret"].map((a) => on("operator", `secretsmanager:${a}`, token.resource))],
      viewer: [
        ...common("viewer"),
        on("viewer", "secretsmanager:GetSecretValue", token.resource),
        on("viewer", "secretsmanager:GetSecretValue", admin),
        on("viewer", "secretsmanager:PutSecretValue", token.resource),
        on("viewer", "dynamodb:PutItem", table),
        on("viewer", "dynamodb:UpdateItem", table),
      ],
      "token-deployer": [
        ...common("token-deployer"),
        on("token-deployer", "secretsmanager:GetSecretValue", admin),
        // A secret created without the environment tag, or with another environment's, would be outside every fence.
        on("token-deployer", "secretsmanager:CreateSecret", token.resource.replace(/-[A-Za-z0-9]{6}$/, "-new000"), {}),
        on("token-deployer", "secretsmanager:CreateSecret", token.resource.replace(/-[A-Za-z0-9]{6}$/, "-new000"), { requestTags: { "openclaw:environment": "prod" }, tagKeys: ["openclaw:environment"] }),
      ],
    };
  }

  it.each(PRINCIPALS)("denies the %s every call on the never list", async (principal) => {
    const calls = forbidden()[principal];
    expect(calls.length).toBeGreaterThan(10);
    const allowed: string[] = [];
    for (const call of calls) if ((await judge(dev, principal, call)) === "Allowed") allowed.push(show(call));
    expect(allowed).toEqual([]);
  });

  it("denies the viewer every secret value explicitly, whatever else its role holds", async () => {
    const token = recorder.calls.find((c) => c.principal === "rotator" && c.action.startsWith("secretsmanager:") && c.resource.includes(":secret:openclaw/dev/")) as AwsCall;
    const broad: PolicyDocument = { Version: "2012-10-17", Statement: [{ Sid: "ReadOnlyEverything", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: ["*"] }] };
    for (const resource of [token.resource, dev.outputs.adminSecretArn]) {
      const call = { ...token, principal: "viewer", action: "secretsmanager:GetSecretValue", resource, resourceTags: resource === token.resource ? token.resourceTags : {} };
      expect(await decide({ ...policiesOf(dev, "viewer"), broad }, call, ACCOUNT)).toBe("ExplicitlyDenied");
    }
  });
});

/**
 * IAM evaluated, not asserted. The provider runtime, the bundled rotator Lambda and the operator CLI run for real on
 * moto and the reference gateway, each signing as its own principal through a recorder that authorizes every AWS
 * call with a real IAM evaluator against the policy documents the Pulumi-mocked deployment generates (a denied call
 * is answered AccessDenied, as AWS would). Then the matrix: every call of its own environment was allowed; the same
 * calls on another environment's resources are denied; and a list of calls no role may make is denied.
 *
 * The deployment is the documented API's (issue 12 part 4): no admin secret. The token deployer bootstraps the
 * rotator's own admin:tokens credential (openclaw-admin/dev/rotator) with the break-glass token and declares tokens
 * without adminToken (minted with that credential); the rotator rotates tokens and then its own credential; the
 * operator's CLI acts with the credential; the viewer may read none of it.
 */
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteSecretCommand, DescribeSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type * as Module from "../../infra/aws/rotator-deployment";
import type { PolicyDocument } from "../../infra/aws/rotator-policy";
import { runCli } from "../cli/run-cli";
import { AwsCall, AwsCallRecorder, RecordedCall, startAwsCallRecorder } from "../support/aws-call-recorder";
import { decide, Decision } from "../support/iam-evaluation";
import { DAY, RotationHarness } from "../support/rotation-harness";
import { runBundledRotator } from "../support/run-rotator";
import { runProvider } from "../support/run-provider";
import { LedgerPhase } from "../../src/ledger/ledger";
import { adminSecretName, rotatorCredentialSecretName } from "../../src/store/metadata";
import { Deployed, deployOnMocks, policyOf, T } from "./mocked-deployment";
import { ACCOUNT, installMocks } from "./pulumi-mocks";

jest.setTimeout(240_000);

// moto's account is the mocks' ACCOUNT; the mocked deployment is placed in moto's region.
const REGION = "us-east-1";
const PRINCIPALS = ["rotator", "operator", "viewer", "token-deployer"] as const;
type Principal = (typeof PRINCIPALS)[number];
const HOUR = 3600_000;
const CREDENTIAL = rotatorCredentialSecretName("dev");
/** Scheduled runs until the credential's rotation is over, at most (20 minutes apart: 4 hours). */
const MAX_CREDENTIAL_RUNS = 12;

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
  /** The CLI as `principal` runs it, on the harness's clock. */
  const cli = (principal: Principal, args: string[], env: Record<string, string> = {}) =>
    runCli(h, [...args, "--environment", "dev"], { bare: true, env: { ...recorder.envFor(principal), OPENCLAW_CLOCK_OFFSET_MS: String(h.clock.offsetMs), ...env } });

  /** The rotator credential's real ARN in moto, and the (removed) admin secret's, for the never-list. */
  let credentialArn: string;
  let adminArn: string;
  /** The credential's token IDs: the bootstrapped one, then the one the rotator rotated it to. */
  const credentialIds: string[] = [];
  /** Every scheduled run's outcomes per secret, in order. */
  const runOutcomes: Array<Record<string, string>> = [];

  beforeAll(async () => {
    h = await RotationHarness.start();
    // A documented-API deployment has no admin secret: the one the harness made for older rotators is removed (its ARN
    // stays for the never-list), so that nothing here can act with it.
    const direct = new SecretsManagerClient({});
    adminArn = (await direct.send(new DescribeSecretCommand({ SecretId: adminSecretName("dev") }))).ARN as string;
    await direct.send(new DeleteSecretCommand({ SecretId: adminSecretName("dev"), ForceDeleteWithoutRecovery: true }));
    const registered = await installMocks("iam", { region: REGION });
    const mod: typeof Module = await import("../../infra/aws/rotator-deployment");
    dev = await deployOnMocks(mod, registered, "dev");
    prod = await deployOnMocks(mod, registered, "prod");
    expect(dev.all(T.Secret)).toEqual([]);
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
    const succeeded = (run: { code: number; stderr: string }, what: string) => expect({ what, code: run.code, stderr: run.code ? run.stderr : "" }).toEqual({ what, code: 0, stderr: "" });

    // The break-glass human, with the token deployer's permissions: bootstrap-rotator with the admin:* token given
    // for this command only.
    const bootstrap = await cli("token-deployer", ["bootstrap-rotator", "--gateway-url", h.gateway.url, "--json"], { OPENCLAW_ADMIN_TOKEN: h.gateway.adminToken });
    succeeded(bootstrap, "bootstrap-rotator");
    const bootstrapped = JSON.parse(bootstrap.stdout) as { outcome: string; tokenId: string; scopes: string[] };
    expect(bootstrapped).toMatchObject({ outcome: "created", scopes: ["admin:tokens"] });
    credentialIds.push(bootstrapped.tokenId);
    credentialArn = (await direct.send(new DescribeSecretCommand({ SecretId: CREDENTIAL }))).ARN as string;
    direct.destroy();

    // pulumi up: the provider runtime declares three tokens without adminToken (minted with the rotator's credential);
    // pulumi destroy removes one. A 5-day TTL: due (at 80%) before the credential is (7 days at 80%).
    const beforeProvider = recorder.calls.length;
    const provider = await runProvider(recorder.envFor("token-deployer"), [
      ...["ci-runner", "dashboard", "retired"].map((name) => ({
        op: "create" as const,
        inputs: { name, scopes: ["run:jobs"], ttl: "5d", environment: "dev", gatewayUrl: h.gateway.url, recoveryWindowDays: 7 },
      })),
      { op: "delete" as const, name: "retired" },
    ]);
    expect({ code: provider.code, out: provider.code ? provider.stdout.slice(-1500) + provider.stderr.slice(-1500) : "" }).toEqual({ code: 0, out: "" });
    expect(recorder.calls.filter((c) => c.denied).map((c) => c.denied)).toEqual([]);
    // It read the credential to mint (once per create and for the delete), never the break-glass token's secret.
    expect(recorder.calls.slice(beforeProvider).filter((c) => c.action === "secretsmanager:GetSecretValue" && c.resource === credentialArn).length).toBeGreaterThanOrEqual(3);

    // Scheduled runs, with exactly the environment the deployment gives the function (but the local gateway): it names
    // no admin secret, so the runner's default (an older deployment's) is cleared and the rotator reads its credential.
    // The suspension's grace window (an hour, and gateway calls only) is left out, so that two runs complete a rotation.
    const deployed = dev.one(T.Function).inputs.environment.variables as Record<string, string>;
    expect(Object.keys(deployed)).not.toContain("OPENCLAW_ADMIN_SECRET_ID");
    const functionEnv = { OPENCLAW_ADMIN_SECRET_ID: "", ...deployed, OPENCLAW_GATEWAY_URL: h.gateway.url, OPENCLAW_SUSPENSION_WINDOW: "0", ...recorder.envFor("rotator") };
    const scheduledRun = async () => {
      const run = await runBundledRotator(h, { event: { kind: "scheduled-scan" }, env: functionEnv });
      expect({ code: run.code, stderr: run.code ? run.stdout.slice(-1500) + run.stderr.slice(-1500) : "" }).toEqual({ code: 0, stderr: "" });
      runOutcomes.push(run.result.outcomes ?? {});
      return run.result.outcomes;
    };
    await h.advance(4 * DAY + HOUR);
    expect(await scheduledRun()).toEqual({ "openclaw/dev/ci-runner": "waiting", "openclaw/dev/dashboard": "waiting" });
    for (const name of ["ci-runner", "dashboard"]) expect(await h.consume(await h.current(name))).toBe(201);
    await h.advance(20 * 60_000);
    expect(await scheduledRun()).toEqual({ "openclaw/dev/ci-runner": "completed", "openclaw/dev/dashboard": "completed" });

    // Past 80% of the credential's 7 days (the tokens, rotated at 4 days, are not due): the rotator rotates its own
    // credential, a run every 20 minutes until the old one is revoked.
    await h.setClock(Math.round(0.8 * 7 * DAY) + HOUR);
    for (let run = 0; run < MAX_CREDENTIAL_RUNS; run++) {
      await scheduledRun();
      const entry = await h.ledger.get(CREDENTIAL);
      if (entry?.state.phase === LedgerPhase.Idle && entry.state.current?.tokenId !== credentialIds[0]) {
        credentialIds.push(entry.state.current?.tokenId as string);
        break;
      }
      await h.advance(20 * 60_000);
    }
    expect(credentialIds).toHaveLength(2);

    // The operator's CLI, with the (rotated) credential: a manual rotation, a leak response, a check, a live status;
    // the viewer's status.
    for (const args of [["rotate", "ci-runner"], ["revoke", "dashboard", "--emergency"], ["verify", "ci-runner"], ["status", "--json", "--live"]]) {
      succeeded(await cli("operator", args), args.join(" "));
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

  it("rotated the rotator's own credential with zero failed runs: one live admin:tokens credential, the bootstrapped one revoked", async () => {
    const outcomes = runOutcomes.flatMap((o) => Object.values(o));
    expect(outcomes.filter((o) => o !== "waiting" && o !== "completed")).toEqual([]);
    expect(runOutcomes.filter((o) => o[CREDENTIAL] === "completed")).toHaveLength(1);
    const tokens = await h.gatewayTokens("openclaw-rotator");
    expect(tokens.map((t) => [t.id, t.status]).sort()).toEqual([
      [credentialIds[0], "revoked"],
      [credentialIds[1], "active"],
    ].sort());
  });

  it("recorded every role's calls, secret and table alike, the rotator credential's among them", () => {
    const actions = (p: Principal) => [...new Set(recorded(p).map((c) => c.action))].sort();
    const services = (p: Principal) => [...new Set(actions(p).map((a) => a.split(":")[0]))].sort();
    // By name: a CreateSecret is judged on the ARN the secret will have, before Secrets Manager has drawn its suffix.
    const onCredential = (p: Principal) => [...new Set(recorded(p).filter((c) => c.resource.includes(`:secret:${CREDENTIAL}-`) && !c.denied).map((c) => c.action))].sort();
    expect(actions("token-deployer")).toEqual(expect.arrayContaining(["secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:DescribeSecret"]));
    // bootstrap-rotator created the credential's secret, tagged; the provider read it to mint the declared tokens.
    expect(onCredential("token-deployer")).toEqual(expect.arrayContaining(["secretsmanager:CreateSecret", "secretsmanager:GetSecretValue"]));
    const created = recorded("token-deployer").find((c) => c.action === "secretsmanager:CreateSecret" && c.resource.includes(`:secret:${CREDENTIAL}-`));
    expect(created?.requestTags).toMatchObject({ "openclaw:environment": "dev" });
    // The rotation itself: read the credential and the values, write a version, move the stages; and its table.
    expect(actions("rotator")).toEqual(expect.arrayContaining(["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"]));
    // Its own credential: read at every run, then rotated like a token (a new version, the stages moved).
    expect(onCredential("rotator")).toEqual(expect.arrayContaining(["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"]));
    expect(onCredential("rotator").filter((a) => !["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"].includes(a))).toEqual([]);
    // The operator's CLI acts with the credential, and only reads it.
    expect(onCredential("operator")).toEqual(["secretsmanager:GetSecretValue"]);
    // Nobody touched the admin secret a documented-API deployment no longer has.
    expect(recorder.calls.filter((c) => c.resource.includes(":secret:openclaw-admin/dev/gateway")).map(show)).toEqual([]);
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

  it("lets the viewer see status from the ledger alone; --live is refused the rotator's credential and still answers", () => {
    const denied = recorded("viewer").filter((c) => c.denied);
    // Plain status touches no secret at all; --live tries the credential once, is denied, and shows the ledger's view.
    expect(denied.map(show)).toEqual([`secretsmanager:GetSecretValue ${credentialArn}`]);
    expect(recorded("viewer").filter((c) => !c.denied && c.action.startsWith("secretsmanager:"))).toEqual([]);
    for (const run of [viewerStatus, viewerLive]) {
      expect(run.code).toBe(0);
      const rows = JSON.parse(run.stdout) as Array<{ name: string }>;
      // The rotator's credential is a managed token too, listed under its reserved name.
      expect(rows.map((r) => r.name).sort()).toEqual(["ci-runner", "dashboard", "openclaw-rotator"]);
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

  /**
   * Reads of the rotator credential a policy fences by its name alone, on purpose: the credential's name is the
   * environment's, and the deployer's bootstrap must see "not found" before it creates it. Every write to it (the
   * rotator's rotation, the deployer's bootstrap) is fenced by the environment tag as well.
   */
  const CREDENTIAL_NAME_FENCE_ONLY: Record<Principal, readonly string[]> = {
    rotator: [],
    operator: ["secretsmanager:GetSecretValue"],
    viewer: [],
    "token-deployer": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
  };
  const tagFenced = (principal: Principal, call: AwsCall) =>
    call.resource.includes(`:secret:${CREDENTIAL}-`)
      ? !CREDENTIAL_NAME_FENCE_ONLY[principal].includes(call.action)
      : !call.resource.includes("openclaw-admin/") && !NAMESPACE_FENCE_ONLY[principal].includes(call.action);

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
      if (call.action.startsWith("secretsmanager:") && tagFenced(principal, call)) {
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
    const admin = adminArn;
    const table = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${dev.outputs.ledgerTableName}`;
    const devTags = token.resourceTags;
    // The rotator's own credential as the rotator met it (its real ARN and tags), and another environment's.
    const credential = recorder.calls.find((c) => c.principal === "rotator" && c.resource === credentialArn) as AwsCall;
    expect(credential.resourceTags).toMatchObject({ "openclaw:environment": "dev" });
    const on = (principal: Principal, action: string, resource: string, extra: Partial<AwsCall> = {}): AwsCall => ({
      principal,
      action,
      resource,
      resourceTags: resource === token.resource ? devTags : resource === credentialArn ? credential.resourceTags : {},
      requestTags: {},
      ...extra,
    });
    const prodToken = inEnvironment(token, "prod");
    const prodCredential = inEnvironment(credential, "prod");
    const devTagged = { requestTags: { "openclaw:environment": "dev" }, tagKeys: ["openclaw:environment"] };
    const common = (p: Principal): AwsCall[] => [
      on(p, "secretsmanager:PutResourcePolicy", token.resource),
      on(p, "secretsmanager:DeleteResourcePolicy", token.resource),
      on(p, "secretsmanager:PutSecretValue", admin),
      on(p, "secretsmanager:UpdateSecret", admin),
      on(p, "secretsmanager:DeleteSecret", admin),
      on(p, "secretsmanager:TagResource", admin, { requestTags: { "openclaw:environment": "dev" }, tagKeys: ["openclaw:environment"] }),
      // openclaw-admin/<env>/gateway is no one's to write, nor to create again beside the rotator's credential.
      on(p, "secretsmanager:UpdateSecretVersionStage", admin),
      on(p, "secretsmanager:CreateSecret", admin, devTagged),
      // The rotator credential: no one deletes it, opens it with a resource policy, moves it out of the tag fence or
      // rotates it through Secrets Manager; and no one reaches another environment's.
      on(p, "secretsmanager:DeleteSecret", credentialArn),
      on(p, "secretsmanager:PutResourcePolicy", credentialArn),
      on(p, "secretsmanager:DeleteResourcePolicy", credentialArn),
      on(p, "secretsmanager:UpdateSecret", credentialArn),
      on(p, "secretsmanager:RotateSecret", credentialArn),
      on(p, "secretsmanager:UntagResource", credentialArn, { tagKeys: ["openclaw:environment"] }),
      on(p, "secretsmanager:TagResource", credentialArn, { requestTags: { "openclaw:environment": "prod" }, tagKeys: ["openclaw:environment"] }),
      { ...prodCredential, principal: p, action: "secretsmanager:GetSecretValue" },
      { ...prodCredential, principal: p, action: "secretsmanager:PutSecretValue" },
      { ...prodCredential, principal: p, action: "secretsmanager:UpdateSecretVersionStage" },
      { ...prodCredential, principal: p, action: "secretsmanager:CreateSecret", requestTags: { "openclaw:environment": "prod" }, tagKeys: ["openclaw:environment"] },
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
      // The credential's entry (its scopes, its TTL) included.
      on(p, "dynamodb:UpdateItem", table, { conditionKeys: { "dynamodb:Attributes": ["declaration", "pk", "version"], "dynamodb:LeadingKeys": [CREDENTIAL] } }),
      on(p, "dynamodb:PutItem", table, { conditionKeys: { "dynamodb:Attributes": ["declaration", "pk", "state", "version"], "dynamodb:LeadingKeys": [CREDENTIAL] } }),
      on(p, "dynamodb:DeleteItem", table, { conditionKeys: { "dynamodb:LeadingKeys": [CREDENTIAL] } }),
    ];
    return {
      rotator: [
        ...common("rotator"),
        ...declarationWrites("rotator"),
        ...["DeleteSecret", "CreateSecret", "RestoreSecret", "RotateSecret", "CancelRotateSecret", "UpdateSecret"].map((a) => on("rotator", `secretsmanager:${a}`, token.resource)),
        // It rotates its credential but never creates it (bootstrap-rotator does), restores or tags it.
        on("rotator", "secretsmanager:CreateSecret", credentialArn, devTagged),
        on("rotator", "secretsmanager:RestoreSecret", credentialArn),
        on("rotator", "secretsmanager:TagResource", credentialArn, devTagged),
        // Nor may it read or write the admin secret: a documented-API rotator holds no admin token.
        on("rotator", "secretsmanager:GetSecretValue", admin),
      ],
      operator: [
        ...common("operator"),
        ...declarationWrites("operator"),
        ...["DeleteSecret", "CreateSecret", "RotateSecret", "UpdateSecret"].map((a) => on("operator", `secretsmanager:${a}`, token.resource)),
        // The operator acts with the rotator's credential and never writes it: the rotator rotates it.
        ...["PutSecretValue", "UpdateSecretVersionStage", "DescribeSecret"].map((a) => on("operator", `secretsmanager:${a}`, credentialArn)),
        on("operator", "secretsmanager:CreateSecret", credentialArn, devTagged),
      ],
      viewer: [
        ...common("viewer"),
        on("viewer", "secretsmanager:GetSecretValue", token.resource),
        on("viewer", "secretsmanager:GetSecretValue", admin),
        on("viewer", "secretsmanager:PutSecretValue", token.resource),
        on("viewer", "dynamodb:PutItem", table),
        on("viewer", "dynamodb:UpdateItem", table),
        // The rotator's credential: not its value, and no write.
        on("viewer", "secretsmanager:GetSecretValue", credentialArn),
        on("viewer", "secretsmanager:PutSecretValue", credentialArn),
        on("viewer", "secretsmanager:CreateSecret", credentialArn, devTagged),
      ],
      "token-deployer": [
        ...common("token-deployer"),
        on("token-deployer", "secretsmanager:GetSecretValue", admin),
        // A secret created without the environment tag, or with another environment's, would be outside every fence.
        on("token-deployer", "secretsmanager:CreateSecret", token.resource.replace(/-[A-Za-z0-9]{6}$/, "-new000"), {}),
        on("token-deployer", "secretsmanager:CreateSecret", token.resource.replace(/-[A-Za-z0-9]{6}$/, "-new000"), { requestTags: { "openclaw:environment": "prod" }, tagKeys: ["openclaw:environment"] }),
        // The same for the rotator's credential, which bootstrap-rotator creates: tagged for this environment or not at all.
        on("token-deployer", "secretsmanager:CreateSecret", credentialArn.replace(/-[A-Za-z0-9]{6}$/, "-new000"), {}),
        on("token-deployer", "secretsmanager:CreateSecret", credentialArn.replace(/-[A-Za-z0-9]{6}$/, "-new000"), { requestTags: { "openclaw:environment": "prod" }, tagKeys: ["openclaw:environment"] }),
        // A credential secret tagged for another environment is not this deployer's to write.
        ...["PutSecretValue", "UpdateSecretVersionStage", "TagResource"].map((a) => ({ ...on("token-deployer", `secretsmanager:${a}`, credentialArn), resourceTags: prodCredential.resourceTags })),
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

  it("denies the viewer every secret value explicitly, the rotator credential's included, whatever else its role holds", async () => {
    const token = recorder.calls.find((c) => c.principal === "rotator" && c.action.startsWith("secretsmanager:") && c.resource.includes(":secret:openclaw/dev/")) as AwsCall;
    const broad: PolicyDocument = { Version: "2012-10-17", Statement: [{ Sid: "ReadOnlyEverything", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: ["*"] }] };
    const credential = recorder.calls.find((c) => c.resource === credentialArn) as AwsCall;
    for (const [resource, resourceTags] of [
      [token.resource, token.resourceTags],
      [credentialArn, credential.resourceTags],
    ] as const) {
      const call = { ...token, principal: "viewer", action: "secretsmanager:GetSecretValue", resource, resourceTags };
      expect(await decide({ ...policiesOf(dev, "viewer"), broad }, call, ACCOUNT)).toBe("ExplicitlyDenied");
    }
  });

  // Last, as it changes the credential: the break-glass path when the credential is dead (revoked behind the
  // rotator's back, say). bootstrap-rotator, run by the token deployer, issues a replacement through a rotation.
  it("lets the token deployer replace a dead credential with bootstrap-rotator, and nothing more", async () => {
    const before = recorder.calls.length;
    const dead = credentialIds.at(-1) as string;
    await h.admin.revoke(dead);
    const replaced = await cli("token-deployer", ["bootstrap-rotator", "--gateway-url", h.gateway.url, "--json"], { OPENCLAW_ADMIN_TOKEN: h.gateway.adminToken });
    const calls = recorder.calls.slice(before);
    expect({ code: replaced.code, stderr: replaced.code ? replaced.stderr : "", denied: calls.filter((c) => c.denied).map(show) }).toEqual({ code: 0, stderr: "", denied: [] });
    const out = JSON.parse(replaced.stdout) as { outcome: string; tokenId: string; scopes: string[] };
    expect(out).toMatchObject({ outcome: "replaced", scopes: ["admin:tokens"] });
    expect(out.tokenId).not.toBe(dead);
    // It wrote a new version of the credential and moved its stages, and on no other secret.
    const writes = calls.filter((c) => ["secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"].includes(c.action));
    expect([...new Set(writes.map(show))].sort()).toEqual([`secretsmanager:PutSecretValue ${credentialArn}`, `secretsmanager:UpdateSecretVersionStage ${credentialArn}`]);
    // The same writes on a credential tagged for another environment are denied.
    for (const write of writes) expect(await judge(dev, "token-deployer", { ...write, resourceTags: { ...write.resourceTags, "openclaw:environment": "prod" } })).not.toBe("Allowed");
  });
});

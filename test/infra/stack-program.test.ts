/**
 * The stack program (infra/index.ts) on Pulumi mocks, configured as a dev stack with `openclaw:rotator.deploy: true`:
 * the tokens and the rotator are declared from the stack's config, and the rotator's outputs are exported. The
 * documented API with no `openclaw:adminToken`: the rotator and the tokens act with the rotator's own credential.
 */
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ACCOUNT, installMocks, REGION, Registered, until, valueOf } from "./pulumi-mocks";

// The program builds the GatewayToken provider runtime with esbuild before declaring tokens; not needed on mocks.
jest.mock("../../infra/provider-runtime", () => ({ buildProviderRuntime: jest.fn() }));

const TOKENS = [
  { name: "ci-runner", scopes: ["run:jobs"], ttl: "30d" },
  { name: "app-backend", scopes: ["run:jobs", "read:jobs"], ttl: "90d" },
];

// The rotator bundle is built by scripts/build.mjs; the mocks never read it, so it need not exist for this test.
const fs = require("node:fs") as typeof import("node:fs");
const realExistsSync = fs.existsSync;
const bundle = join(__dirname, "..", "..", "dist", "lambda", "rotator", "index.js");
const existsSpy = jest.spyOn(fs, "existsSync").mockImplementation((path) => path === bundle || realExistsSync(path));

let registered: Registered[];
let program: typeof import("../../infra/index");

beforeAll(async () => {
  registered = await installMocks("dev");
  pulumi.runtime.setAllConfig(
    {
      "openclaw:environment": "dev",
      "openclaw:gatewayUrl": "https://gateway-dev.openclaw.example",
      "openclaw:tokens": JSON.stringify(TOKENS),
      "openclaw:rotator": JSON.stringify({ deploy: true, schedule: "rate(30 minutes)", suspensionWindow: "2h", alarmEmail: "oncall@example.com" }),
    },
    [],
  );
  program = await import("../../infra/index");
  await until(() => registered.filter((r) => r.type.startsWith("aws:")).length === 26 + TOKENS.length, "the rotator's resources");
});

afterAll(() => existsSpy.mockRestore());

describe("stack program with openclaw:rotator.deploy", () => {
  it("declares the stack's tokens", () => {
    const tokens = registered.filter((r) => r.type === "pulumi-nodejs:dynamic/openclaw:GatewayToken");
    expect(tokens.map((t) => t.name).sort()).toEqual(["app-backend", "ci-runner"]);
  });

  it("declares one RotatorDeployment for the stack's environment, from openclaw:rotator", () => {
    expect(registered.filter((r) => r.type === "openclaw:aws:RotatorDeployment").map((r) => r.name)).toEqual(["rotator"]);
    const schedule = registered.find((r) => r.type === "aws:scheduler/schedule:Schedule");
    expect(schedule?.inputs.scheduleExpression).toBe("rate(30 minutes)");
    expect(registered.find((r) => r.type === "aws:sns/topicSubscription:TopicSubscription")?.inputs.endpoint).toBe("oncall@example.com");
    const fn = registered.find((r) => r.type === "aws:lambda/function:Function");
    expect(fn?.inputs.environment.variables).toMatchObject({
      OPENCLAW_ENVIRONMENT: "dev",
      OPENCLAW_GATEWAY_URL: "https://gateway-dev.openclaw.example",
      OPENCLAW_BACKEND: "documented-api",
      OPENCLAW_QUIET_PERIOD: "15m",
      OPENCLAW_SUSPENSION_WINDOW: "2h",
      OPENCLAW_MAX_CONCURRENCY: "8",
    });
    // The rotator reads its own credential: no admin secret is named.
    expect(Object.keys(fn?.inputs.environment.variables ?? {})).not.toContain("OPENCLAW_ADMIN_SECRET_ID");
  });

  it("points each token's Secrets Manager rotation at the rotator, with its own schedule only as a backstop", () => {
    const rotations = registered.filter((r) => r.type === "aws:secretsmanager/secretRotation:SecretRotation");
    expect(rotations.map((r) => r.name).sort()).toEqual(["app-backend-rotation", "ci-runner-rotation"]);
    for (const rotation of rotations) {
      expect(rotation.inputs).toMatchObject({
        rotationLambdaArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:openclaw-rotator-dev`,
        rotateImmediately: false,
        rotationRules: { automaticallyAfterDays: 1000 },
      });
    }
  });

  it("holds no admin token: no admin secret, and the tokens are declared without one (minted with the rotator's credential)", () => {
    expect(registered.filter((r) => r.type.startsWith("aws:secretsmanager/secret:") || r.type.startsWith("aws:secretsmanager/secretVersion:"))).toEqual([]);
    const tokens = registered.filter((r) => r.type === "pulumi-nodejs:dynamic/openclaw:GatewayToken");
    expect(tokens).toHaveLength(TOKENS.length);
    for (const token of tokens) expect({ token: token.name, adminToken: token.inputs.adminToken, keys: Object.keys(token.inputs).includes("adminToken") }).toEqual({ token: token.name, adminToken: undefined, keys: false });
    // Nothing token-shaped anywhere in what the program declares.
    expect(registered.filter((r) => /openclaw_gw_(dev|stage|live)_/.test(JSON.stringify(r.inputs))).map((r) => r.name)).toEqual([]);
  });

  it("deploys no token front without openclaw:front", () => {
    expect(registered.filter((r) => r.type === "openclaw:aws:TokenFrontDeployment" || /^aws:(ecs|lb|ec2)\//.test(r.type))).toEqual([]);
    expect(program.front).toBeUndefined();
  });

  it("exports the rotator's outputs", async () => {
    expect(program.rotator).toBeDefined();
    expect(await valueOf(pulumi.all(program.rotator!))).toEqual({
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
    expect(program.environment).toBe("dev");
  });
});

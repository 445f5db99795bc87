/**
 * The stack program (infra/index.ts) on Pulumi mocks as a prod stack with `openclaw:front.deploy: true`: the token
 * front fleet is declared from the stack's config, in the stack's environment, and its outputs (the OpenClaw config
 * among them) are exported. The rotator is not deployed here, so the program declares the tokens and the fleet only.
 */
import * as pulumi from "@pulumi/pulumi";
import { ACCOUNT, installMocks, REGION, Registered, until, valueOf, VPC_ID } from "./pulumi-mocks";

jest.mock("../../infra/provider-runtime", () => ({ buildProviderRuntime: jest.fn() }));

const FRONT = {
  deploy: true,
  image: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/openclaw-token-front:1.4.0`,
  upstreamUrl: "http://10.0.12.7:18789",
  certificateArn: `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b`,
  vpcId: VPC_ID,
  subnetIds: ["subnet-0a11111111111111a", "subnet-0b22222222222222b"],
  loadBalancerSubnetIds: ["subnet-0c33333333333333c", "subnet-0d44444444444444d"],
  desiredCount: 3,
};
/** The fleet's resources (TokenFrontDeployment's children), as token-front.test.ts counts them. */
const FLEET_RESOURCES = 15;

let registered: Registered[];
let program: typeof import("../../infra/index");

beforeAll(async () => {
  registered = await installMocks("prod");
  pulumi.runtime.setAllConfig(
    {
      "openclaw:environment": "prod",
      "openclaw:gatewayUrl": "https://gateway.openclaw.example",
      "openclaw:tokens": JSON.stringify([{ name: "ci-runner", scopes: ["run:jobs"], ttl: "30d" }]),
      "openclaw:front": JSON.stringify(FRONT),
    },
    [],
  );
  program = await import("../../infra/index");
  await until(() => registered.filter((r) => r.type.startsWith("aws:")).length === FLEET_RESOURCES, "the fleet's resources");
});

describe("stack program with openclaw:front.deploy", () => {
  it("declares one TokenFrontDeployment beside the tokens, and no rotator", () => {
    const components = registered.filter((r) => r.type.startsWith("openclaw:aws:")).map((r) => `${r.type} ${r.name}`);
    expect(components).toEqual(["openclaw:aws:TokenFrontDeployment front"]);
    expect(registered.filter((r) => r.type.endsWith("openclaw:GatewayToken")).map((r) => r.name)).toEqual(["ci-runner"]);
  });

  it("deploys the fleet for the stack's environment, with the stack's settings", () => {
    const service = registered.find((r) => r.type === "aws:ecs/service:Service");
    expect(service?.inputs).toMatchObject({ name: "openclaw-front-prod", desiredCount: 3 });
    expect(registered.find((r) => r.type === "aws:dynamodb/table:Table")?.inputs).toMatchObject({ name: "openclaw-front-prod-registry", deletionProtectionEnabled: true });
  });

  it("exports the fleet's outputs, with the openclaw.json fragment to apply", async () => {
    expect(program.front).toBeDefined();
    expect(await valueOf(pulumi.all(program.front! as Record<string, pulumi.Output<unknown>>))).toEqual({
      url: `https://openclaw-front-prod-1234567890.${REGION}.elb.amazonaws.com`,
      loadBalancerDnsName: `openclaw-front-prod-1234567890.${REGION}.elb.amazonaws.com`,
      loadBalancerZoneId: "Z32O12XQLNTSW2",
      clusterName: "openclaw-front-prod",
      serviceName: "openclaw-front-prod",
      registryTableName: "openclaw-front-prod-registry",
      logGroupName: "/ecs/openclaw-front-prod",
      taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/openclaw-front-prod-task-${REGION}`,
      trustedProxies: ["10.0.1.0/24", "10.0.2.0/24"],
      openclawConfig: {
        gateway: {
          bind: "lan",
          trustedProxies: ["10.0.1.0/24", "10.0.2.0/24"],
          auth: { mode: "trusted-proxy", trustedProxy: { userHeader: "x-forwarded-user", allowLoopback: false } },
        },
      },
    });
    expect(program.rotator).toBeUndefined();
  });
});

/**
 * The stack program (infra/index.ts) on Pulumi mocks with a bad `openclaw:front`: the whole configuration is refused
 * with every problem named, before any resource (token, fleet or component) is declared.
 */
import * as pulumi from "@pulumi/pulumi";
import { ACCOUNT, installMocks, REGION, Registered, VPC_ID } from "./pulumi-mocks";

jest.mock("../../infra/provider-runtime", () => ({ buildProviderRuntime: jest.fn() }));

let registered: Registered[];

beforeAll(async () => {
  registered = await installMocks("prod");
  pulumi.runtime.setAllConfig(
    {
      "openclaw:environment": "prod",
      "openclaw:gatewayUrl": "https://gateway.openclaw.example",
      "openclaw:tokens": JSON.stringify([{ name: "ci-runner", scopes: ["run:jobs"], ttl: "30d" }]),
      "openclaw:front": JSON.stringify({
        deploy: true,
        image: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/openclaw-token-front:1.4.0`,
        upstreamUrl: "http://openclaw-dev.internal:18789/",
        upstreamCidrs: ["10.0.12.0/24"],
        vpcId: VPC_ID,
        subnetIds: ["subnet-0a11111111111111a"],
        loadBalancerSubnetIds: ["subnet-0c33333333333333c", "subnet-0d44444444444444d"],
      }),
    },
    [],
  );
});

describe("stack program with a bad openclaw:front", () => {
  it("refuses the configuration, naming each key and its fix, and declares nothing", async () => {
    await expect(import("../../infra/index")).rejects.toThrow(
      [
        "Stack prod's configuration is invalid:",
        "  - openclaw:front.upstreamUrl: host openclaw-dev.internal names the dev environment, but this front is for prod",
        "  - openclaw:front.certificateArn: give the ARN of an ACM certificate for the front's https name, in the deployment's region: the load balancer serves HTTPS only (HTTP just redirects)",
      ].join("\n"),
    );
    // Resources register asynchronously: give any stray registration the time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(registered).toEqual([]);
  });
});

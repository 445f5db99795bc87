/**
 * The stack program (infra/index.ts) on Pulumi mocks as a prod stack: its tokens are declared with `protect`, so an
 * accidental `pulumi destroy` stops at them, unless a declaration opts out with `protect: false`.
 */
import * as pulumi from "@pulumi/pulumi";
import { installMocks, Registered, until } from "./pulumi-mocks";

jest.mock("../../infra/provider-runtime", () => ({ buildProviderRuntime: jest.fn() }));

/** The `protect` option each GatewayToken was declared with (mocks do not report resource options). */
const mockProtectOf = new Map<string, boolean | undefined>();
jest.mock("../../src/provider/gateway-token", () => {
  const actual = jest.requireActual("../../src/provider/gateway-token");
  class RecordingGatewayToken extends actual.GatewayToken {
    constructor(name: string, args: unknown, opts?: { protect?: boolean }) {
      super(name, args, opts);
      mockProtectOf.set(name, opts?.protect);
    }
  }
  return { ...actual, GatewayToken: RecordingGatewayToken };
});

const TOKENS = [
  { name: "ci-runner", scopes: ["run:jobs"], ttl: "30d" },
  { name: "dashboard", scopes: ["read:agents"], ttl: "90d", protect: false },
];

let registered: Registered[];

beforeAll(async () => {
  registered = await installMocks("prod");
  pulumi.runtime.setAllConfig(
    {
      "openclaw:environment": "prod",
      "openclaw:gatewayUrl": "https://gateway.openclaw.example",
      "openclaw:tokens": JSON.stringify(TOKENS),
      "openclaw:adminToken": "openclaw_gw_live_fake-stack-admin-token",
    },
    ["openclaw:adminToken"],
  );
  await import("../../infra/index");
  await until(() => registered.filter((r) => r.type.endsWith("openclaw:GatewayToken")).length === TOKENS.length, "the tokens");
});

describe("a prod stack", () => {
  it("protects its tokens from pulumi destroy by default, and not the one declared with protect: false", () => {
    expect(Object.fromEntries(mockProtectOf)).toEqual({ "ci-runner": true, dashboard: false });
  });
});

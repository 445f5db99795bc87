/**
 * The stack program's configuration gate (loadStackConfig, the first thing infra/index.ts does) on Pulumi mocks,
 * with the config as `pulumi up` reads it, secrets included: a documented-API stack that deploys the rotator holds
 * no admin token (issue 12 part 4), an openclaw-devices stack needs OpenClaw's shared token.
 */
import * as pulumi from "@pulumi/pulumi";
import { ValidationError } from "../../src/domain/errors";
import { installMocks, valueOf } from "./pulumi-mocks";

const ADMIN_TOKEN = "openclaw_gw_dev_fake-stack-admin-token";
const SHARED_TOKEN = "fake-openclaw-shared-token";
const TOKENS = [{ name: "ci-runner", scopes: ["run:jobs"], ttl: "30d" }];
const DEVICE_TOKENS = [{ name: "ci-runner", scopes: ["operator.write"], ttl: "30d" }];

let config: typeof import("../../infra/config");

beforeAll(async () => {
  await installMocks("dev");
  config = await import("../../infra/config");
});

/** Sets the stack's whole config, the admin token (when given) as a secret, as `pulumi config set --secret` does. */
function stackConfig(settings: { backend?: string; gatewayUrl?: string; tokens?: object[]; rotator?: object; adminToken?: string }): void {
  const values: Record<string, string> = {
    "openclaw:environment": "dev",
    "openclaw:gatewayUrl": settings.gatewayUrl ?? "https://gateway-dev.openclaw.example",
    "openclaw:tokens": JSON.stringify(settings.tokens ?? TOKENS),
    ...(settings.backend ? { "openclaw:backend": settings.backend } : {}),
    ...(settings.rotator ? { "openclaw:rotator": JSON.stringify(settings.rotator) } : {}),
    ...(settings.adminToken ? { "openclaw:adminToken": settings.adminToken } : {}),
  };
  pulumi.runtime.setAllConfig(values, settings.adminToken ? ["openclaw:adminToken"] : []);
}

/** The problems loadStackConfig refuses the stack with, as "field: message". */
function refusal(): string[] {
  try {
    config.loadStackConfig();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    expect(String((error as Error).message)).not.toContain(ADMIN_TOKEN);
    return (error as ValidationError).problems.map((p) => `${p.field}: ${p.message}`);
  }
  return [];
}

describe("the stack program's configuration gate", () => {
  it("refuses a documented-API stack that deploys the rotator and sets openclaw:adminToken, naming the way to the rotator's credential", () => {
    stackConfig({ rotator: { deploy: true }, adminToken: ADMIN_TOKEN });
    expect(refusal()).toEqual([
      "openclaw:adminToken: remove it (pulumi config rm openclaw:adminToken): the documented-API rotator and the tokens use the rotator's own short-lived admin:tokens credential; create it once with `openclaw-tokens bootstrap-rotator` and the break-glass token, which stays out of the stack (docs/runbook.md)",
    ]);
    stackConfig({ backend: "documented-api", rotator: { deploy: true }, adminToken: ADMIN_TOKEN });
    expect(refusal()).toHaveLength(1);
  });

  it("accepts that stack without openclaw:adminToken: no admin token reaches the program", () => {
    stackConfig({ rotator: { deploy: true } });
    const loaded = config.loadStackConfig();
    expect(loaded).toMatchObject({ environment: "dev", backend: undefined, rotator: { deploy: true } });
    expect(loaded.adminToken).toBeUndefined();
  });

  it("still takes openclaw:adminToken, as a secret, on a documented-API stack that only declares tokens", async () => {
    stackConfig({ adminToken: ADMIN_TOKEN });
    const loaded = config.loadStackConfig();
    expect(loaded.rotator.deploy).toBe(false);
    expect(await pulumi.isSecret(loaded.adminToken as pulumi.Output<string>)).toBe(true);
    expect(await valueOf(loaded.adminToken as pulumi.Output<string>)).toBe(ADMIN_TOKEN);
  });

  it("refuses an openclaw-devices stack without OpenClaw's shared token, once, under openclaw:adminToken", () => {
    for (const rotator of [{ deploy: true }, undefined]) {
      stackConfig({ backend: "openclaw-devices", gatewayUrl: "http://127.0.0.1:18789", tokens: [...DEVICE_TOKENS, { name: "app-backend", scopes: ["operator.read"], ttl: "90d" }], rotator });
      expect(refusal()).toEqual(["openclaw:adminToken: give the gateway's shared token, its gateway.auth.token (as a secret: pulumi config set --secret)"]);
    }
  });

  it("accepts an openclaw-devices stack that deploys the rotator with the shared token, kept a secret", async () => {
    stackConfig({ backend: "openclaw-devices", gatewayUrl: "http://127.0.0.1:18789", tokens: DEVICE_TOKENS, rotator: { deploy: true }, adminToken: SHARED_TOKEN });
    const loaded = config.loadStackConfig();
    expect(loaded).toMatchObject({ backend: "openclaw-devices", rotator: { deploy: true } });
    expect(await pulumi.isSecret(loaded.adminToken as pulumi.Output<string>)).toBe(true);
    expect(await valueOf(loaded.adminToken as pulumi.Output<string>)).toBe(SHARED_TOKEN);
  });
});

import { checkInputs } from "../../src/provider/inputs";

const valid = {
  name: "ci-runner",
  scopes: ["run:jobs", "read:jobs"],
  ttl: "30d",
  environment: "dev",
  gatewayUrl: "http://127.0.0.1:8080/",
  adminToken: "openclaw_gw_dev_abcdefghijklmnopqrstuvwxyz012345",
};

function problemsOf(overrides: Record<string, unknown>): string[] {
  const outcome = checkInputs({ ...valid, ...overrides });
  return outcome.ok ? [] : outcome.problems.map((p) => `${p.field}: ${p.message}`);
}

describe("checkInputs", () => {
  it("accepts valid inputs and fills in defaults in canonical form", () => {
    const outcome = checkInputs(valid);
    expect(outcome).toEqual({
      ok: true,
      inputs: {
        ...valid,
        scopes: ["read:jobs", "run:jobs"],
        gatewayUrl: "http://127.0.0.1:8080",
        rotationFraction: 0.8,
        secretName: "openclaw/dev/ci-runner",
        allowAdminScope: false,
        recoveryWindowDays: 7,
        backend: "documented-api",
        awsRegion: undefined,
      },
    });
  });

  it.each([
    [{ scopes: ["run:job"] }, /scopes\[0\]: "run:job" is not a scope; use one of read:agents/],
    [{ scopes: [] }, /scopes: give at least one scope/],
    [{ scopes: ["run:jobs", "run:jobs"] }, /scopes\[1\]: run:jobs is listed twice/],
    [{ scopes: ["admin:*"] }, /admin:\* is full control, for break-glass tokens only/],
    [{ ttl: "90 days" }, /ttl: "90 days" is not a duration/],
    [{ ttl: "0d" }, /ttl: "0d" is not a duration/],
    [{ ttl: "400d" }, /ttl: 400d is outside 1h..365d/],
    [{ ttl: "30m" }, /ttl: 30m is outside/],
    [{ name: "CI_Runner" }, /name: "CI_Runner" is not a valid token name/],
    [{ name: "x" }, /name: "x" is not a valid token name/],
    [{ environment: "production" }, /environment: "production" is not an environment; use one of dev, stage, prod/],
    [{ gatewayUrl: "http://gateway-dev.example.com" }, /plain http is only allowed on loopback; use https:\/\/gateway-dev.example.com/],
    [{ gatewayUrl: "not a url" }, /gatewayUrl: "not a url" is not a URL/],
    [{ gatewayUrl: "https://gateway-stage.example.com" }, /names the stage environment, but this token is for dev/],
    [{ gatewayUrl: "https://user:pw@gateway-dev.example.com" }, /must not carry credentials/],
    [{ adminToken: "openclaw_gw_live_abcdefghijklmnop" }, /adminToken: it is a prod token; the dev gateway needs a token starting openclaw_gw_dev_/],
    [{ adminToken: "sk-ant-123" }, /adminToken: it has no gateway token prefix/],
    [{ rotationFraction: 1 }, /rotationFraction: 1 is outside 0.1..0.95/],
    [{ recoveryWindowDays: 3 }, /recoveryWindowDays: 3 is not allowed; use 7 to 30 days, or 0/],
    [{ secretName: "openclaw/prod/ci-runner" }, /secretName: openclaw\/prod\/ci-runner is outside this environment's namespace; start it with openclaw\/dev\//],
    [{ backend: "vault" }, /backend: "vault" is not a gateway backend/],
    [{ awsRegion: "mars" }, /awsRegion: "mars" is not an AWS region/],
  ])("refuses %j with a message that says what to fix", (overrides, expected) => {
    expect(problemsOf(overrides).join("\n")).toMatch(expected);
  });

  it("requires https for prod even on loopback", () => {
    expect(
      problemsOf({ environment: "prod", adminToken: "openclaw_gw_live_abcdefghijklmnop", gatewayUrl: "http://127.0.0.1:1" }),
    ).toEqual(["gatewayUrl: a prod gateway must be reached over https://"]);
  });

  it("accepts admin:* with the explicit opt-in", () => {
    expect(problemsOf({ scopes: ["admin:*"], allowAdminScope: true })).toEqual([]);
  });

  it("reports every problem at once", () => {
    expect(problemsOf({ name: "X", ttl: "soon", scopes: ["nope"] })).toHaveLength(3);
  });

  it("never echoes the admin token in a problem", () => {
    const secret = "openclaw_gw_live_THIS-MUST-NOT-APPEAR";
    expect(problemsOf({ adminToken: secret }).join("\n")).not.toContain("THIS-MUST-NOT-APPEAR");
  });

  it("defers checks of values Pulumi does not know yet", () => {
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    expect(problemsOf({ adminToken: unknown, gatewayUrl: unknown })).toEqual([]);
  });
});

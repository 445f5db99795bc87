import { checkInputs } from "../../src/provider/inputs";

const valid = {
  name: "ci-runner",
  scopes: ["run:jobs", "read:jobs"],
  ttl: "30d",
  environment: "dev",
  gatewayUrl: "http://127.0.0.1:8080/",
  adminToken: "openclaw_gw_dev_fake-admin-token",
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
        ledgerTable: "openclaw-rotator-dev-ledger",
        adopt: false,
        consumerCacheTtl: "1h",
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
    [{ ttl: "6h" }, /ttl: 6h at rotationFraction 0.8 leaves 1.2h between the rotation and expiry; the rotator needs 4h there \(consumerCacheTtl 1h for consumers to move, the 1h suspension window, the rotator's 1h schedule interval, then its 1h margin before expiry\): use a ttl of at least 20h, a lower rotationFraction, or a shorter consumerCacheTtl/],
    [{ ttl: "1d", rotationFraction: 0.95 }, /ttl: 1d at rotationFraction 0.95 leaves 1.2h .* use a ttl of at least 3.3d, a lower rotationFraction/],
    [{ ttl: "20d", rotationFraction: 0.95, consumerCacheTtl: "1d" }, /ttl: 20d at rotationFraction 0.95 leaves 1d .* needs 1.1d there \(consumerCacheTtl 1d for consumers to move/],
    [{ consumerCacheTtl: "5s" }, /consumerCacheTtl: "5s" is not a duration in 1m..1d; write how long your consumers cache the token/],
    [{ consumerCacheTtl: 3600 }, /consumerCacheTtl: 3600 is not a duration/],
    [{ name: "CI_Runner" }, /name: "CI_Runner" is not a valid token name/],
    [{ name: "x" }, /name: "x" is not a valid token name/],
    [{ environment: "production" }, /environment: "production" is not an environment; use one of dev, stage, prod/],
    [{ gatewayUrl: "http://gateway-dev.example.com" }, /plain http is only allowed on loopback; use https:\/\/gateway-dev.example.com/],
    [{ gatewayUrl: "not a url" }, /gatewayUrl: "not a url" is not a URL/],
    [{ gatewayUrl: "https://gw_stage1.example.com" }, /names the stage environment, but this token is for dev/],
    [{ gatewayUrl: "https://gateway-stage.example.com" }, /names the stage environment, but this token is for dev/],
    [{ gatewayUrl: "https://user:pw@gateway-dev.example.com" }, /must not carry credentials/],
    [{ adminToken: "openclaw_gw_live_fake-prod-token" }, /adminToken: it is a prod token; the dev gateway needs a token starting openclaw_gw_dev_/],
    [{ adminToken: "sk-ant-123" }, /adminToken: it has no gateway token prefix/],
    [{ rotationFraction: 1 }, /rotationFraction: 1 is outside 0.1..0.95/],
    [{ recoveryWindowDays: 3 }, /recoveryWindowDays: 3 is not allowed; use 7 to 30 days, or 0/],
    [{ secretName: "openclaw/prod/ci-runner" }, /secretName: openclaw\/prod\/ci-runner is outside this environment's namespace; start it with openclaw\/dev\//],
    [{ backend: "vault" }, /backend: "vault" is not a gateway backend/],
    [{ awsRegion: "mars" }, /awsRegion: "mars" is not an AWS region/],
    [{ ledgerTable: "openclaw-rotator-prod-ledger" }, /ledgerTable: openclaw-rotator-prod-ledger does not name the dev environment \(alone\)/],
    [{ ledgerTable: "dev-and-prod-ledger" }, /ledgerTable: dev-and-prod-ledger does not name the dev environment/],
    [{ ledgerTable: "a" }, /ledgerTable: "a" is not a DynamoDB table name/],
  ])("refuses %j with a message that says what to fix", (overrides, expected) => {
    expect(problemsOf(overrides).join("\n")).toMatch(expected);
  });

  it("requires https for prod even on loopback", () => {
    expect(
      problemsOf({ environment: "prod", adminToken: "openclaw_gw_live_fake-prod-token", gatewayUrl: "http://127.0.0.1:1" }),
    ).toEqual(["gatewayUrl: a prod gateway must be reached over https://"]);
  });

  it("refuses a loopback gateway for prod, even over https", () => {
    expect(
      problemsOf({ environment: "prod", adminToken: "openclaw_gw_live_fake-prod-token", gatewayUrl: "https://127.0.0.1:8443" }),
    ).toEqual(["gatewayUrl: a prod gateway cannot be on loopback (127.0.0.1:8443); use the prod gateway's https:// address"]);
  });

  it("accepts a TTL whose rotation window is just long enough", () => {
    expect(problemsOf({ ttl: "20h" })).toEqual([]);
    expect(problemsOf({ ttl: "20h", consumerCacheTtl: "61m" })[0]).toMatch(/^ttl: 20h at rotationFraction 0.8 leaves 4h/);
    expect(problemsOf({ ttl: "16h", consumerCacheTtl: "1m" })).toEqual([]);
  });

  it("defaults consumerCacheTtl to 1h, the AWS caching clients' default", () => {
    const outcome = checkInputs(valid);
    expect(outcome.ok && outcome.inputs.consumerCacheTtl).toBe("1h");
  });

  it("never echoes credentials from a gateway URL that does not parse", () => {
    const problems = problemsOf({ gatewayUrl: "https://ops:openclaw_gw_dev_pasted-secret-value@gw example.com" }).join("\n");
    expect(problems).toMatch(/is not a URL/);
    expect(problems).not.toMatch(/ops:|pasted-secret-value/);
  });

  it("accepts admin:* with the explicit opt-in", () => {
    expect(problemsOf({ name: "break-glass", scopes: ["admin:*"], allowAdminScope: true })).toEqual([]);
  });

  it("never gives a CI token more than run:jobs and read:jobs, not even with the opt-in", () => {
    expect(problemsOf({ name: "deploy-ci", scopes: ["run:jobs", "admin:tools"], allowAdminScope: true })).toEqual([
      expect.stringMatching(/^scopes: deploy-ci is a CI token .* so it gets run:jobs and read:jobs only; remove admin:tools\./),
    ]);
  });

  it("requires the opt-in for admin:tools too", () => {
    expect(problemsOf({ name: "platform-admin", scopes: ["admin:tools"] })).toEqual([
      expect.stringMatching(/^scopes: admin:tools is for platform admins only; .* set allowAdminScope: true/),
    ]);
    expect(problemsOf({ name: "platform-admin", scopes: ["admin:tools"], allowAdminScope: true })).toEqual([]);
  });

  describe("the rotator credential (issue 12 part 4)", () => {
    const credential = { name: "openclaw-rotator", scopes: ["admin:tokens"], ttl: "7d", allowAdminScope: true, secretName: "openclaw-admin/dev/rotator" };

    it("is the one declaration that may live in openclaw-admin/<env>/rotator, token management alone, 30 days at most", () => {
      expect(problemsOf(credential)).toEqual([]);
      expect(problemsOf({ ...credential, ttl: "31d" })).toEqual([expect.stringMatching(/^ttl: 31d is too long for admin:tokens: .* at most 30d/)]);
      expect(problemsOf({ ...credential, allowAdminScope: false })).toEqual([expect.stringMatching(/^scopes: admin:tokens is for platform admins only \(it mints tokens/)]);
    });

    it("refuses any other token in its secret, and its name anywhere else", () => {
      expect(problemsOf({ ...credential, name: "billing-svc" })).toEqual([expect.stringMatching(/^secretName: openclaw-admin\/dev\/rotator is reserved for the rotator's own credential/)]);
      expect(problemsOf({ ...credential, scopes: ["admin:tokens", "admin:tools"] })).toEqual([expect.stringMatching(/^secretName: .* is reserved/)]);
      expect(problemsOf({ ...credential, secretName: "openclaw-admin/prod/rotator" })).toEqual([expect.stringMatching(/^secretName: openclaw-admin\/prod\/rotator is outside this environment's namespace/)]);
      expect(problemsOf({ ...credential, secretName: undefined })).toEqual([expect.stringMatching(/^name: openclaw-rotator is reserved for the rotator's own credential/)]);
    });

    it("lets a documented-API token leave adminToken out (minted with the rotator credential), never an openclaw-devices one", () => {
      expect(problemsOf({ adminToken: undefined })).toEqual([]);
      expect(checkInputs({ ...valid, adminToken: undefined })).toMatchObject({ ok: true, inputs: { adminToken: undefined } });
      expect(problemsOf({ adminToken: undefined, backend: "openclaw-devices", scopes: ["operator.read"] })).toEqual([expect.stringMatching(/^adminToken: give the gateway's shared token/)]);
    });
  });

  it("reports a missing admin token even when the environment is wrong too", () => {
    expect(problemsOf({ environment: "qa", adminToken: "" })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^environment: /), expect.stringMatching(/^adminToken: give an admin:\* token of the gateway/)]),
    );
  });

  it("reports every problem at once", () => {
    expect(problemsOf({ name: "X", ttl: "soon", scopes: ["nope"] })).toHaveLength(3);
  });

  it("never echoes the admin token in a problem", () => {
    const secret = "openclaw_gw_live_THIS-MUST-NOT-APPEAR";
    expect(problemsOf({ adminToken: secret }).join("\n")).not.toContain("THIS-MUST-NOT-APPEAR");
  });

  it("refuses an unknown key, naming it and the closest valid one", () => {
    expect(problemsOf({ rotationFracton: 0.5 })).toEqual([
      "rotationFracton: rotationFracton is not a GatewayToken input; did you mean rotationFraction? (the keys are name, scopes, ttl, environment, gatewayUrl, adminToken, rotationFraction, secretName, allowAdminScope, recoveryWindowDays, backend, awsRegion, ledgerTable, adopt, consumerCacheTtl)",
    ]);
    expect(problemsOf({ colour: "red" })).toEqual([expect.stringMatching(/^colour: colour is not a GatewayToken input \(the keys are name, /)]);
  });

  it("ignores Pulumi's own properties (the serialised provider) and keys left undefined", () => {
    expect(problemsOf({ __provider: "exports.handler = ...", secretArn: undefined })).toEqual([]);
  });

  it("defers checks of values Pulumi does not know yet", () => {
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    expect(problemsOf({ adminToken: unknown, gatewayUrl: unknown })).toEqual([]);
  });
});

describe("checkInputs for the openclaw-devices backend", () => {
  const device = {
    name: "ops-dashboard",
    scopes: ["operator.write", "operator.read"],
    ttl: "30d",
    environment: "dev",
    gatewayUrl: "http://127.0.0.1:18789/",
    // The gateway's shared token: any non-empty string, no environment prefix.
    adminToken: "b4tFq0-shared-gateway-secret",
    backend: "openclaw-devices",
  };
  const problemsOfDevice = (overrides: Record<string, unknown>): string[] => {
    const outcome = checkInputs({ ...device, ...overrides });
    return outcome.ok ? [] : outcome.problems.map((p) => `${p.field}: ${p.message}`);
  };

  it("accepts operator scopes and a shared token without prefix, in the operator set's canonical order", () => {
    // Act
    const outcome = checkInputs(device);

    // Assess
    expect(outcome).toEqual({
      ok: true,
      inputs: {
        ...device,
        scopes: ["operator.read", "operator.write"],
        gatewayUrl: "http://127.0.0.1:18789",
        rotationFraction: 0.8,
        secretName: "openclaw/dev/ops-dashboard",
        allowAdminScope: false,
        recoveryWindowDays: 7,
        awsRegion: undefined,
        ledgerTable: "openclaw-rotator-dev-ledger",
        adopt: false,
        consumerCacheTtl: "1h",
      },
    });
  });

  it.each([
    [
      { scopes: ["operator.bogus"] },
      /^scopes\[0\]: "operator.bogus" is not an operator scope; use one of operator.read, operator.write, operator.admin, operator.pairing, operator.approvals, operator.questions, operator.talk, operator.talk.secrets, operator.sessions.read, operator.sessions.write$/,
    ],
    [
      { scopes: ["read:agents"] },
      /^scopes\[0\]: "read:agents" is not an operator scope \(it belongs to the documented-api backend, but this token's backend is openclaw-devices\); use one of operator.read/,
    ],
    [{ scopes: [] }, /^scopes: give at least one operator scope, from operator.read, operator.write/],
    [{ scopes: ["operator.read", "operator.read"] }, /^scopes\[1\]: operator.read is listed twice/],
    [{ scopes: ["operator.admin"] }, /^scopes: operator.admin is full control of the gateway .* set allowAdminScope: true/],
    [{ scopes: ["operator.pairing"] }, /^scopes: operator.pairing is for platform admins only \(it approves device pairings, so it can grant any scope\); .* set allowAdminScope: true/],
    [{ adminToken: "" }, /^adminToken: give the gateway's shared token, its gateway.auth.token/],
    [{ gatewayUrl: "http://gateway-dev.example.com" }, /plain http is only allowed on loopback; use https:\/\/gateway-dev.example.com/],
    [{ gatewayUrl: "https://gateway-prod.example.com" }, /names the prod environment, but this token is for dev/],
    [{ environment: "prod", adminToken: "x", gatewayUrl: "http://127.0.0.1:18789" }, /^gatewayUrl: a prod gateway must be reached over https:\/\//],
  ])("refuses %j with a message that says what to fix", (overrides, expected) => {
    // Act
    const problems = problemsOfDevice(overrides);

    // Assess
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });

  it("accepts operator.admin with the explicit opt-in", () => {
    expect(problemsOfDevice({ scopes: ["operator.admin"], allowAdminScope: true })).toEqual([]);
  });

  it("refuses an operator scope on the documented API, naming the backend it belongs to", () => {
    expect(problemsOf({ scopes: ["operator.read"] })).toEqual([
      expect.stringMatching(
        /^scopes\[0\]: "operator.read" is not a scope \(it belongs to the openclaw-devices backend, but this token's backend is documented-api\); use one of read:agents/,
      ),
    ]);
  });

  it("has no prefix rule for the shared token, whatever the environment", () => {
    expect(problemsOfDevice({ environment: "prod", gatewayUrl: "https://gw.example.com", adminToken: "no-prefix-at-all" })).toEqual([]);
  });

  it.each([
    ["ws://127.0.0.1:18789", "http://127.0.0.1:18789", []],
    ["wss://gw.example.com", "https://gw.example.com", []],
    ["ws://gateway-dev.example.com", "http://gateway-dev.example.com", [/plain http is only allowed on loopback/]],
  ])("refuses the WebSocket URL %s, naming the http(s) URL %s to give instead", (gatewayUrl, http, more) => {
    // Act
    const problems = problemsOfDevice({ gatewayUrl });

    // Assess
    expect(problems[0]).toBe(
      `gatewayUrl: give the gateway's ${http.split(":")[0]}:// URL (${http}), not its WebSocket URL: the openclaw-devices backend derives ${gatewayUrl.split(":")[0]}:// from it and also calls the gateway's admin HTTP RPC route`,
    );
    expect(problems.slice(1)).toEqual(more.map((m) => expect.stringMatching(m)));
  });

  it("judges no scope when the backend is unknown, and reports the backend", () => {
    expect(problemsOfDevice({ backend: "vault", scopes: ["anything"] })).toEqual([expect.stringMatching(/^backend: "vault" is not a gateway backend/)]);
  });

  it("never echoes the shared token in a problem", () => {
    const secret = "THIS-SHARED-SECRET-MUST-NOT-APPEAR";
    expect(problemsOfDevice({ adminToken: secret, gatewayUrl: "ftp://x", scopes: ["nope"] }).join("\n")).not.toContain(secret);
  });
});

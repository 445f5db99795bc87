/**
 * The stack's configuration rules (stackConfigProblems) and the stack files of this repository, which must pass them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { protectToken, RawStackConfig, stackConfigProblems } from "../../infra/config";
import { isCiTokenName } from "../../src/provider/least-privilege";
import { parseRotatorSettings, ROTATOR_DEFAULTS } from "../../infra/aws/rotator-settings";

// js-yaml ships with Jest's toolchain; only the test reads YAML.
const { load: loadYaml } = require("js-yaml") as { load(text: string): unknown };

const ROOT = join(__dirname, "..", "..");

const TOKENS = [
  { name: "ci-runner", scopes: ["run:jobs"], ttl: "30d" },
  { name: "app-backend", scopes: ["run:jobs", "read:jobs"], ttl: "90d" },
  { name: "dashboard", scopes: ["read:agents", "read:jobs"], ttl: "90d" },
];

const prodStack: RawStackConfig = {
  stack: "prod",
  environment: "prod",
  gatewayUrl: "https://gateway.openclaw.example",
  backend: undefined,
  tokens: TOKENS,
  rotator: { deploy: true },
};

const problemsOf = (overrides: Partial<RawStackConfig>): string[] =>
  stackConfigProblems({ ...prodStack, ...overrides }).map((p) => `${p.field}: ${p.message}`);

describe("protectToken: prod tokens are protected from pulumi destroy by default", () => {
  it.each([
    ["prod", undefined, true],
    ["prod", false, false],
    ["stage", undefined, false],
    ["dev", undefined, false],
    ["dev", true, true],
  ] as const)("%s with protect %s: %s", (environment, protect, expected) => {
    expect(protectToken({ ...TOKENS[0], ...(protect !== undefined && { protect }) }, environment)).toBe(expected);
  });
});

describe("stackConfigProblems", () => {
  it("accepts a well-formed prod stack", () => {
    expect(problemsOf({})).toEqual([]);
  });

  describe("unknown keys, refused before anything is declared", () => {
    it("in a token declaration: names the key and the closest valid one, once", () => {
      expect(problemsOf({ tokens: [{ ...TOKENS[0], rotationFracton: 0.7 }] })).toEqual([
        "openclaw:tokens[0].rotationFracton: rotationFracton is not a token declaration key; did you mean rotationFraction? (the keys are name, scopes, ttl, rotationFraction, consumerCacheTtl, allowAdminScope, secretName, recoveryWindowDays, protect, adopt)",
      ]);
    });

    it("in a token declaration: a resource input the stack sets itself is not the declaration's", () => {
      expect(problemsOf({ tokens: [{ ...TOKENS[0], gatewayUrl: "https://elsewhere.example" }] })).toEqual([
        expect.stringMatching(/^openclaw:tokens\[0\]\.gatewayUrl: gatewayUrl is not a token declaration key \(the keys are /),
      ]);
    });

    it("in the openclaw namespace: a typo of a stack key", () => {
      expect(problemsOf({ keys: ["environment", "gatewayURL", "tokens", "adminToken"] })).toEqual([
        "openclaw:gatewayURL: gatewayURL is not an openclaw config key; did you mean gatewayUrl? (the keys are environment, gatewayUrl, backend, adminToken, tokens, rotator, front)",
      ]);
    });

    it("protect must be a boolean", () => {
      expect(problemsOf({ tokens: [{ ...TOKENS[0], protect: "yes" }] })).toEqual(["openclaw:tokens[0].protect: must be true or false (prod tokens are protected unless it is false)"]);
    });
  });

  describe("the gateway URL", () => {
    it("refuses plain http in prod, once for the stack rather than once per token", () => {
      expect(problemsOf({ gatewayUrl: "http://gateway.openclaw.example" })).toEqual(["openclaw:gatewayUrl: a prod gateway must be reached over https://"]);
    });

    it("refuses http in prod even on loopback", () => {
      expect(problemsOf({ gatewayUrl: "http://127.0.0.1:8080" })).toEqual(["openclaw:gatewayUrl: a prod gateway must be reached over https://"]);
    });

    it.each([
      ["https://gateway-dev.openclaw.example", "dev"],
      ["https://gateway.staging.openclaw.example", "stage"],
      ["https://stage-gateway.openclaw.example", "stage"],
    ])("refuses a prod gateway at %s, a %s host", (url, named) => {
      expect(problemsOf({ gatewayUrl: url })).toEqual([
        `openclaw:gatewayUrl: host ${new URL(url).hostname} names the ${named} environment, but this token is for prod`,
      ]);
    });

    it("is checked even before any token is declared", () => {
      expect(problemsOf({ gatewayUrl: "http://gateway.openclaw.example", tokens: [] })).toEqual([
        "openclaw:gatewayUrl: a prod gateway must be reached over https://",
        "openclaw:tokens: declare at least one token: a list of {name, scopes, ttl}",
      ]);
    });

    it("must be given", () => {
      expect(problemsOf({ gatewayUrl: undefined })).toEqual([
        "openclaw:gatewayUrl: give the prod gateway's URL (pulumi config set openclaw:gatewayUrl https://gateway.example.com)",
      ]);
    });

    it("may be http on loopback in dev, for the reference gateway", () => {
      expect(problemsOf({ stack: "dev", environment: "dev", gatewayUrl: "http://127.0.0.1:8080" })).toEqual([]);
    });
  });

  describe("least privilege", () => {
    it.each([
      ["write:agents", ["run:jobs", "write:agents"]],
      ["read:agents", ["read:agents"]],
      ["admin:tools", ["run:jobs", "admin:tools"]],
    ])("gives a CI token run:jobs and read:jobs only, refusing %s", (extra, scopes) => {
      const problems = problemsOf({ tokens: [{ name: "ci-runner", scopes, ttl: "30d" }] });
      expect(problems).toEqual([
        `openclaw:tokens[0].scopes: ci-runner is a CI token (its name has the word "ci"), so it gets run:jobs and read:jobs only; remove ${extra}. A deploy that needs admin actions mints a short-lived admin token and revokes it afterwards`,
      ]);
    });

    it("applies the rule with the backend's own scopes on the openclaw-devices backend", () => {
      const base = { stack: "dev", environment: "dev", backend: "openclaw-devices", gatewayUrl: "http://127.0.0.1:18789" };
      expect(problemsOf({ ...base, tokens: [{ name: "ci-runner", scopes: ["operator.write", "operator.read"], ttl: "30d" }] })).toEqual([]);
      expect(problemsOf({ ...base, tokens: [{ name: "ci-runner", scopes: ["operator.write", "operator.pairing"], ttl: "30d" }] })).toEqual([
        `openclaw:tokens[0].scopes: ci-runner is a CI token (its name has the word "ci"), so it gets operator.write and operator.read only; remove operator.pairing. A deploy that needs admin actions mints a short-lived admin token and revokes it afterwards`,
      ]);
    });

    it("refuses admin scopes on a CI token even with allowAdminScope", () => {
      const problems = problemsOf({ tokens: [{ name: "deploy-ci", scopes: ["admin:*"], ttl: "1d", allowAdminScope: true }] });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^openclaw:tokens\[0\]\.scopes: deploy-ci is a CI token .* remove admin:\*/);
    });

    it("takes consumerCacheTtl per token and checks it with the provider's rule", () => {
      expect(problemsOf({ tokens: [{ name: "ci-runner", scopes: ["run:jobs"], ttl: "30d", consumerCacheTtl: "2h" }] })).toEqual([]);
      expect(problemsOf({ tokens: [{ name: "ci-runner", scopes: ["run:jobs"], ttl: "30d", consumerCacheTtl: "5s" }] })).toEqual([
        expect.stringMatching(/^openclaw:tokens\[0\]\.consumerCacheTtl: "5s" is not a duration in 1m\.\.1d/),
      ]);
    });

    it("lets a CI token poll with read:jobs", () => {
      expect(problemsOf({ tokens: [{ name: "ci-runner", scopes: ["run:jobs", "read:jobs"], ttl: "30d" }] })).toEqual([]);
    });

    it("refuses admin:* without allowAdminScope (the provider's rule)", () => {
      expect(problemsOf({ tokens: [{ name: "break-glass", scopes: ["admin:*"], ttl: "1d" }] })).toEqual([
        "openclaw:tokens[0].scopes: admin:* is full control, for break-glass tokens only; grant the narrow scopes the consumer needs, or set allowAdminScope: true if this token really is a break-glass token",
      ]);
    });

    it("refuses admin:tools without allowAdminScope, and accepts it with", () => {
      const token = { name: "platform-admin", scopes: ["admin:tools"], ttl: "30d" };
      expect(problemsOf({ tokens: [token] })).toEqual([
        "openclaw:tokens[0].scopes: admin:tools is for platform admins only; grant the narrow scopes platform-admin needs, or set allowAdminScope: true if this token belongs to a named platform admin",
      ]);
      expect(problemsOf({ tokens: [{ ...token, allowAdminScope: true }] })).toEqual([]);
    });

    it('recognises "ci" as a word of the name only', () => {
      expect(["ci", "ci-runner", "deploy-ci", "nightly-ci-job"].map(isCiTokenName)).toEqual([true, true, true, true]);
      expect(["circleci-runner", "cicd", "social-feed", "acid"].map(isCiTokenName)).toEqual([false, false, false, false]);
    });
  });

  // Threat model, case 13: settings that guarantee a token expires before its rotation can finish were accepted.
  describe("the rotation window against the rotator's schedule and quiet period", () => {
    it("refuses a weekly schedule for a 10h token", () => {
      const problems = problemsOf({ tokens: [{ name: "ci-runner", scopes: ["run:jobs"], ttl: "10h" }], rotator: { deploy: true, schedule: "rate(7 days)", heartbeatWindow: "1d" } });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^openclaw:tokens\[0\]\.ttl: 10h at rotationFraction 0\.8 leaves 2h between the rotation and expiry/);
    });

    it("refuses a weekly schedule even for a 30d token, naming the settings and the fix", () => {
      expect(problemsOf({ tokens: [{ name: "ci-runner", scopes: ["run:jobs"], ttl: "30d" }], rotator: { deploy: true, schedule: "rate(7 days)", heartbeatWindow: "1d" } })).toEqual([
        "openclaw:tokens[0].ttl: 30d at rotationFraction 0.8 leaves 6d between the rotation and expiry, but the rotator (schedule rate(7 days), quietPeriod 15m, consumerCacheTtl 1h) needs 14.1d there: two runs, the wait for consumers and an hour's margin. Use a ttl of at least 71d, a lower rotationFraction, a more frequent openclaw:rotator.schedule, or a shorter quietPeriod",
      ]);
    });

    it("refuses a quiet period longer than the time between rotation and expiry", () => {
      const problems = problemsOf({ tokens: [{ name: "ci-runner", scopes: ["run:jobs"], ttl: "1d" }], rotator: { deploy: true, quietPeriod: "7d" } });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^openclaw:tokens\[0\]\.ttl: 1d at rotationFraction 0\.8 leaves 4.8h between the rotation and expiry, but the rotator \(schedule rate\(1 hour\), quietPeriod 7d, consumerCacheTtl 1h\) needs/);
    });

    it("accepts the shortest window the default rotator can finish in, and counts a longer consumerCacheTtl", () => {
      // rate(1 hour) twice + consumerCacheTtl 1h + the 1h margin = 4h, as the provider's own rule (consumerCacheTtl +
      // the suspension window + a run + the margin) asks: 20h at 0.8 leaves exactly that.
      expect(problemsOf({ tokens: [{ name: "ci-runner", scopes: ["run:jobs"], ttl: "20h" }] })).toEqual([]);
      // A 12h cache on a 3d token: 14.4h between rotation and expiry, 15h needed with the default (hourly) schedule.
      const problems = problemsOf({ tokens: [{ name: "ci-runner", scopes: ["run:jobs"], ttl: "3d", consumerCacheTtl: "12h" }] });
      expect(problems.join("\n")).toMatch(/3d at rotationFraction 0\.8 leaves 14\.4h between the rotation and expiry/);
    });
  });

  describe("openclaw:rotator", () => {
    it("is optional: unset means the defaults, which do not deploy", () => {
      expect(problemsOf({ rotator: undefined })).toEqual([]);
      expect(parseRotatorSettings(undefined)).toEqual({ ok: true, settings: { ...ROTATOR_DEFAULTS, alarmEmail: undefined } });
      expect(ROTATOR_DEFAULTS).toMatchObject({ deploy: false, schedule: "rate(1 hour)", quietPeriod: "15m", suspensionWindow: "1h", maxConcurrency: 8, logRetentionDays: 30 });
    });

    it("fills in the defaults around what is set", () => {
      expect(parseRotatorSettings({ deploy: true, alarmEmail: "oncall@example.com", logRetentionDays: 90 })).toEqual({
        ok: true,
        settings: { deploy: true, schedule: "rate(1 hour)", quietPeriod: "15m", suspensionWindow: "1h", maxConcurrency: 8, logRetentionDays: 90, alarmEmail: "oncall@example.com", tracing: false },
      });
    });

    it.each([
      ["rate(1 hour)"],
      ["rate(2 hours)"],
      ["rate(30 minutes)"],
      ["rate(1 day)"],
    ])("accepts the schedule %s", (schedule) => {
      expect(problemsOf({ rotator: { deploy: true, schedule } })).toEqual([]);
    });

    it.each([
      ["cron(0 * * * ? *)", "2h"],
      ["cron(15 3 * * ? *)", "1d"],
    ])("accepts the cron schedule %s with the heartbeat window %s", (schedule, heartbeatWindow) => {
      expect(problemsOf({ rotator: { deploy: true, schedule, heartbeatWindow } })).toEqual([]);
    });

    it("reports every bad setting at once, each under its own key with the fix", () => {
      expect(
        problemsOf({
          rotator: { deploy: "yes", schedule: "rate(1 hours)", quietPeriod: "soon", maxConcurrency: 2.5, logRetentionDays: 0, alarmEmail: "pager", schedul: "x" },
        }),
      ).toEqual([
        "openclaw:rotator.schedul: schedul is not a rotator setting; did you mean schedule? (the settings are deploy, schedule, quietPeriod, suspensionWindow, maxConcurrency, logRetentionDays, alarmEmail, heartbeatWindow, tracing)",
        'openclaw:rotator.deploy: "yes" is not true or false',
        "openclaw:rotator.schedule: write rate(1 hour), not rate(1 hours)",
        'openclaw:rotator.quietPeriod: "soon" is not a duration; write a whole number and a unit, e.g. "15m" or "1h"',
        "openclaw:rotator.maxConcurrency: 2.5 is not a whole number from 1 to 50; the default is 8",
        "openclaw:rotator.logRetentionDays: 0 is not a CloudWatch Logs retention; use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (the default is 30)",
        'openclaw:rotator.alarmEmail: "pager" is not an email address; write it like oncall@example.com, or leave the key out for no email',
      ]);
    });

    it.each([
      [{ schedule: "cron(0 * * * *)" }, /openclaw:rotator.schedule: cron\(0 \* \* \* \*\) has 5 fields; EventBridge cron has 6/],
      [{ schedule: "at(2030-01-01T00:00:00)" }, /runs only once, but the rotator must run on a recurring schedule/],
      [{ quietPeriod: "30s" }, /openclaw:rotator.quietPeriod: 30s is outside 1m..7d/],
      [{ suspensionWindow: "30s" }, /openclaw:rotator.suspensionWindow: 30s is outside 1m..7d \("0" disables the suspension\)/],
      [{ suspensionWindow: 0 }, /openclaw:rotator.suspensionWindow: 0 is not a duration; .* or "0" for no suspension/],
      [{ maxConcurrency: 51 }, /openclaw:rotator.maxConcurrency: 51 is not a whole number from 1 to 50/],
      [{ maxConcurrency: "8" }, /openclaw:rotator.maxConcurrency: "8" is not a whole number/],
      [{ schedule: "cron(15 3 ? * MON-FRI *)" }, /openclaw:rotator.heartbeatWindow: a cron schedule .* has no fixed interval; set heartbeatWindow/],
      [{ schedule: "rate(2 days)" }, /openclaw:rotator.heartbeatWindow: rate\(2 days\) runs less than once a day/],
      [{ heartbeatWindow: "90s" }, /openclaw:rotator.heartbeatWindow: "90s" is not a heartbeat window/],
      [{ heartbeatWindow: 7200 }, /openclaw:rotator.heartbeatWindow: 7200 is not a duration/],
      [{ tracing: "yes" }, /openclaw:rotator.tracing: "yes" is not true or false/],
    ])("refuses %j", (rotator, message) => {
      const problems = problemsOf({ rotator: { deploy: true, ...rotator } });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(message);
    });

    it('takes a suspensionWindow, "0" turning the suspension off', () => {
      const outcome = parseRotatorSettings({ deploy: true, suspensionWindow: "0" });
      expect(outcome).toMatchObject({ ok: true, settings: { suspensionWindow: "0" } });
      expect(parseRotatorSettings({ deploy: true, suspensionWindow: "2h" })).toMatchObject({ ok: true, settings: { suspensionWindow: "2h" } });
    });

    it("must be an object", () => {
      expect(problemsOf({ rotator: true })).toEqual([
        'openclaw:rotator: set it to an object such as {deploy: true, schedule: "rate(1 hour)"}; keys: deploy, schedule, quietPeriod, suspensionWindow, maxConcurrency, logRetentionDays, alarmEmail, heartbeatWindow, tracing',
      ]);
    });
  });

  // Issue 12 part 4: no long-lived admin token in a deployment.
  describe("openclaw:adminToken", () => {
    const REFUSED =
      "openclaw:adminToken: remove it (pulumi config rm openclaw:adminToken): the documented-API rotator and the tokens use the rotator's own short-lived admin:tokens credential; create it once with `openclaw-tokens bootstrap-rotator` and the break-glass token, which stays out of the stack (docs/runbook.md)";
    const devices = { stack: "dev", environment: "dev", backend: "openclaw-devices", gatewayUrl: "http://127.0.0.1:18789", tokens: [{ name: "ci-runner", scopes: ["operator.write"], ttl: "30d" }, { name: "app-backend", scopes: ["operator.read"], ttl: "90d" }] };

    it("is refused, once, on a documented-API stack that deploys the rotator, with the way to the rotator's own credential", () => {
      expect(problemsOf({ adminTokenSet: true })).toEqual([REFUSED]);
      expect(problemsOf({ adminTokenSet: true, backend: "documented-api" })).toEqual([REFUSED]);
    });

    it("is not needed there: without it the stack is accepted, its tokens minted with the rotator's credential", () => {
      expect(problemsOf({ adminTokenSet: false })).toEqual([]);
      expect(problemsOf({ adminTokenSet: false, backend: "documented-api" })).toEqual([]);
    });

    it("is still accepted on a documented-API stack that only declares tokens (no rotator deployed)", () => {
      expect(problemsOf({ adminTokenSet: true, rotator: { deploy: false } })).toEqual([]);
      expect(problemsOf({ adminTokenSet: true, rotator: undefined })).toEqual([]);
      expect(problemsOf({ adminTokenSet: false, rotator: undefined })).toEqual([]);
    });

    it("is not judged when whether it is set is not known (a stack file read without its secrets)", () => {
      expect(problemsOf({ adminTokenSet: undefined })).toEqual([]);
    });

    it("is required on openclaw-devices, whose tokens are minted with OpenClaw's shared token: reported once, under its own key", () => {
      expect(problemsOf({ ...devices, adminTokenSet: true })).toEqual([]);
      expect(problemsOf({ ...devices, adminTokenSet: true, rotator: { deploy: true } })).toEqual([]);
      for (const rotator of [{ deploy: true }, undefined]) {
        expect(problemsOf({ ...devices, adminTokenSet: false, rotator })).toEqual([
          "openclaw:adminToken: give the gateway's shared token, its gateway.auth.token (as a secret: pulumi config set --secret)",
        ]);
      }
    });
  });

  it("reports an unknown environment once, not once more per token", () => {
    expect(problemsOf({ stack: "qa", environment: "qa" })).toEqual(["openclaw:environment: set it to dev, stage or prod (pulumi config set openclaw:environment dev)"]);
  });

  it("still names the stack/environment mismatch", () => {
    expect(problemsOf({ environment: "dev", gatewayUrl: "https://gateway-dev.openclaw.example" })).toEqual([
      "openclaw:environment: stack prod must deploy the prod environment, not dev",
    ]);
  });
});

describe("the repository's stack files", () => {
  const GATEWAYS = {
    dev: "https://gateway-dev.openclaw.example",
    stage: "https://gateway-stage.openclaw.example",
    prod: "https://gateway.openclaw.example",
  } as const;

  describe.each(Object.entries(GATEWAYS))("Pulumi.%s.yaml", (stack, gatewayUrl) => {
    const text = readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8");
    const config = (loadYaml(text) as { config: Record<string, unknown> }).config;

    it("passes the stack's validation", () => {
      const raw: RawStackConfig = {
        stack,
        environment: config["openclaw:environment"],
        gatewayUrl: config["openclaw:gatewayUrl"],
        backend: config["openclaw:backend"],
        tokens: config["openclaw:tokens"],
        rotator: config["openclaw:rotator"],
        // As `pulumi up` reads it: the file sets no admin token (checked below).
        adminTokenSet: Object.keys(config).includes("openclaw:adminToken"),
        keys: Object.keys(config).filter((k) => k.startsWith("openclaw:")).map((k) => k.slice("openclaw:".length)),
      };
      expect(stackConfigProblems(raw)).toEqual([]);
    });

    it("declares the environment, its gateway, the three least-privilege tokens and the rotator", () => {
      expect(config["openclaw:environment"]).toBe(stack);
      expect(config["openclaw:gatewayUrl"]).toBe(gatewayUrl);
      expect(config["openclaw:tokens"]).toEqual(TOKENS);
      expect(config["openclaw:rotator"]).toMatchObject({ deploy: true });
    });

    it("holds no secret: no admin token, no secure value, no token-shaped string, and points to bootstrap-rotator rather than to an admin token", () => {
      const values = text
        .split("\n")
        .filter((line) => !/^\s*#/.test(line))
        .join("\n");
      expect(Object.keys(config)).not.toContain("openclaw:adminToken");
      expect(values).not.toMatch(/secure:/);
      expect(values).not.toMatch(/encryptionsalt/);
      expect(text).not.toMatch(/openclaw_gw_(dev|stage|live)_[A-Za-z0-9]/);
      // The stack deploys a documented-API rotator, which refuses openclaw:adminToken: the file must not ask for one.
      expect(text).not.toMatch(/pulumi config set --secret openclaw:adminToken/);
      expect(text).toContain(`openclaw-tokens bootstrap-rotator --environment ${stack}`);
    });
  });
});

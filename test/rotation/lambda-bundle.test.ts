/** The esbuild bundle as the Lambda runtime loads it: its events, its JSON logs and EMF metrics, and what they never hold. */
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { DAY, RotationHarness } from "../support/rotation-harness";
import { runBundledRotator } from "../support/run-rotator";
import { Sensitive } from "../../src/domain/sensitive";

jest.setTimeout(60_000);

const BUNDLE = resolve(__dirname, "../../dist/lambda/rotator/index.js");

describe("the bundled rotator Lambda", () => {
  let h: RotationHarness;
  beforeAll(async () => {
    h = await RotationHarness.start();
  });
  afterAll(() => h?.stop());
  beforeEach(() => h.reset());

  it("is one minified file with a source map, exporting the handler", () => {
    expect(statSync(BUNDLE).size).toBeGreaterThan(10_000);
    expect(statSync(`${BUNDLE}.map`).size).toBeGreaterThan(0);
    expect(readFileSync(BUNDLE, "utf8")).toMatch(/sourceMappingURL=index\.js\.map/);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect(typeof require(BUNDLE).handler).toBe("function");
  });

  it("writes structured JSON logs and EMF metrics with the environment, and never a token value", async () => {
    await h.declare({ name: "ci-runner" }, { name: "dashboard", scopes: ["read:agents"] });
    const before = [await h.current("ci-runner"), await h.current("dashboard")];
    await h.advance(25 * DAY);

    const run = await runBundledRotator(h);

    expect(run.code).toBe(0);
    expect(run.result.outcomes).toEqual({ "openclaw/dev/ci-runner": "waiting", "openclaw/dev/dashboard": "waiting" });
    const lines = run.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    const logs = lines.filter((l) => l.message);
    const emf = lines.find((l) => l._aws);
    expect(logs.find((l) => /^start: rotation intent recorded/.test(l.message) && l.token === "ci-runner")).toMatchObject({ level: "INFO", token: "ci-runner", environment: "dev", service: "openclaw-rotator" });
    // Exactly the dimension set the alarms watch: Powertools always adds service to the environment.
    expect(emf._aws.CloudWatchMetrics[0].Namespace).toBe("OpenClawTokens");
    expect(emf._aws.CloudWatchMetrics[0].Dimensions).toEqual([["service", "environment"]]);
    expect([emf.service, emf.environment]).toEqual(["openclaw-rotator", "dev"]);
    // Powertools records a metric added twice as an array of values; CloudWatch sums them.
    const total = (values: number | number[]) => ([] as number[]).concat(values).reduce((a, b) => a + b, 0);
    expect(emf.environment).toBe("dev");
    expect(total(emf.TokensDue)).toBe(2);
    expect(total(emf.RotationsStarted)).toBe(2);
    const after = [await h.current("ci-runner"), await h.current("dashboard")];
    for (const token of [...before, ...after, { reveal: () => h.gateway.adminToken }]) {
      expect(run.stdout + run.stderr).not.toContain(token.reveal());
    }
  });

  it("reports consumers still on the old token per token, as a metric of its own (service, environment, token)", async () => {
    await h.declare({ name: "orders" });
    const old = await h.current("orders");
    await h.advance(25 * DAY);
    expect((await runBundledRotator(h)).result.outcomes).toEqual({ "openclaw/dev/orders": "waiting" });
    const call = (token: string, consumer: string) => h.consume(new Sensitive(token), consumer);
    await call((await h.current("orders")).reveal(), "orders-a");
    await call(old.reveal(), "orders-b");
    await h.advance(20 * 60_000);

    const run = await runBundledRotator(h);

    const emf = run.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).filter((l) => l._aws);
    const perToken = emf.filter((l) => l._aws.CloudWatchMetrics[0].Metrics.some((m: { Name: string }) => m.Name === "ConsumersOnOldToken"));
    expect(perToken).toHaveLength(1);
    expect(perToken[0]._aws.CloudWatchMetrics[0].Dimensions).toEqual([["service", "environment", "token"]]);
    expect([perToken[0].service, perToken[0].environment, perToken[0].token, perToken[0].ConsumersOnOldToken]).toEqual(["openclaw-rotator", "dev", "orders", 1]);
    // The environment-wide metrics keep exactly the alarms' dimension set.
    for (const line of emf.filter((l) => !perToken.includes(l))) expect(line._aws.CloudWatchMetrics[0].Dimensions).toEqual([["service", "environment"]]);
  });

  it("dispatches Secrets Manager's rotation steps", async () => {
    await h.declare({ name: "ci-runner" });
    const token = "0f0f0f0f-1111-4222-8333-444444444444";
    for (const Step of ["createSecret", "setSecret", "testSecret", "finishSecret"]) {
      const run = await runBundledRotator(h, { event: { Step, SecretId: h.secretName("ci-runner"), ClientRequestToken: token } });
      expect(run.result).toEqual({ step: Step });
    }
    expect((await h.store.describe(h.secretName("ci-runner")))?.stages.AWSCURRENT).toBe(token);
  });

  it("answers an operator's emergency revocation", async () => {
    await h.declare({ name: "ci-runner" });
    const leaked = await h.current("ci-runner");
    const run = await runBundledRotator(h, { event: { action: "emergency-revoke", secretName: h.secretName("ci-runner") } });
    expect(run.result).toMatchObject({ newTokenId: expect.stringMatching(/^tok_/), elapsedMs: expect.any(Number) });
    expect(await h.accepted(leaked)).toBe(false);
    expect(await h.accepted(await h.current("ci-runner"))).toBe(true);
  });

  it("refuses to start with a missing setting, naming it", async () => {
    const run = await runBundledRotator(h, { env: { OPENCLAW_LEDGER_TABLE: "", OPENCLAW_QUIET_PERIOD: "soon" } });
    expect(run.code).not.toBe(0);
    expect(run.stderr + run.stdout).toMatch(/OPENCLAW_LEDGER_TABLE: is not set/);
    expect(run.stderr + run.stdout).toMatch(/OPENCLAW_QUIET_PERIOD: "soon" is not a duration/);
  });

  it("refuses an admin secret of another environment", async () => {
    const run = await runBundledRotator(h, { env: { OPENCLAW_ADMIN_SECRET_ID: "openclaw-admin/prod/gateway" } });
    expect(run.code).not.toBe(0);
    expect(run.stdout).toMatch(/the dev rotator reads only openclaw-admin\/dev\/gateway/);
  });
});

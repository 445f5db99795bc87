/**
 * Every alarm RotatorDeployment declares (read from the Pulumi-mocked resources) judged against what really happens:
 * the EMF lines the bundled rotator Lambda prints during real local rotations (moto + the reference gateway), and,
 * for the metrics AWS publishes itself (Lambda Errors, SQS queue depth), datapoints modelled from the run's outcome
 * with the dimensions AWS documents for them. Each alarm must fire on the run that should fire it, and on no other.
 */
import type * as Module from "../../infra/aws/rotator-deployment";
import { AlarmDefinition, Datapoint, datapointsFromEmf, evaluateAlarm } from "../support/cloudwatch-alarms";
import { DAY, RotationHarness } from "../support/rotation-harness";
import { runBundledRotator } from "../support/run-rotator";
import { alarmsOf, Deployed, deployOnMocks, T } from "./mocked-deployment";
import { installMocks } from "./pulumi-mocks";

jest.setTimeout(120_000);

/** What one scenario produced: its datapoints, and when CloudWatch would judge them. */
interface Observed {
  readonly points: Datapoint[];
  readonly at: number;
  readonly exitCode: number | null;
  /** What the function printed (its logs and EMF). */
  readonly output: string;
}

const queueNameOf = (arn: string) => arn.split(":").at(-1) as string;

describe("the deployment's alarms on the rotator's real output", () => {
  let dev: Deployed;
  let alarms: AlarmDefinition[];
  let h: RotationHarness;

  beforeAll(async () => {
    const registered = await installMocks();
    const mod: typeof Module = await import("../../infra/aws/rotator-deployment");
    dev = await deployOnMocks(mod, registered, "dev");
    alarms = alarmsOf(dev);
    h = await RotationHarness.start();
  });
  afterAll(() => h?.stop());
  beforeEach(() => h.reset());

  /**
   * One scheduled invocation of the bundled Lambda, and the datapoints it leads to: its EMF, and what AWS publishes
   * about it. Lambda counts each attempt under Errors {FunctionName}; a scheduled (asynchronous) run that still fails
   * after the retries of the deployment's event invoke config is sent to its on-failure destination, where SQS counts
   * it under ApproximateNumberOfMessagesVisible {QueueName}. Retries are not re-run here: they meet the same state.
   */
  async function scheduledRun(env: Record<string, string> = {}): Promise<Observed> {
    const startedAt = Date.now();
    const run = await runBundledRotator(h, { event: { kind: "scheduled-scan" }, env });
    const functionName = dev.one(T.Function).inputs.name as string;
    const asyncConfig = dev.one(T.EventInvokeConfig).inputs;
    expect(asyncConfig.functionName).toBe(functionName);
    const failed = run.code !== 0;
    const attempts = failed ? 1 + (asyncConfig.maximumRetryAttempts as number) : 1;
    const lambda: Datapoint[] = [
      { namespace: "AWS/Lambda", metricName: "Invocations", dimensions: { FunctionName: functionName }, timestamp: startedAt, values: Array(attempts).fill(1) },
      { namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: functionName }, timestamp: startedAt, values: Array(attempts).fill(failed ? 1 : 0) },
    ];
    const onFailure: Datapoint[] = failed
      ? [{ namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: queueNameOf(asyncConfig.destinationConfig.onFailure.destination) }, timestamp: startedAt, values: [1] }]
      : [];
    const points = [...datapointsFromEmf(run.stdout), ...lambda, ...onFailure];
    return { points, at: Math.max(...points.map((p) => p.timestamp)), exitCode: run.code, output: run.stdout + run.stderr };
  }

  /** The names of the alarms in ALARM for these datapoints. */
  const firing = (observed: Pick<Observed, "points" | "at">) =>
    alarms
      .filter((a) => evaluateAlarm(a, observed.points, observed.at).state === "ALARM")
      .map((a) => a.name)
      .sort();

  const name = (what: string) => `openclaw-rotator-dev-${what}`;

  it("declares only alarms this test proves (a new alarm needs a scenario here)", () => {
    expect(alarms.map((a) => a.name).sort()).toEqual(
      ["bad-state", "consumers-on-old-token", "dead-letters", "failed-runs", "lambda-errors", "no-recent-run", "rotations-failed"].map(name).sort(),
    );
  });

  it("a healthy run that starts rotations fires none", async () => {
    await h.declare({ name: "ci-runner" }, { name: "dashboard", scopes: ["read:agents"] });
    await h.advance(25 * DAY);

    const observed = await scheduledRun();

    expect(observed.exitCode).toBe(0);
    // The run published the rotator's metrics under exactly {service, environment}, and they reach the alarms' metrics.
    expect([...new Set(observed.points.filter((p) => p.namespace === "OpenClawTokens").map((p) => JSON.stringify(p.dimensions)))]).toEqual([
      JSON.stringify({ service: "openclaw-rotator", environment: "dev" }),
    ]);
    expect(firing(observed)).toEqual([]);
  });

  it("a rotation that fails (the gateway refuses to mint) fires rotations-failed", async () => {
    await h.declare({ name: "ci-runner" });
    await h.advance(25 * DAY);
    await h.gateway.setFaults({ rate: 1, kinds: ["500"], paths: ["/v1/admin/tokens"] });

    const observed = await scheduledRun();

    expect(observed.exitCode).toBe(0);
    expect(firing(observed)).toEqual([name("rotations-failed")]);
    const verdict = evaluateAlarm(alarms.find((a) => a.name === name("rotations-failed")) as AlarmDefinition, observed.points, observed.at);
    expect(verdict.periods).toEqual([1]);
  });

  it("consumers still on the old token at its deadline fire consumers-on-old-token (and rotations-failed)", async () => {
    await h.declare({ name: "ci-runner" });
    const old = await h.current("ci-runner");
    await h.advance(25 * DAY);
    expect((await scheduledRun()).exitCode).toBe(0); // promoted; the old token stays valid while consumers move
    await h.advance(5 * DAY - 30 * 60_000); // past the deadline (expiry - 1h), before the old token's expiry
    expect(await h.consume(old)).toBe(201); // a consumer that never reloaded its secret: its job is accepted

    const observed = await scheduledRun();

    expect(observed.exitCode).toBe(0);
    expect(firing(observed)).toEqual([name("consumers-on-old-token"), name("rotations-failed")].sort());
  });

  it("a token the rotator will not touch (declared for another gateway) fires bad-state", async () => {
    await h.declare({ name: "foreign" });
    const entry = await h.entry("foreign");
    await h.ledger.writeAll(entry, { ...entry.declaration, gatewayUrl: "https://gateway.openclaw.example" }, entry.state, undefined);
    await h.advance(25 * DAY);

    const observed = await scheduledRun();

    expect(observed.exitCode).toBe(0);
    expect(firing(observed)).toEqual([name("bad-state")]);
  });

  it("a run that fails as a whole (its admin secret is gone) fires lambda-errors, failed-runs and, with no completed run, no-recent-run", async () => {
    await h.declare({ name: "ci-runner" });
    await h.dropAdminSecret();

    const observed = await scheduledRun();

    expect(observed.exitCode).not.toBe(0);
    expect(observed.points.filter((p) => p.metricName === "Heartbeat")).toEqual([]);
    expect(firing(observed)).toEqual([name("failed-runs"), name("lambda-errors"), name("no-recent-run")]);
  });

  it("a documented-API run without its own credential (never bootstrapped, or lost) fails as a whole and fires the same alarms", async () => {
    await h.declare({ name: "ci-runner" });
    // The function's environment as this deployment gives it: no admin secret named, so the run reads openclaw-admin/dev/rotator.
    expect(Object.keys(dev.one(T.Function).inputs.environment.variables)).not.toContain("OPENCLAW_ADMIN_SECRET_ID");

    const observed = await scheduledRun({ OPENCLAW_ADMIN_SECRET_ID: "" });

    expect(observed.exitCode).not.toBe(0);
    expect(observed.output).toMatch(/rotator_credential_missing/);
    expect(observed.points.filter((p) => p.metricName === "Heartbeat")).toEqual([]);
    expect(firing(observed)).toEqual([name("failed-runs"), name("lambda-errors"), name("no-recent-run")]);
  });

  it("the heartbeat: every completed run beats, and two schedule periods without one fire no-recent-run", async () => {
    await h.declare({ name: "ci-runner" });
    const heartbeat = alarms.find((a) => a.name === name("no-recent-run")) as AlarmDefinition;
    const periodMs = heartbeat.period * 1000;

    const observed = await scheduledRun(); // nothing due: a run that does nothing still beats

    expect(observed.exitCode).toBe(0);
    const beats = observed.points.filter((p) => p.metricName === "Heartbeat");
    expect(beats.map((b) => [b.namespace, b.dimensions, b.values])).toEqual([["OpenClawTokens", { service: "openclaw-rotator", environment: "dev" }, [1]]]);
    // Right after the run, and one period later (the run's period still counts), the alarm holds.
    expect(evaluateAlarm(heartbeat, observed.points, observed.at).state).toBe("OK");
    expect(evaluateAlarm(heartbeat, observed.points, observed.at + periodMs).state).toBe("OK");
    // Two whole periods later with no further run: the schedule stopped, and the alarm says so.
    expect(evaluateAlarm(heartbeat, observed.points, observed.at + 2 * periodMs)).toMatchObject({ state: "ALARM", periods: [undefined, undefined] });
    // No data at all (a deleted schedule from the start) is an alarm too: missing data is breaching.
    expect(evaluateAlarm(heartbeat, [], observed.at).state).toBe("ALARM");
  });

  it("an event the scheduler could not deliver fires dead-letters: the alarm watches the queue the schedule writes to", () => {
    // Not reproducible locally: the datapoint AWS/SQS publishes once a message sits in the schedule's dead-letter queue.
    const deadLetterArn = dev.one(T.Schedule).inputs.target.deadLetterConfig.arn as string;
    const now = Date.now();
    const points: Datapoint[] = [
      { namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: queueNameOf(deadLetterArn) }, timestamp: now, values: [1] },
    ];
    // No run started, so none completed: the heartbeat alarm agrees.
    expect(firing({ points, at: now })).toEqual([name("dead-letters"), name("no-recent-run")]);
  });

  it("an alarm on a subset of the dimensions would never have fired on the same output (why exact sets matter)", async () => {
    await h.declare({ name: "ci-runner" });
    await h.advance(25 * DAY);
    await h.gateway.setFaults({ rate: 1, kinds: ["500"], paths: ["/v1/admin/tokens"] });
    const observed = await scheduledRun();
    const real = alarms.find((a) => a.name === name("rotations-failed")) as AlarmDefinition;
    const environmentOnly = { ...real, dimensions: { environment: "dev" } };

    expect(evaluateAlarm(real, observed.points, observed.at).state).toBe("ALARM");
    expect(evaluateAlarm(environmentOnly, observed.points, observed.at)).toMatchObject({ state: "OK", matched: [] });
  });
});

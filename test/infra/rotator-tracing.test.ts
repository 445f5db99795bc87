/**
 * The tracing stack setting, end to end on the bundle: with POWERTOOLS_TRACE_ENABLED=true (what `tracing: true`
 * deploys) inside a Lambda-like environment, each run sends an annotated "## rotator" subsegment and one per
 * Secrets Manager call to the X-Ray daemon address (here a UDP socket on loopback); with "false" (the default)
 * nothing is sent.
 */
import { createSocket, Socket } from "node:dgram";
import { AddressInfo } from "node:net";
import { DAY, RotationHarness } from "../support/rotation-harness";
import { runBundledRotator } from "../support/run-rotator";

jest.setTimeout(60_000);

const TRACE_ID = "1-5759e988-bd862e3fe1be46a994272793";

interface XRaySegment {
  readonly id: string;
  readonly name: string;
  readonly trace_id?: string;
  readonly parent_id?: string;
  readonly annotations?: Record<string, unknown>;
  readonly aws?: { operation?: string };
}

describe("X-Ray tracing of the bundled rotator", () => {
  let h: RotationHarness;
  let daemon: Socket;
  let received: XRaySegment[];

  beforeAll(async () => {
    h = await RotationHarness.start();
    daemon = createSocket("udp4");
    // Each datagram is a header line, then one segment document.
    daemon.on("message", (message) => received.push(JSON.parse(message.toString().split("\n")[1]) as XRaySegment));
    await new Promise<void>((resolve) => daemon.bind(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    daemon?.close();
    await h?.stop();
  });
  beforeEach(() => {
    received = [];
  });

  /** What the Lambda runtime sets for a sampled invocation of an on-demand function. */
  const lambdaRuntime = (traceEnabled: string) => ({
    POWERTOOLS_TRACE_ENABLED: traceEnabled,
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs24.x",
    LAMBDA_TASK_ROOT: __dirname,
    AWS_LAMBDA_FUNCTION_NAME: "openclaw-rotator-dev",
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    _X_AMZN_TRACE_ID: `Root=${TRACE_ID};Parent=53995c3f42cd8ad8;Sampled=1`,
    AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${(daemon.address() as AddressInfo).port}`,
    AWS_XRAY_CONTEXT_MISSING: "LOG_ERROR",
  });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

  it("sends the run's subsegment, annotated, with the Secrets Manager calls under it", async () => {
    await h.declare({ name: "ci-runner" });
    await h.advance(25 * DAY); // due: the run rotates it

    const run = await runBundledRotator(h, { event: { kind: "scheduled-scan" }, env: lambdaRuntime("true") });
    await settle();

    expect(run.code).toBe(0);
    const rotator = received.filter((s) => s.name === "## rotator");
    expect(rotator.map((s) => [s.trace_id, s.parent_id, s.annotations])).toEqual([[TRACE_ID, "53995c3f42cd8ad8", { environment: "dev", ColdStart: true }]]);
    const calls = received.filter((s) => s.name === "SecretsManager");
    expect(calls.map((c) => c.aws?.operation)).toEqual(expect.arrayContaining(["GetSecretValue", "PutSecretValue", "UpdateSecretVersionStage"]));
    expect(calls.every((c) => c.parent_id === rotator[0].id)).toBe(true);
  });

  it("sends nothing when the stack leaves tracing off", async () => {
    const run = await runBundledRotator(h, { event: { kind: "scheduled-scan" }, env: lambdaRuntime("false") });
    await settle();

    expect(run.code).toBe(0);
    expect(received).toEqual([]);
  });
});

/**
 * What an on-call engineer reads in CloudWatch Logs: every line of the bundled rotator carries the invocation's
 * request ID, the function and whether it was a cold start, so that one run's lines can be found together.
 */
import { RotationHarness } from "../support/rotation-harness";
import { runBundledRotator } from "../support/run-rotator";

jest.setTimeout(60_000);

describe("the rotator's log context", () => {
  let h: RotationHarness;
  beforeAll(async () => {
    h = await RotationHarness.start();
  });
  afterAll(() => h?.stop());

  it("tags every log line with its invocation's request ID and cold start, the first invocation cold, the next warm", async () => {
    await h.declare({ name: "ci-runner" });

    // The Lambda runtime's own variables for an on-demand function (Powertools reports cold starts only for those).
    const runtime = { AWS_LAMBDA_FUNCTION_NAME: "openclaw-rotator-dev", AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand" };
    const run = await runBundledRotator(h, { event: { kind: "scheduled-scan" }, env: { ...runtime, INVOCATIONS: "2" } });

    expect(run.code).toBe(0);
    const logs = run.stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => typeof l.message === "string");
    expect(logs.length).toBeGreaterThanOrEqual(4);
    const requestIds = [...new Set(logs.map((l) => l.function_request_id))];
    expect(requestIds).toHaveLength(2);
    expect(requestIds.every((id) => typeof id === "string" && /^[0-9a-f-]{36}$/.test(id as string))).toBe(true);
    const invocation = (id: unknown) => logs.filter((l) => l.function_request_id === id);
    expect([...new Set(invocation(requestIds[0]).map((l) => l.cold_start))]).toEqual([true]);
    expect([...new Set(invocation(requestIds[1]).map((l) => l.cold_start))]).toEqual([false]);
    for (const line of logs) {
      expect([line.function_name, line.service, line.environment]).toEqual(["openclaw-rotator-dev", "openclaw-rotator", "dev"]);
    }
    // Each invocation ends with its own "run: finished" line.
    expect(logs.filter((l) => l.message === "run: finished").map((l) => l.function_request_id)).toEqual(requestIds);
  });
});

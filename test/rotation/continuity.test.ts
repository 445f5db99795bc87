/**
 * Never without a valid current token: a consumer that keeps calling the gateway with AWSCURRENT (through a short
 * cache, as real services read Secrets Manager) sees no 401 across many rotations, also when the gateway fails
 * the rotator's calls at a high rate.
 */
import { Sensitive } from "../../src/domain/sensitive";
import { ownUserAgent } from "../../src/gateway/backend";
import { DocumentedApiGateway } from "../../src/gateway/documented-api";
import { RotationEngine } from "../../src/rotation/engine";
import { Consumer } from "../support/consumer";
import { DAY, Recorder, RotationHarness } from "../support/rotation-harness";

jest.setTimeout(240_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("consumers across rotations", () => {
  let h: RotationHarness;
  beforeAll(async () => {
    h = await RotationHarness.start();
  });
  afterAll(() => h?.stop());
  beforeEach(() => h.reset());

  /** Runs the engine until every token has completed `rotations` rotations, moving time on as the schedule would. */
  async function rotateRepeatedly(engine: () => RotationEngine, names: string[], rotations: number, maxRuns: number) {
    const completed: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
    let runs = 0;
    while (Object.values(completed).some((c) => c < rotations)) {
      if (++runs > maxRuns) throw new Error(`not done after ${maxRuns} runs: ${JSON.stringify(completed)}`);
      const { outcomes } = await engine().runScheduled();
      for (const name of names) if (outcomes[h.secretName(name)] === "completed") completed[name]++;
      const busy = Object.values(outcomes).some((o) => o === "waiting" || o === "failed");
      // Give the consumer time to pick the new token up, then let time pass: a quiet period, or to the next due date.
      await sleep(450);
      await h.advance(busy ? 11 * 60_000 : 25 * DAY);
    }
    return { completed, runs };
  }

  it("sees zero 401s through ten rotations", async () => {
    await h.declare({ name: "app-backend", scopes: ["run:jobs"] });
    const consumer = new Consumer(() => h.current("app-backend"), () => h.gateway.url);
    consumer.start();
    try {
      await h.advance(25 * DAY);
      const { completed } = await rotateRepeatedly(() => h.engine(), ["app-backend"], 10, 40);
      expect(completed["app-backend"]).toBe(10);
    } finally {
      await consumer.stop();
    }
    expect(consumer.total).toBeGreaterThan(100);
    expect(consumer.tally[401] ?? 0).toBe(0);
    expect(consumer.tally).toEqual({ 201: consumer.total });
  });

  it("completes every rotation, and never revokes an old token early, with 30% of the rotator's gateway calls failing", async () => {
    const names = ["svc-a", "svc-b", "svc-c"];
    await h.declare(...names.map((name) => ({ name })));
    const consumers = names.map((name) => new Consumer(() => h.current(name), () => h.gateway.url));
    // Faults hit the rotator's calls (admin API and whoami), not the consumers': their 401s would mean a bug.
    await h.gateway.setFaults({ rate: 0.3, kinds: ["503", "429", "500", "timeout", "reset"], paths: ["/v1/admin", "/v1/auth"], retryAfterSeconds: 0, holdMs: 2000 });
    const flaky = new DocumentedApiGateway({
      url: h.gateway.url,
      environment: "dev",
      adminToken: new Sensitive(h.gateway.adminToken),
      userAgent: ownUserAgent("rotator"),
      timeoutMs: 300,
      retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 50 },
    });
    const recorder = new Recorder();
    let injected = 0;
    consumers.forEach((c) => c.start());
    try {
      await h.advance(25 * DAY);
      const { completed } = await rotateRepeatedly(() => h.engine({ backend: flaky }, recorder), names, 3, 80);
      expect(Object.values(completed)).toEqual([3, 3, 3]);
      injected = await h.gateway.faultsInjected();
    } finally {
      await Promise.all(consumers.map((c) => c.stop()));
      await h.gateway.setFaults({ rate: 0, kinds: [] });
    }
    // The faults really happened (whether any call failed through all its retries is left to chance).
    expect(injected).toBeGreaterThanOrEqual(10);
    for (const consumer of consumers) expect(consumer.tally[401] ?? 0).toBe(0);
    for (const name of names) {
      const active = (await h.gatewayTokens(name)).filter((t) => t.status === "active");
      expect(active).toHaveLength(1);
    }
  });
});

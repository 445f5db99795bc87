/**
 * A fleet of consumers through three rotations of one token (issue 10), on real peers: moto's Secrets Manager and
 * DynamoDB, the reference gateway, the rotation engine; the clock accelerated in 10-minute steps, the rotator run at
 * every step (its schedule). Every consumer is named by its X-OpenClaw-Consumer header.
 */
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GatewayTokenClient } from "../../src/client";
import { Sensitive } from "../../src/domain/sensitive";
import { LedgerPhase } from "../../src/ledger/ledger";
import { Metric } from "../../src/rotation/observability";
import { Stage } from "../../src/store/token-store";
import { Recorder, RotationHarness } from "../support/rotation-harness";

jest.setTimeout(600_000);

const MIN = 60_000;
const HOUR = 60 * MIN;
const STEP = 10 * MIN;

/** A consumer that reads AWSCURRENT itself and keeps it for `cacheMs` (the AWS caching clients' way), no retry. */
class CachingConsumer {
  failures = 0;
  calls = 0;
  private cached: { token: Sensitive; readAt: number } | undefined;
  constructor(
    readonly name: string,
    private readonly h: RotationHarness,
    private readonly cacheMs: number,
    readonly everyMs: number,
    /** Reads the secret once and never again (a token from the environment). */
    private readonly neverRereads = false,
  ) {}
  async call(): Promise<void> {
    const now = this.h.clock.now().getTime();
    if (!this.cached || (!this.neverRereads && now - this.cached.readAt >= this.cacheMs)) {
      const record = await this.h.store.read("openclaw/dev/fleet", Stage.Current);
      this.cached = { token: record!.token, readAt: now };
    }
    this.calls++;
    if ((await send(this.h, this.cached.token, this.name)) !== 201) this.failures++;
  }
  holds(): Sensitive | undefined {
    return this.cached?.token;
  }
}

async function send(h: RotationHarness, token: Sensitive, consumer: string): Promise<number> {
  const res = await fetch(`${h.gateway.url}/v1/jobs`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token.reveal()}`, "Content-Type": "application/json", "X-OpenClaw-Consumer": consumer, "User-Agent": "fleet/1" },
    body: JSON.stringify({ agentId: "agt_echo", input: {} }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe("a fleet of consumers through three rotations", () => {
  let h: RotationHarness;
  beforeAll(async () => {
    h = await RotationHarness.start();
  });
  afterAll(() => h?.stop());
  beforeEach(() => h.reset());

  const settings = () => h.settings({ suspensionWindowMs: HOUR, quietPeriodMs: 15 * MIN });

  it("(a), (b) and (d) never fail; (c), holding its token from the environment, is named before the deadline; rotations keep their schedule", async () => {
    await h.declare({ name: "fleet", ttl: "1d", scopes: ["run:jobs"], consumerCacheTtl: "1h" });
    const a = new CachingConsumer("a-hourly-cache", h, HOUR, 20 * MIN);
    const c = new CachingConsumer("c-env-held", h, 0, 30 * MIN, true);
    // (d): four instances of one service, their caches expiring early and late.
    const d = [10, 25, 45, 60].map((m, i) => new CachingConsumer(`d-orders-${i}`, h, m * MIN, 20 * MIN));
    const secretsManager = new SecretsManagerClient({});
    const b = new GatewayTokenClient({ secretName: "openclaw/dev/fleet", secretsManager, cacheTtlMs: 7 * 24 * HOUR, consumer: "b-client-module", userAgent: "fleet-b/1", clock: h.clock });
    let bFailures = 0;
    let bCalls = 0;
    const recorder = new Recorder();
    const tokenIds: string[] = [(await h.entry("fleet")).state.current!.tokenId];
    const namedAt = new Map<string, number>(); // retiring token ID -> when (c) was first named on it
    const dueTimes: number[] = [];
    const startedAt: number[] = [];

    try {
      for (let step = 0; tokenIds.length < 4 && step < 600; step++) {
        const t = step * STEP;
        const due = (everyMs: number) => t % everyMs === 0;
        for (const consumer of [a, c, ...d]) if (due(consumer.everyMs)) await consumer.call();
        if (due(15 * MIN)) {
          bCalls++;
          const res = await b.fetch("/v1/jobs", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ agentId: "agt_echo", input: {} }) });
          await res.arrayBuffer();
          if (res.status !== 201) bFailures++;
        }
        const before = await h.entry("fleet");
        if (before.state.phase === LedgerPhase.Idle) dueTimes.push(before.state.nextCheckAt.getTime());
        await h.engine({ settings: settings() }, recorder).runScheduled();
        const after = await h.entry("fleet");
        if (after.state.current!.tokenId !== tokenIds.at(-1)) {
          tokenIds.push(after.state.current!.tokenId);
          startedAt.push(h.clock.now().getTime());
          expect(h.clock.now().getTime() - (dueTimes.at(-1) ?? 0)).toBeLessThanOrEqual(STEP); // on schedule
        }
        const retiring = after.state.retiring;
        if (retiring && after.state.consumersOnOldToken?.includes("c-env-held") && !namedAt.has(retiring.tokenId)) {
          namedAt.set(retiring.tokenId, h.clock.now().getTime());
          expect(h.clock.now().getTime()).toBeLessThan(retiring.expiresAt.getTime() - settings().expiryMarginMs);
        }
        await h.advance(STEP);
      }
    } finally {
      secretsManager.destroy();
    }

    expect(tokenIds).toHaveLength(4); // three rotations
    expect({ a: a.failures, b: bFailures, d: d.map((x) => x.failures) }).toEqual({ a: 0, b: 0, d: [0, 0, 0, 0] });
    expect(a.calls).toBeGreaterThan(100);
    expect(bCalls).toBeGreaterThan(100);
    // (c) was named on the first rotation's old token (its own), in the ledger and the log, before that token's deadline.
    expect(namedAt.has(tokenIds[0])).toBe(true);
    expect(recorder.lines.some((l) => /still on the old token/.test(l.message) && /c-env-held/.test(l.message))).toBe(true);
    expect(recorder.counts[Metric.ConsumersStillOnOldToken]).toBeGreaterThanOrEqual(1);
    // Then it broke: the one consumer the product cannot save without a restart.
    expect(c.failures).toBeGreaterThan(0);
  });

  it("a suspended token that a consumer still uses is reinstated within one check, and its failed calls are bounded", async () => {
    await h.declare({ name: "fleet", ttl: "1d", scopes: ["run:jobs"], consumerCacheTtl: "1h" });
    const a = new CachingConsumer("a-hourly-cache", h, HOUR, 20 * MIN);
    // Calls every 3 hours and caches for 5: silent long enough on the old token for the evidence to miss it.
    const rare = new CachingConsumer("r-rare-caller", h, 5 * HOUR, 3 * HOUR);
    const recorder = new Recorder();
    const original = (await h.entry("fleet")).state.current!.tokenId;
    let suspensions = 0;
    let reinstatedWithinOneCheck = 0;
    let refusedAt: number | undefined;

    for (let step = 0; step < 400; step++) {
      const t = step * STEP;
      for (const consumer of [a, rare]) {
        if (t % consumer.everyMs !== 0) continue;
        const failuresBefore = consumer.failures;
        await consumer.call();
        if (consumer === rare && rare.failures > failuresBefore) refusedAt = step;
      }
      const before = await h.entry("fleet");
      await h.engine({ settings: settings() }, recorder).runScheduled();
      const after = await h.entry("fleet");
      if (before.state.phase !== LedgerPhase.Suspended && after.state.phase === LedgerPhase.Suspended) suspensions++;
      if (refusedAt === step) {
        // The check right after the refused call brought the token back.
        expect(after.state.phase).toBe(LedgerPhase.Draining);
        expect((await h.admin.describe(after.state.retiring!.tokenId))?.status).toBe("active");
        expect(await send(h, rare.holds()!, "r-rare-caller")).toBe(201);
        reinstatedWithinOneCheck++;
      }
      if (after.state.phase === LedgerPhase.Idle && after.state.current!.tokenId !== original) break;
      await h.advance(STEP);
    }

    const final = await h.entry("fleet");
    expect(final.state.phase).toBe(LedgerPhase.Idle);
    expect(final.state.current!.tokenId).not.toBe(original);
    expect(suspensions).toBeGreaterThanOrEqual(2); // suspended, reinstated, suspended again after the consumer moved
    expect(reinstatedWithinOneCheck).toBe(rare.failures);
    // Bounded: one refused call per suspension at most, and never more than one in all here.
    expect(rare.failures).toBe(1);
    expect(rare.failures).toBeLessThanOrEqual(suspensions);
    expect(a.failures).toBe(0);
    expect(recorder.lines.some((l) => /reinstated it, the drain waits for them: r-rare-caller/.test(l.message))).toBe(true);
  });
});

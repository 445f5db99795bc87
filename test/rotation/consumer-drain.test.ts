import { Sensitive } from "../../src/domain/sensitive";
import { LedgerPhase } from "../../src/ledger/ledger";
import { Metric } from "../../src/rotation/observability";
import { DAY, Recorder, RotationHarness } from "../support/rotation-harness";

/** The drain on per-consumer evidence (issue 10), against the reference gateway's consumers aggregate. */
describe("drain on per-consumer evidence", () => {
  let h: RotationHarness;
  beforeAll(async () => {
    h = await RotationHarness.start();
  });
  afterAll(() => h?.stop());
  beforeEach(() => h.reset());

  const MIN = 60_000;
  const callAs = async (token: Sensitive, consumer: string): Promise<number> => {
    const res = await fetch(`${h.gateway.url}/v1/jobs`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token.reveal()}`, "Content-Type": "application/json", "X-OpenClaw-Consumer": consumer, "User-Agent": "svc/1" },
      body: JSON.stringify({ agentId: "agt_echo", input: { text: "hi" } }),
    });
    await res.arrayBuffer();
    return res.status;
  };

  it("waits for a slow consumer seen on the old token, names it, and ends once it moves", async () => {
    await h.declare({ name: "orders", consumerCacheTtl: "1h" });
    const old = await h.current("orders");
    await h.advance(24 * DAY - 30 * MIN);
    // Seen on the old token half an hour before the rotation (it may hold it cached for up to an hour).
    expect(await callAs(old, "slow-1")).toBe(201);
    expect(await callAs(old, "fast-1")).toBe(201);
    await h.advance(30 * MIN);
    await h.engine().runScheduled();
    const fresh = await h.current("orders");
    expect(await callAs(fresh, "fast-1")).toBe(201);

    await h.advance(20 * MIN);
    const recorder = new Recorder();
    expect((await h.engine({}, recorder).runScheduled()).outcomes["openclaw/dev/orders"]).toBe("waiting");
    const waiting = recorder.lines.find((l) => l.message.startsWith("drain: waiting"));
    expect(waiting?.message).toMatch(/1 consumer\(s\) still on the old token: slow-1 \(last seen \d+s ago\)/);
    expect(waiting?.fields).toMatchObject({ consumersOnOldToken: ["slow-1"] });
    expect((await h.entry("orders")).state.consumersOnOldToken).toEqual(["slow-1"]);
    expect(await h.accepted(old)).toBe(true);

    // It re-reads after its cache expires: moved; after the settle time the old token goes.
    expect(await callAs(fresh, "slow-1")).toBe(201);
    await h.advance(11 * MIN);
    expect((await h.engine().runScheduled()).outcomes["openclaw/dev/orders"]).toBe("completed");
    expect(await h.accepted(old)).toBe(false);
    const after = (await h.entry("orders")).state;
    expect(after.phase).toBe(LedgerPhase.Idle);
    expect(after.consumersOnOldToken).toBeUndefined();
  });

  it("lets a consumer silent on the old token longer than consumerCacheTtl plus the margin go, not sooner", async () => {
    await h.declare({ name: "reports", consumerCacheTtl: "30m" });
    const old = await h.current("reports");
    await h.advance(25 * DAY);
    await h.engine().runScheduled();
    const fresh = await h.current("reports");
    expect(await callAs(old, "gone-1")).toBe(201);
    expect(await callAs(fresh, "moved-1")).toBe(201);
    await h.advance(40 * MIN); // 30m cache + 15m margin not yet over
    expect((await h.engine().runScheduled()).outcomes["openclaw/dev/reports"]).toBe("waiting");
    await h.advance(6 * MIN);
    expect((await h.engine().runScheduled()).outcomes["openclaw/dev/reports"]).toBe("completed");
  });

  it("at the deadline revokes anyway and reports each consumer still on the old token with their count", async () => {
    await h.declare({ name: "batch" });
    const old = await h.current("batch");
    await h.advance(25 * DAY);
    await h.engine().runScheduled();
    const fresh = await h.current("batch");
    expect(await callAs(fresh, "moved-1")).toBe(201);
    await h.advance(5 * DAY - 40 * MIN);
    expect(await callAs(old, "env-held-1")).toBe(201);
    expect(await callAs(old, "env-held-2")).toBe(201);
    await h.advance(10 * MIN);
    const recorder = new Recorder();
    expect((await h.engine({}, recorder).runScheduled()).outcomes["openclaw/dev/batch"]).toBe("consumers-still-on-old-token");
    expect(recorder.counts[Metric.ConsumersStillOnOldToken]).toBe(2);
    expect(recorder.lines.find((l) => l.level === "error")?.message).toMatch(/these will break: env-held-(1|2), env-held-(1|2)/);
    expect(await h.accepted(old)).toBe(false);
  });

  describe("suspension first", () => {
    const suspending = () => h.engine({ settings: h.settings({ suspensionWindowMs: 60 * MIN }) });

    it("suspends the old token once consumers moved, reinstates it within one check when a consumer it missed is refused, and revokes only after a clean window", async () => {
      await h.declare({ name: "billing" });
      const old = await h.current("billing");
      await h.advance(24 * DAY - 3 * 60 * MIN);
      expect(await callAs(old, "rare-1")).toBe(201); // outside the evidence window: the drain cannot know it
      await h.advance(3 * 60 * MIN);
      await suspending().runScheduled();
      const fresh = await h.current("billing");
      expect(await callAs(fresh, "mover-1")).toBe(201);
      await h.advance(11 * MIN);

      expect((await suspending().runScheduled()).outcomes["openclaw/dev/billing"]).toBe("waiting");
      const suspended = await h.entry("billing");
      expect(suspended.state.phase).toBe(LedgerPhase.Suspended);
      expect(suspended.state.suspendedAt).toBeInstanceOf(Date);
      expect((await h.admin.describe(suspended.state.retiring!.tokenId))?.status).toBe("suspended");

      // The rare consumer calls: refused (token_suspended), until the next check reinstates the token.
      let failures = 0;
      await h.advance(2 * MIN);
      const res = await fetch(`${h.gateway.url}/v1/jobs`, {
        method: "POST",
        headers: { Authorization: `Bearer ${old.reveal()}`, "Content-Type": "application/json", "X-OpenClaw-Consumer": "rare-1" },
        body: JSON.stringify({ agentId: "agt_echo", input: {} }),
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("token_suspended");
      failures++;
      const nextCheck = (await h.entry("billing")).state.nextCheckAt.getTime() - h.clock.now().getTime();
      expect(nextCheck).toBeLessThanOrEqual(10 * MIN);
      await h.advance(Math.max(nextCheck, 0));
      const recorder = new Recorder();
      expect((await h.engine({ settings: h.settings({ suspensionWindowMs: 60 * MIN }) }, recorder).runScheduled()).outcomes["openclaw/dev/billing"]).toBe("waiting");
      expect(recorder.counts[Metric.ConsumersStillOnOldToken]).toBe(1);
      expect(recorder.lines.find((l) => l.level === "error")?.message).toMatch(/reinstated it, the drain waits for them: rare-1/);
      const reinstated = await h.entry("billing");
      expect(reinstated.state).toMatchObject({ phase: LedgerPhase.Draining, consumersOnOldToken: ["rare-1"] });
      expect(await callAs(old, "rare-1")).toBe(201);
      expect(failures).toBeLessThanOrEqual(1);

      // It moves; the drain suspends again, and a clean window ends in revocation.
      await h.advance(20 * MIN);
      expect(await callAs(fresh, "rare-1")).toBe(201);
      for (let run = 0; run < 12 && (await h.entry("billing")).state.phase !== LedgerPhase.Idle; run++) {
        await h.advance(11 * MIN);
        await suspending().runScheduled();
      }
      expect((await h.entry("billing")).state.phase).toBe(LedgerPhase.Idle);
      expect(await h.accepted(old)).toBe(false);
      expect((await h.admin.describe(reinstated.state.retiring!.tokenId))?.status).toBe("revoked");
    });
  });
});

import { ConsumerSeen } from "../../src/gateway/backend";
import { earliestChange, judgeConsumers, oldConsumersSince, SILENCE_MARGIN_MS } from "../../src/rotation/consumer-evidence";

const t0 = new Date("2026-04-02T12:00:00.000Z");
const at = (min: number) => new Date(t0.getTime() + min * 60_000);
const seen = (consumer: string, first: number, last: number, source: ConsumerSeen["source"] = "header"): ConsumerSeen => ({
  consumer,
  source,
  firstSeenAt: at(first),
  lastSeenAt: at(last),
  requests: 1,
  lastStatus: 200,
});
const HOUR = 3_600_000;
const settings = (nowMin: number) => ({ now: at(nowMin), consumerCacheTtlMs: HOUR, settleMs: 10 * 60_000 });

describe("judgeConsumers: per-consumer evidence that the old token is no longer needed", () => {
  it("counts old-token consumers from one cache TTL before the promotion", () => {
    expect(oldConsumersSince(at(0), HOUR)).toEqual(at(-60));
  });

  it("calls a consumer moved once it used the new token after its last old call, and settled", () => {
    const early = judgeConsumers([seen("a", -30, 5)], [seen("a", 6, 40)], settings(12));
    expect(early.verdicts[0].state).toBe("settling");
    const later = judgeConsumers([seen("a", -30, 5)], [seen("a", 6, 40)], settings(16));
    expect(later.verdicts[0].state).toBe("moved");
    expect(later.stillOnOld).toEqual([]);
    expect(later.anyOnNew).toBe(true);
  });

  it("keeps a consumer that called the old token after the new one (instances of one identity) until silent", () => {
    const evidence = judgeConsumers([seen("svc", -10, 30)], [seen("svc", 20, 40)], settings(45));
    expect(evidence.stillOnOld.map((v) => [v.consumer, v.state])).toEqual([["svc", "still-on-old"]]);
  });

  it("lets a consumer that never moved go only after the cache TTL plus the margin of silence", () => {
    const marginMin = SILENCE_MARGIN_MS / 60_000;
    const old = [seen("rare", -50, -40), seen("moved", -50, 1)];
    const onNew = [seen("moved", 2, 3)];
    expect(judgeConsumers(old, onNew, settings(-40 + 60 + marginMin)).stillOnOld.map((v) => v.consumer)).toEqual(["rare"]);
    const after = judgeConsumers(old, onNew, settings(-40 + 60 + marginMin + 1));
    expect(after.verdicts.map((v) => v.state)).toEqual(["silent", "moved"]);
    expect(after.stillOnOld).toEqual([]);
  });

  it("names each consumer still on the old token and when it could next change", () => {
    const s = settings(30);
    const evidence = judgeConsumers([seen("env-held", -60, 29), seen("b", -60, 0)], [seen("b", 1, 29)], s);
    expect(evidence.stillOnOld.map((v) => v.consumer)).toEqual(["env-held"]);
    expect(earliestChange(evidence, s)?.getTime()).toBe(at(29).getTime() + HOUR + SILENCE_MARGIN_MS + 1000);
  });

  it("matches a consumer the backend cannot name (one device per token) with anyone on the new token", () => {
    const evidence = judgeConsumers([seen("device old", -5, 0, "unknown")], [seen("device new", 1, 2, "unknown")], settings(20));
    expect(evidence.verdicts[0].state).toBe("moved");
  });

  it("has no evidence while nobody uses the new token, even with no old consumers", () => {
    expect(judgeConsumers([], [], settings(100))).toMatchObject({ anyOnNew: false, stillOnOld: [] });
  });
});

/**
 * Rotation milestones as EventBridge events, end to end on moto: PutEvents to the default bus, a rule, an SQS
 * target, and the queue read back. In-process engine with the EventBridge sink, and the bundled Lambda.
 */
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { Sensitive } from "../../src/domain/sensitive";
import { EventBridgeEventSink } from "../../src/rotation/eventbridge-sink";
import { DeliveredEvent, EventQueue } from "../support/event-queue";
import { DAY, Recorder, RotationHarness } from "../support/rotation-harness";
import { runBundledRotator } from "../support/run-rotator";

jest.setTimeout(60_000);
const MIN = 60_000;

describe("rotation events", () => {
  let h: RotationHarness;
  let client: EventBridgeClient;
  beforeAll(async () => {
    h = await RotationHarness.start();
    client = new EventBridgeClient({});
  });
  afterAll(async () => {
    client?.destroy();
    await h?.stop();
  });
  beforeEach(() => h.reset());

  const callAs = async (token: Sensitive, consumer: string): Promise<number> => {
    const res = await fetch(`${h.gateway.url}/v1/jobs`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token.reveal()}`, "Content-Type": "application/json", "X-OpenClaw-Consumer": consumer, "User-Agent": "svc/1" },
      body: JSON.stringify({ agentId: "agt_echo", input: { text: "hello" } }),
    });
    await res.arrayBuffer();
    return res.status;
  };
  const summary = (events: readonly DeliveredEvent[]) => events.map((e) => [e["detail-type"], e.detail.milestone]);
  const expectNoValues = (events: readonly DeliveredEvent[], tokens: readonly Sensitive[]) => {
    expect(events.length).toBeGreaterThan(0);
    for (const token of tokens) for (const e of events) expect(e.raw).not.toContain(token.reveal());
    for (const e of events) expect(e.raw).not.toContain(h.gateway.adminToken);
  };

  it("publishes promoted, stalled (naming the consumer still on the old token) and completed, with IDs and never values", async () => {
    const queue = await EventQueue.create(h.moto);
    const recorder = new Recorder();
    const engine = () => h.engine({ events: new EventBridgeEventSink({ client, log: recorder }) }, recorder);
    await h.declare({ name: "orders", consumerCacheTtl: "1h" });
    const old = await h.current("orders");
    const oldId = (await h.entry("orders")).state.current?.tokenId;
    await h.advance(24 * DAY - 30 * MIN);
    expect(await callAs(old, "slow-1")).toBe(201);
    expect(await callAs(old, "fast-1")).toBe(201);
    await h.advance(30 * MIN);
    await engine().runScheduled();
    const fresh = await h.current("orders");
    const freshId = (await h.entry("orders")).state.current?.tokenId;
    expect(freshId).not.toBe(oldId);
    expect(await callAs(fresh, "fast-1")).toBe(201);
    await h.advance(20 * MIN);
    expect((await engine().runScheduled()).outcomes["openclaw/dev/orders"]).toBe("waiting");
    expect(await callAs(fresh, "slow-1")).toBe(201);
    await h.advance(11 * MIN);
    expect((await engine().runScheduled()).outcomes["openclaw/dev/orders"]).toBe("completed");

    const events = await queue.drain();
    expect(summary(events)).toEqual([
      ["OpenClaw Token Rotation Promoted", "promoted"],
      ["OpenClaw Token Rotation Stalled", "stalled"],
      ["OpenClaw Token Rotation Completed", "completed"],
    ]);
    for (const e of events) expect(e.source).toBe("openclaw-token-ops");
    const ids = { environment: "dev", token: "orders", secretName: "openclaw/dev/orders", tokenId: freshId, oldTokenId: oldId };
    expect(events[0].detail).toEqual({ milestone: "promoted", ...ids });
    expect(events[1].detail).toEqual({ milestone: "stalled", ...ids, consumersOnOldToken: ["slow-1"] });
    expect(events[2].detail).toEqual({ milestone: "completed", ...ids });
    expectNoValues(events, [old, fresh]);
    expect(recorder.lines.filter((l) => l.message.startsWith("events:"))).toEqual([]);
  });

  it("publishes emergency-revoked with the revoked IDs and the replacement's", async () => {
    const queue = await EventQueue.create(h.moto);
    const recorder = new Recorder();
    await h.declare({ name: "ci-runner" });
    const leaked = await h.current("ci-runner");
    const leakedId = (await h.entry("ci-runner")).state.current?.tokenId as string;
    const result = await h.engine({ events: new EventBridgeEventSink({ client, log: recorder }) }, recorder).emergencyRevoke("openclaw/dev/ci-runner");

    const events = await queue.drain();
    expect(summary(events)).toEqual([
      ["OpenClaw Token Rotation Promoted", "promoted"],
      ["OpenClaw Token Rotation Emergency Revoked", "emergency-revoked"],
    ]);
    expect(events[1].detail).toEqual({ milestone: "emergency-revoked", environment: "dev", token: "ci-runner", secretName: "openclaw/dev/ci-runner", tokenId: result.newTokenId, revokedTokenIds: [leakedId] });
    expectNoValues(events, [leaked, await h.current("ci-runner")]);
  });

  it("never fails a rotation when EventBridge is unreachable: the failure is logged", async () => {
    const recorder = new Recorder();
    const unreachable = new EventBridgeClient({ endpoint: "http://127.0.0.1:9", maxAttempts: 1 });
    await h.declare({ name: "ci-runner" });
    await h.advance(25 * DAY);
    expect((await h.engine({ events: new EventBridgeEventSink({ client: unreachable, log: recorder }) }, recorder).runScheduled()).outcomes["openclaw/dev/ci-runner"]).toBe("waiting");
    unreachable.destroy();
    expect(recorder.lines.find((l) => l.message === "events: could not publish the rotation event")).toMatchObject({ level: "warn", fields: { token: "ci-runner", milestone: "promoted" } });
  });

  it("the bundled Lambda publishes to the default bus when OPENCLAW_EVENT_BUS is not set", async () => {
    const queue = await EventQueue.create(h.moto);
    await h.declare({ name: "ci-runner" });
    const before = await h.current("ci-runner");
    await h.advance(25 * DAY);
    const run = await runBundledRotator(h);
    expect(run.result.outcomes).toEqual({ "openclaw/dev/ci-runner": "waiting" });
    const after = await h.current("ci-runner");
    const events = await queue.drain();
    expect(summary(events)).toEqual([["OpenClaw Token Rotation Promoted", "promoted"]]);
    expect(events[0].detail).toMatchObject({ environment: "dev", token: "ci-runner", tokenId: (await h.entry("ci-runner")).state.current?.tokenId, oldTokenId: (await h.entry("ci-runner")).state.retiring?.tokenId });
    expectNoValues(events, [before, after]);
    for (const token of [before, after]) expect(run.stdout + run.stderr).not.toContain(token.reveal());
  });

  it("the bundled Lambda publishes to the bus OPENCLAW_EVENT_BUS names, and only there", async () => {
    const onDefault = await EventQueue.create(h.moto);
    const onOps = await EventQueue.create(h.moto, "ops-events", "ops");
    await h.declare({ name: "ci-runner" });
    await h.advance(25 * DAY);
    const run = await runBundledRotator(h, { env: { OPENCLAW_EVENT_BUS: "ops" } });
    expect(run.result.outcomes).toEqual({ "openclaw/dev/ci-runner": "waiting" });
    expect(summary(await onOps.drain())).toEqual([["OpenClaw Token Rotation Promoted", "promoted"]]);
    expect(await onDefault.drain()).toEqual([]);
  });
});

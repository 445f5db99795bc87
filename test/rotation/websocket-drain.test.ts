/**
 * The drain judged on a WebSocket consumer of a token front: a connection held open on the old token keeps the old
 * token alive however long it stays open (idle included), and is reported by name; once the consumer has reconnected
 * with the new token and closed the old connection, the next run revokes the old token.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { ConsumerSummary } from "../../reference-gateway/consumers";
import { LedgerPhase } from "../../src/ledger/ledger";
import { DAY, Recorder, RotationHarness } from "../support/rotation-harness";
import { openWebSocket, WebSocketUpstream } from "../support/websocket-upstream";

/** The front's recording interval in this suite (production: 60 s). */
const INTERVAL_MS = 1_000;
const MIN = 60_000;
const TOKEN = "openclaw/dev/ops-console";

describe("drain with a WebSocket consumer on the token front", () => {
  const upstream = new WebSocketUpstream();
  let h: RotationHarness;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    await upstream.start();
    h = await RotationHarness.start({ serveArgs: ["--upstream", upstream.url, "--websocket-activity-interval-ms", String(INTERVAL_MS)] });
  });

  afterAll(async () => {
    for (const ws of sockets) ws.close();
    await h?.stop();
    await upstream.stop();
  });

  const consumersOf = async (tokenId: string): Promise<ConsumerSummary[]> => {
    const res = await fetch(`${h.gateway.url}/v1/admin/tokens/${tokenId}/consumers`, { headers: { authorization: `Bearer ${h.gateway.adminToken}` } });
    return ((await res.json()) as { consumers: ConsumerSummary[] }).consumers;
  };
  const seen = async (tokenId: string, consumer: string): Promise<ConsumerSummary> => {
    const found = (await consumersOf(tokenId)).find((c) => c.consumer === consumer);
    if (!found) throw new Error(`${consumer} not seen on ${tokenId}`);
    return found;
  };
  /** Waits (real time, a few intervals at most) until the front has recorded `consumer` at or after `atMs` (gateway time). */
  const recordedSince = async (tokenId: string, consumer: string, atMs: number): Promise<ConsumerSummary> => {
    const deadline = Date.now() + 5 * INTERVAL_MS;
    for (;;) {
      const summary = await seen(tokenId, consumer);
      if (Date.parse(summary.lastSeenAt) >= atMs) return summary;
      if (Date.now() > deadline) throw new Error(`${consumer} not recorded since ${new Date(atMs).toISOString()}; last ${summary.lastSeenAt}`);
      await sleep(25);
    }
  };
  const run = async (recorder = new Recorder()) => (await h.engine({}, recorder).runScheduled()).outcomes[TOKEN];
  const open = async (token: string, consumer: string): Promise<WebSocket> => {
    const ws = await openWebSocket(h.gateway.url, token, { "x-openclaw-consumer": consumer, "user-agent": "ops-console/3.1" });
    sockets.push(ws);
    return ws;
  };

  it("keeps the old token while a consumer holds a connection on it, names it, and revokes once it reconnected and closed the old one", async () => {
    // Prepare: console-1 holds a connection on the token, idle, from before the rotation.
    await h.declare({ name: "ops-console", consumerCacheTtl: "1h" });
    const old = await h.current("ops-console");
    const oldSocket = await open(old.reveal(), "console-1");
    const oldUpstream = upstream.connections.at(-1)!;
    await h.advance(24 * DAY);
    await run();
    const { retiring, current } = (await h.entry("ops-console")).state;
    expect(retiring).toBeDefined();
    const fresh = await h.current("ops-console");
    // Another consumer opens its connection with the new token.
    await open(fresh.reveal(), "console-2");

    // Act 1: past the settle time, then past the cache TTL plus the silence margin, console-1 never closing.
    for (const step of [20 * MIN, 2 * 60 * MIN]) {
      await h.advance(step);
      await recordedSince(retiring!.tokenId, "console-1", h.clock.now().getTime());
      const recorder = new Recorder();

      // Assess 1: waiting on console-1 by name; the old token and its connection stay.
      expect(await run(recorder)).toBe("waiting");
      const waiting = recorder.lines.find((l) => l.message.startsWith("drain: waiting"));
      expect(waiting?.message).toMatch(/1 consumer\(s\) still on the old token: console-1 \(last seen \d+s ago\)/);
      expect(waiting?.fields).toMatchObject({ consumersOnOldToken: ["console-1"] });
      expect((await h.entry("ops-console")).state.phase).toBe(LedgerPhase.Draining);
      expect(await h.accepted(old)).toBe(true);
      expect(oldUpstream.closed).toBe(false);
    }

    // Act 2: console-1 reconnects with the new token, then closes the old connection. Done right after one of the old
    // connection's records, so that its next one (an interval later) cannot fall between the two.
    const before = (await seen(retiring!.tokenId, "console-1")).requests;
    const deadline = Date.now() + 5 * INTERVAL_MS;
    while ((await seen(retiring!.tokenId, "console-1")).requests === before) {
      if (Date.now() > deadline) throw new Error("no record of the old connection");
      await sleep(10);
    }
    const newUpstream = (await open(fresh.reveal(), "console-1"), upstream.connections.at(-1)!);
    oldSocket.close();
    await waitUntil(() => oldUpstream.closed);
    const lastOnOld = await seen(retiring!.tokenId, "console-1");
    const firstOnNew = await seen(current!.tokenId, "console-1");
    expect(Date.parse(lastOnOld.lastSeenAt)).toBeLessThanOrEqual(Date.parse(firstOnNew.firstSeenAt));
    await h.advance(11 * MIN);
    await recordedSince(current!.tokenId, "console-1", h.clock.now().getTime());

    // Assess 2: the next run revokes the old token; the connections on the new one are untouched.
    expect(await run()).toBe("completed");
    expect(await h.accepted(old)).toBe(false);
    expect((await h.entry("ops-console")).state.phase).toBe(LedgerPhase.Idle);
    await sleep(2 * INTERVAL_MS); // the front's tunnel sweep runs every second
    expect(newUpstream.closed).toBe(false);
    expect(upstream.connections.filter((c) => !c.closed)).toHaveLength(2);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(10);
  }
}

/**
 * Review 12b, finding 1: a fleet front whose request-log write hangs (instead of failing) serves token traffic without
 * recording it for far longer than its documented bound (max(5 x --registry-flush-ms, 10 s)).
 *
 * Input: the registry table's endpoint accepts the connection and never answers (a stalled connection, a VPC endpoint
 * or proxy that drops the replies). The front's DynamoDB client is the SDK default (dynamodb/registry.ts:
 * `new DynamoDBClient({})`): no request timeout, a 300 s socket idle timeout and 3 attempts, so one flush hangs about
 * 15 minutes before it fails. The bound was measured from the end of a failed flush (`#unwrittenSinceMs` is set only
 * once a flush returns with entries left), so during the whole hang `outage()` says "recording" and the front keeps
 * forwarding (log-outage.ts) requests that no other front, hence no drain, can see: a consumer served only there
 * looks silent on the old token to the rotator, whose silence margin is the same 15 minutes. Later flushes queue
 * behind the hung one, so nothing ends it early.
 *
 * Expected: in outage once an entry has stayed unwritten longer than the bound, whatever the flush is doing.
 * Observed (before the fix): `outage()` undefined 10 minutes after the entry was recorded, the flush still pending.
 * Fix: the bound counts from the time the oldest unwritten entry was recorded (pending or in a flush in flight).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createServer, type Server, type Socket } from "node:net";
import { ConsumerSource } from "../../reference-gateway/consumers";
import { DynamoDbRequestLog } from "../../reference-gateway/dynamodb/request-log-store";
import { defaultRegistryTableName } from "../../reference-gateway/dynamodb/table-schema";

jest.setTimeout(60_000);

/** A TCP endpoint on loopback that accepts connections and never answers. */
async function startStalledEndpoint(): Promise<{ url: string; connections: () => number; stop: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => sockets.size,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

it("fails closed once an entry has waited longer than the bound, even while the flush writing it hangs", async () => {
  const endpoint = await startStalledEndpoint();
  // The front's own client configuration (registry.ts), only pointed at the stalled endpoint.
  const client = new DynamoDBClient({ endpoint: endpoint.url, region: "us-east-1", credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
  let nowMs = 0;
  const log = new DynamoDbRequestLog({
    client,
    tableName: defaultRegistryTableName("dev"),
    clock: { now: () => new Date("2026-11-21T10:05:00.000Z") },
    flushIntervalMs: 1_000, // bound: 10 s
    warn: () => undefined,
    monotonicNow: () => nowMs,
  });
  let flushed = false;
  try {
    log.record("tok_hung", { at: "2026-11-21T10:04:59.000Z", method: "GET", path: "/v1/models", status: 200, userAgent: "app/1", consumer: "svc" }, true, ConsumerSource.Header);
    const flush = log.flush().then(() => void (flushed = true));
    // The write is on the wire and unanswered.
    for (let i = 0; i < 100 && endpoint.connections() === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    const atTheStart = log.outage();
    nowMs += 10 * 60_000; // ten minutes later (monotonic), the flush still hanging

    const tenMinutesLater = log.outage();

    expect(endpoint.connections()).toBeGreaterThan(0);
    expect(flushed).toBe(false);
    expect(atTheStart).toBeUndefined();
    expect(tenMinutesLater).toEqual({ unwrittenForMs: 600_000, boundMs: 10_000, retryAfterSeconds: 1 });
    void flush;
  } finally {
    await endpoint.stop();
    client.destroy();
    await log.close().catch(() => undefined);
  }
});

/**
 * Review 12, finding 5, at the level of its fix: in a fleet, a front that cannot write the registry table kept serving
 * the old token and kept its requests in memory, while every other front answered the rotator's consumers query from
 * the table alone. The drain then saw a consumer that only reached the failing front as silent on the old token,
 * judged it moved, and revoked the old token under it.
 *
 * Interleaving (the reviewer's): fronts A and B on one table; B's writes fail (throttling on its partition, a role
 * change, a network split to DynamoDB's write path) while its reads still work; consumer billing-svc-1 keeps calling
 * with the old token, its requests land on B; the rotator's `GET /v1/admin/tokens/{old}/consumers?since=...` lands
 * on A. Was: A answered an empty list. Now: B fails closed once its unwritten requests are older than the bound
 * (max(5 x --registry-flush-ms, 10 s)): 503 with Retry-After to token traffic and to /healthz, nothing forwarded, so
 * the consumer's retry lands on A, which records it, and A's answer names billing-svc-1; B itself refuses the
 * consumers query while its own log is behind. B recovers by itself after a flush succeeds, and writes everything
 * it served.
 *
 * Two front processes of the shipped bundle on moto, in front of a counting upstream. B's write path is split by
 * the AWS call recorder (the loopback proxy in front of moto the fleet suite already uses), which answers B's write
 * calls as AWS does when the role loses them (AccessDeniedException) while passing its reads: nothing in the product
 * knows it is under test, and the same bundle that ships is the one refused.
 */
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { unwrittenLogBoundMs } from "../../reference-gateway/dynamodb/request-log-store";
import { defaultRegistryTableName, REGISTRY_TABLE, registryTableDefinition } from "../../reference-gateway/dynamodb/table-schema";
import { ownUserAgent } from "../../src/gateway/backend";
import { DocumentedApiGateway } from "../../src/gateway/documented-api";
import { GatewayUnavailableError } from "../../src/gateway/errors";
import { Sensitive } from "../../src/domain/sensitive";
import { judgeConsumers } from "../../src/rotation/consumer-evidence";
import { startAwsCallRecorder, type AwsCallRecorder } from "../support/aws-call-recorder";
import { runGatewayWithEnv, startFleetFront, type FleetFront } from "../support/fleet-front";
import { startMoto, type MotoServer } from "../support/moto";
import { openWebSocket, WebSocketUpstream } from "../support/websocket-upstream";

jest.setTimeout(120_000);

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const TABLE = defaultRegistryTableName("dev");
const FLUSH_MS = 200;
/** 10 s: the floor, since 5 flushes of 200 ms are less. */
const BOUND_MS = unwrittenLogBoundMs(FLUSH_MS);
const WRITE_ACTIONS = new Set(["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem"]);

/** An upstream OpenClaw stand-in that only counts what reaches it. */
class CountingUpstream {
  hits = 0;
  url = "";
  readonly #server: Server = createServer((req, res) => {
    this.hits++;
    req.resume();
    res.writeHead(200, { "content-type": "application/json" }).end('{"object":"list","data":[]}');
  });
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }
  stop(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

let moto: MotoServer;
let direct: DynamoDBClient;
let recorder: AwsCallRecorder;
let upstream: CountingUpstream;
let a: FleetFront;
let b: FleetFront;
let adminToken: string;
/** While set, the write calls of fronts B and C are refused (their reads pass). */
let bWritesSplit = false;
const SPLIT_PRINCIPALS = new Set(["front-b", "front-c"]);

beforeAll(async () => {
  moto = await startMoto();
  direct = new DynamoDBClient({ endpoint: moto.endpoint, region: REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
  await direct.send(new CreateTableCommand(registryTableDefinition(TABLE)));
  await direct.send(new UpdateTimeToLiveCommand({ TableName: TABLE, TimeToLiveSpecification: { Enabled: true, AttributeName: REGISTRY_TABLE.ttlAttribute } }));
  recorder = await startAwsCallRecorder({
    motoEndpoint: moto.endpoint,
    region: REGION,
    account: ACCOUNT,
    authorize: async (call) =>
      bWritesSplit && SPLIT_PRINCIPALS.has(call.principal) && WRITE_ACTIONS.has(call.action)
        ? `${call.principal} is not authorized to perform: ${call.action} on resource: ${call.resource}`
        : undefined,
  });
  upstream = new CountingUpstream();
  await upstream.start();
  const created = await runGatewayWithEnv(
    ["auth", "create-token", "--registry-table", TABLE, "--environment", "dev", "--name", "fleet-admin", "--scope", "admin:*", "--json"],
    recorder.envFor("front-cli"),
  );
  expect(created).toMatchObject({ code: 0 });
  adminToken = (JSON.parse(created.stdout) as { token: string }).token;
  const args = ["--environment", "dev", "--registry-table", TABLE, "--registry-flush-ms", String(FLUSH_MS), "--registry-cache-ms", "1000", "--upstream", upstream.url];
  [a, b] = await Promise.all([startFleetFront(args, recorder.envFor("front-a")), startFleetFront(args, recorder.envFor("front-b"))]);
}, 120_000);

afterAll(async () => {
  bWritesSplit = false;
  await Promise.all([a?.stop(), b?.stop()]);
  await upstream?.stop();
  await recorder?.stop();
  direct?.destroy();
  await moto?.stop();
});

afterEach(async () => {
  // Each test leaves B writing again, healthy and with nothing pending.
  bWritesSplit = false;
  await until(async () => (await fetch(`${b.url}/healthz`)).status === 200, 5_000);
});

const rotatorAt = (front: FleetFront) =>
  new DocumentedApiGateway({
    url: front.url,
    environment: "dev",
    adminToken: new Sensitive(adminToken),
    userAgent: ownUserAgent("rotator"),
    retry: { maxAttempts: 1 },
  });

async function mint(name: string): Promise<{ id: string; token: string }> {
  const res = await fetch(`${a.url}/v1/admin/tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name, scopes: ["read:agents"] }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; token: string };
}

/** One consumer call of a forwarded route (OpenClaw's /v1/models) through `front`. */
async function consumerCall(front: FleetFront, token: string, consumer: string) {
  const res = await fetch(`${front.url}/v1/models`, { headers: { authorization: `Bearer ${token}`, "x-openclaw-consumer": consumer } });
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as { error?: { code: string; message: string; reason?: string } } };
}

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(100);
  }
}

it(`a front whose writes fail serves within the bound (${BOUND_MS} ms), then refuses token traffic and /healthz; it recovers and loses nothing it served`, async () => {
  const token = await mint("billing");
  const splitAt = performance.now();
  bWritesSplit = true;

  // billing-svc-1 calls B until B refuses it.
  let served = 0;
  let refusal: Awaited<ReturnType<typeof consumerCall>> | undefined;
  while (performance.now() - splitAt < BOUND_MS + 10_000) {
    const answer = await consumerCall(b, token.token, "billing-svc-1");
    if (answer.status !== 200) {
      refusal = answer;
      break;
    }
    served++;
    await sleep(250);
  }
  const refusedAfterMs = performance.now() - splitAt;
  const upstreamHitsAtRefusal = upstream.hits;
  const healthWhileRefusing = await fetch(`${b.url}/healthz`);
  const whoamiWhileRefusing = await fetch(`${b.url}/v1/auth/whoami`, { headers: { authorization: `Bearer ${token.token}` } });
  const consumerRetryAtB = await consumerCall(b, token.token, "billing-svc-1");
  const healthOfA = await fetch(`${a.url}/healthz`);

  expect(served).toBeGreaterThan(0);
  expect(refusedAfterMs).toBeGreaterThanOrEqual(BOUND_MS);
  expect(refusedAfterMs).toBeLessThan(BOUND_MS + 5_000);
  expect(refusal).toEqual({
    status: 503,
    retryAfter: "1",
    body: { error: { code: "unavailable", reason: "request_log_unavailable", message: expect.stringMatching(/^request log unavailable: /) } },
  });
  expect(JSON.stringify(refusal)).not.toContain(token.token);
  expect(consumerRetryAtB.status).toBe(503);
  expect(upstream.hits).toBe(upstreamHitsAtRefusal); // nothing refused was forwarded
  expect(healthWhileRefusing.status).toBe(503);
  expect(((await healthWhileRefusing.json()) as { error: { code: string } }).error.code).toBe("unavailable");
  expect(whoamiWhileRefusing.status).toBe(503);
  expect(healthOfA.status).toBe(200);
  // The front says so on stderr with its next failed flush (the refusal itself starts with the entries' age).
  await until(async () => /refusing token traffic and \/healthz \(503\) until a flush succeeds/.test(b.stderr()), 5_000);
  expect(b.stderr()).not.toContain(token.token);

  // The write path comes back: B's next flush writes its backlog, and it serves again.
  bWritesSplit = false;
  await until(async () => (await fetch(`${b.url}/healthz`)).status === 200, 5_000);
  expect((await consumerCall(b, token.token, "billing-svc-1")).status).toBe(200);
  await rotatorAt(b).consumers(token.id); // flushes B's last request
  const consumers = await rotatorAt(a).consumers(token.id);
  const requests = await rotatorAt(a).traffic(token.id, new Date(Date.now() - 120_000));

  // Every request B served is in the table; the refused ones were never recorded (nor served).
  expect(consumers).toEqual([expect.objectContaining({ consumer: "billing-svc-1", requests: served + 1, lastStatus: 200 })]);
  expect(requests.map((r) => r.status)).toEqual(Array(served + 1).fill(200));
});

it("the drain question: a consumer that keeps calling the old token through B is reported by A once B refuses it, and B will not answer while behind", async () => {
  const old = await mint("billing-old");
  const current = await mint("billing-new");
  const promotedAt = new Date();
  // Another consumer of the same secret already moved to the new token: the drain's "anyOnNew" holds.
  expect((await consumerCall(a, current.token, "reports-svc")).status).toBe(200);
  bWritesSplit = true;
  const splitAt = performance.now();

  // billing-svc-1 keeps the old token; the load balancer sends it to B; a refused call is retried, and the retry
  // lands on the other front (round robin). It never fails for good.
  const consumerFailures: number[] = [];
  let retriedOnA = 0;
  let bRefusedTheQuestion: unknown;
  while (performance.now() - splitAt < BOUND_MS + 3_000) {
    const first = await consumerCall(b, old.token, "billing-svc-1");
    if (first.status === 503) {
      const retry = await consumerCall(a, old.token, "billing-svc-1");
      retriedOnA++;
      if (retry.status !== 200) consumerFailures.push(retry.status);
    } else if (first.status !== 200) consumerFailures.push(first.status);
    // The rotator's question may land on B too: B answers nothing while its own log is behind.
    if (bRefusedTheQuestion === undefined && performance.now() - splitAt > 2 * FLUSH_MS + 500) {
      bRefusedTheQuestion = await rotatorAt(b).consumers(old.id, promotedAt).then(
        (answer) => ({ answered: answer }),
        (error: unknown) => error,
      );
    }
    await sleep(250);
  }

  // The rotator's question lands on A.
  const [onOld, onNew] = await Promise.all([rotatorAt(a).consumers(old.id, promotedAt), rotatorAt(a).consumers(current.id, promotedAt)]);
  const evidence = judgeConsumers(onOld, onNew, { now: new Date(), consumerCacheTtlMs: 60_000, settleMs: 10_000 });

  expect(consumerFailures).toEqual([]);
  expect(retriedOnA).toBeGreaterThan(0);
  expect(bRefusedTheQuestion).toBeInstanceOf(GatewayUnavailableError);
  expect((bRefusedTheQuestion as GatewayUnavailableError).status).toBe(503);
  expect(onOld.map((c) => c.consumer)).toContain("billing-svc-1");
  expect(evidence.anyOnNew).toBe(true);
  // The drain waits for billing-svc-1 instead of revoking the old token under it.
  expect(evidence.stillOnOld.map((v) => v.consumer)).toEqual(["billing-svc-1"]);
});

it("an open WebSocket tunnel through a front whose writes fail is cut after the bound, and a new one is refused until it recovers", async () => {
  // C: a front whose upstream takes WebSocket connections, its activity recorded every 500 ms.
  const wsUpstream = new WebSocketUpstream();
  await wsUpstream.start();
  const c = await startFleetFront(
    ["--environment", "dev", "--registry-table", TABLE, "--registry-flush-ms", String(FLUSH_MS), "--upstream", wsUpstream.url, "--websocket-activity-interval-ms", "500"],
    recorder.envFor("front-c"),
  );
  const sockets: WebSocket[] = [];
  try {
    const token = await mint("console");
    const ws = await openWebSocket(c.url, token.token, { "x-openclaw-consumer": "console-1" });
    sockets.push(ws);
    const closed = new Promise<number>((resolve) => ws.addEventListener("close", () => resolve(performance.now())));
    const splitAt = performance.now();
    bWritesSplit = true;

    const closedAt = await closed;
    const reopened = await openWebSocket(c.url, token.token, { "x-openclaw-consumer": "console-1" }).then(
      (again) => (sockets.push(again), "opened"),
      () => "refused",
    );
    const connectionsWhileRefusing = wsUpstream.connections.length;
    bWritesSplit = false;
    await until(async () => (await fetch(`${c.url}/healthz`)).status === 200, 5_000);
    sockets.push(await openWebSocket(c.url, token.token, { "x-openclaw-consumer": "console-1" }));

    expect(closedAt - splitAt).toBeGreaterThanOrEqual(BOUND_MS);
    expect(closedAt - splitAt).toBeLessThan(BOUND_MS + 5_000);
    expect(reopened).toBe("refused");
    expect(connectionsWhileRefusing).toBe(1); // the refused upgrade never reached the upstream
    expect(wsUpstream.connections).toHaveLength(2);
  } finally {
    for (const ws of sockets) ws.close();
    await c.stop();
    await wsUpstream.stop();
  }
});

/**
 * An open WebSocket connection through the token front is a consumer of its token for as long as it is open: the
 * front records it in the token's request log once per interval (idle or sending), attributed like its upgrade, with
 * both registry stores (the embedded SQLite file and a fleet's DynamoDB table on moto), and stops when it closes.
 */
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ConsumerSummary } from "../../reference-gateway/consumers";
import { defaultRegistryTableName, registryTableDefinition } from "../../reference-gateway/dynamodb/table-schema";
import type { RequestLogEntry } from "../../reference-gateway/request-log";
import { WEBSOCKET_ACTIVITY_STATUS, WebSocketActivity } from "../../reference-gateway/upstream/websocket-activity";
import { runGatewayWithEnv, startFleetFront } from "../support/fleet-front";
import { startMoto, type MotoServer } from "../support/moto";
import { runGatewayCli, startReferenceGateway } from "../support/reference-gateway";
import { openWebSocket, WebSocketUpstream } from "../support/websocket-upstream";
import { call, createToken } from "./http";

/** The tests' recording interval (`--websocket-activity-interval-ms`); production records once a minute. */
const INTERVAL_MS = 300;
const HOUR = 3600_000;

/** A front under test, whichever registry it has. */
interface Front {
  readonly url: string;
  readonly adminToken: string;
  setClockOffset(ms: number): Promise<void>;
  stop(): Promise<void>;
}

async function sqliteFront(upstreamUrl: string): Promise<Front> {
  const gateway = await startReferenceGateway({ serveArgs: ["--upstream", upstreamUrl, "--websocket-activity-interval-ms", String(INTERVAL_MS)] });
  return gateway;
}

/** A fleet front on a DynamoDB registry table in moto (flushing its request log every 100 ms). */
async function dynamoDbFront(upstreamUrl: string): Promise<Front> {
  const moto: MotoServer = await startMoto();
  try {
    const table = defaultRegistryTableName("dev");
    const client = new DynamoDBClient({ endpoint: moto.endpoint, region: "us-east-1", credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
    await client.send(new CreateTableCommand(registryTableDefinition(table)));
    client.destroy();
    const created = await runGatewayWithEnv(
      ["auth", "create-token", "--registry-table", table, "--environment", "dev", "--name", "fleet-admin", "--scope", "admin:*", "--json"],
      moto.env,
    );
    if (created.code !== 0) throw new Error(`bootstrap failed: ${created.stderr}`);
    const adminToken = (JSON.parse(created.stdout) as { token: string }).token;
    const args = ["--environment", "dev", "--registry-table", table, "--registry-flush-ms", "100", "--test-control"];
    const front = await startFleetFront([...args, "--upstream", upstreamUrl, "--websocket-activity-interval-ms", String(INTERVAL_MS)], moto.env);
    return {
      url: front.url,
      adminToken,
      async setClockOffset(ms) {
        const res = await fetch(`${front.url}/_test/clock`, { method: "POST", body: JSON.stringify({ offsetMs: ms }) });
        if (res.status !== 200) throw new Error(`POST /_test/clock answered ${res.status}`);
      },
      async stop() {
        await front.stop();
        await moto.stop();
      },
    };
  } catch (error) {
    await moto.stop();
    throw error;
  }
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe.each([
  ["SQLite", sqliteFront],
  ["DynamoDB", dynamoDbFront],
] as const)("WebSocket connections in the front's request log (%s registry)", (_store, startFront) => {
  const upstream = new WebSocketUpstream();
  let front: Front;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    await upstream.start();
    front = await startFront(upstream.url);
  });

  afterAll(async () => {
    for (const ws of sockets) ws.close();
    await front?.stop();
    await upstream.stop();
  });

  const consumerOf = async (tokenId: string, consumer: string): Promise<ConsumerSummary | undefined> => {
    const res = await call(front.url, "GET", `/v1/admin/tokens/${tokenId}/consumers`, { token: front.adminToken });
    expect(res.status).toBe(200);
    return (res.body.consumers as ConsumerSummary[]).find((c) => c.consumer === consumer);
  };
  const entriesOf = async (tokenId: string): Promise<RequestLogEntry[]> => {
    const res = await call(front.url, "GET", `/v1/admin/tokens/${tokenId}/requests?limit=1000`, { token: front.adminToken });
    expect(res.status).toBe(200);
    return res.body.requests as RequestLogEntry[];
  };

  it("keeps an open connection's consumer advancing, idle or sending, one record per interval however many frames, and stops at close", async () => {
    // Prepare
    const token = await createToken(front.url, front.adminToken, { name: "console", scopes: ["read:agents"] });
    const ws = await openWebSocket(front.url, token.token, { "x-openclaw-consumer": "console-1", "user-agent": "console/2.0" });
    sockets.push(ws);
    const upstreamSide = upstream.connections.at(-1)!;
    const opened = await consumerOf(token.id, "console-1");
    expect(opened).toMatchObject({ requests: 1, lastStatus: 101 });

    // Act 1: idle on the client's side (the upstream pushes events; those are not the client's frames)
    for (let i = 0; i < 3; i++) {
      upstreamSide.send(`{"type":"event","event":"tick","n":${i}}`);
      await sleep(INTERVAL_MS);
    }
    await sleep(INTERVAL_MS);

    // Assess 1: seen again, later, as an idle connection on the upgrade's path, attributed like the upgrade
    const idle = await consumerOf(token.id, "console-1");
    expect(Date.parse(idle!.lastSeenAt)).toBeGreaterThan(Date.parse(opened!.lastSeenAt));
    expect(idle!.requests).toBeGreaterThanOrEqual(3);
    expect(idle!.requests).toBeLessThanOrEqual(6);
    // Read after the aggregate, while the connection stays open: one more interval's record may have landed in between.
    const idleEntries = (await entriesOf(token.id)).filter((e) => e.method !== "GET");
    expect(idleEntries.length).toBeGreaterThanOrEqual(idle!.requests - 1);
    expect(idleEntries.length).toBeLessThanOrEqual(idle!.requests);
    for (const entry of idleEntries) {
      expect(entry).toMatchObject({ method: "WEBSOCKET-IDLE", path: "/", status: 101, userAgent: "console/2.0", consumer: "console-1" });
    }

    // Act 2: 1,000 frames from the client
    for (let i = 0; i < 1000; i++) ws.send(`{"type":"req","id":"r${i}","method":"health"}`);
    await waitFor("the upstream to receive the 1,000 frames", () => upstreamSide.frames >= 1000);
    await sleep(2 * INTERVAL_MS);

    // Assess 2: a handful of records, not a thousand; the frames show as activity
    const busy = await consumerOf(token.id, "console-1");
    const grewBy = busy!.requests - idle!.requests;
    expect(grewBy).toBeGreaterThanOrEqual(1);
    expect(grewBy).toBeLessThanOrEqual(6);
    // The records added since Assess 1, whatever order the store lists them in.
    const seen = new Set(idleEntries.map((e) => JSON.stringify(e)));
    const busyEntries = (await entriesOf(token.id)).filter((e) => e.method !== "GET" && !seen.has(JSON.stringify(e)));
    expect(busyEntries.length).toBeGreaterThanOrEqual(grewBy - 1); // one of them may have been read with the idle ones
    expect(busyEntries.length).toBeLessThanOrEqual(grewBy + 1);
    expect(busyEntries.map((e) => e.method)).toContain("WEBSOCKET");
    expect(Date.parse(busy!.lastSeenAt)).toBeGreaterThan(Date.parse(idle!.lastSeenAt));

    // Act 3: the client closes
    ws.close();
    await waitFor("the upstream to see the close", () => upstreamSide.closed);
    await sleep(INTERVAL_MS);
    const closed = await consumerOf(token.id, "console-1");
    await sleep(4 * INTERVAL_MS);

    // Assess 3: nothing more is recorded
    expect(await consumerOf(token.id, "console-1")).toEqual(closed);
  });

  it("stamps the records with the gateway's clock, so that a test clock moved by hours sees the connection as recent", async () => {
    const token = await createToken(front.url, front.adminToken, { name: "watcher", scopes: ["read:agents"] });
    const ws = await openWebSocket(front.url, token.token, { "x-openclaw-consumer": "watcher-1" });
    sockets.push(ws);

    const before = Date.now();
    await front.setClockOffset(2 * HOUR);
    try {
      await sleep(2 * INTERVAL_MS);
      const seen = await consumerOf(token.id, "watcher-1");
      expect(Date.parse(seen!.lastSeenAt)).toBeGreaterThanOrEqual(before + 2 * HOUR);
    } finally {
      ws.close();
      await front.setClockOffset(0);
    }
  });

  it("stops recording a connection the front cuts because its token was revoked", async () => {
    const token = await createToken(front.url, front.adminToken, { name: "revoked-holder", scopes: ["read:agents"] });
    const ws = await openWebSocket(front.url, token.token, { "x-openclaw-consumer": "holder-1" });
    sockets.push(ws);
    const closedByFront = new Promise<void>((resolve) => ws.addEventListener("close", () => resolve()));
    await sleep(2 * INTERVAL_MS);

    expect((await call(front.url, "POST", `/v1/admin/tokens/${token.id}/revoke`, { token: front.adminToken })).status).toBe(200);
    await closedByFront;
    await sleep(INTERVAL_MS);
    const cut = await entriesOf(token.id);
    await sleep(4 * INTERVAL_MS);

    expect(await entriesOf(token.id)).toEqual(cut);
  });

  it("keeps the project's own connections out of the consumers, as its HTTP calls are", async () => {
    const token = await createToken(front.url, front.adminToken, { name: "own", scopes: ["read:agents"] });
    const ws = await openWebSocket(front.url, token.token, { "user-agent": "openclaw-token-ops/0.1 (cli)" });
    sockets.push(ws);
    await sleep(3 * INTERVAL_MS);
    ws.close();

    const methods = (await entriesOf(token.id)).map((e) => e.method);
    expect(methods).toContain("WEBSOCKET-IDLE");
    const res = await call(front.url, "GET", `/v1/admin/tokens/${token.id}/consumers`, { token: front.adminToken });
    expect(res.body.consumers).toEqual([]);
  });
});

describe("docs/gateway-api.md: WebSocket connections in the request log", () => {
  it("documents every activity record the front writes, with its status", () => {
    const doc = readFileSync(resolve(__dirname, "../../docs/gateway-api.md"), "utf8");
    const section = doc.slice(doc.indexOf("### WebSocket connections in the request log"), doc.indexOf("## Suspension"));
    const rows = section.split("\n").filter((line) => line.startsWith("| `WEBSOCKET"));

    expect(rows.map((row) => row.split("|")[1].trim())).toEqual(Object.values(WebSocketActivity).map((m) => `\`${m}\``));
    for (const row of rows) expect(row.split("|")[3].trim()).toBe(`\`${WEBSOCKET_ACTIVITY_STATUS}\``);
  });
});

describe("serve --websocket-activity-interval-ms", () => {
  it.each([
    [["--websocket-activity-interval-ms", "1000"], "--websocket-activity-interval-ms needs --upstream"],
    [["--upstream", "http://127.0.0.1:9", "--websocket-activity-interval-ms", "50"], "--websocket-activity-interval-ms 50 must be a whole number from 100 to 300000"],
    [["--upstream", "http://127.0.0.1:9", "--websocket-activity-interval-ms", "600000"], "from 100 to 300000"],
  ])("refuses %j with a usage error", async (args, message) => {
    const stateDir = await mkdtemp(join(tmpdir(), "reference-gateway-usage-"));
    try {
      const result = await runGatewayCli(["serve", "--environment", "dev", "--state-dir", stateDir, ...args]);

      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});

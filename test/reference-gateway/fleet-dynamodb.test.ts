/**
 * A fleet of fronts sharing one DynamoDB registry table (moto): two front processes of the shipped bundle, every
 * AWS call they make recorded and authorized against the front's documented IAM policy (the table actions only).
 */
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { setTimeout as sleep } from "node:timers/promises";
import { DynamoDbRequestLog } from "../../reference-gateway/dynamodb/request-log-store";
import {
  defaultRegistryTableName,
  FRONT_REGISTRY_ACTIONS,
  frontRegistryPolicyDocument,
  REGISTRY_TABLE,
  registryTableDefinition,
} from "../../reference-gateway/dynamodb/table-schema";
import type { ConsumerSummary } from "../../reference-gateway/consumers";
import type { TokenMetadata } from "../../reference-gateway/token-registry";
import { ownUserAgent } from "../../src/gateway/backend";
import { DocumentedApiGateway } from "../../src/gateway/documented-api";
import { Sensitive } from "../../src/domain/sensitive";
import { startAwsCallRecorder, type AwsCallRecorder } from "../support/aws-call-recorder";
import { decide } from "../support/iam-evaluation";
import { startFleetFront, runGatewayWithEnv, type FleetFront } from "../support/fleet-front";
import { startMoto, type MotoServer } from "../support/moto";

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const TABLE = defaultRegistryTableName("dev");
const TABLE_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${TABLE}`;
/** --registry-cache-ms of both fronts: the bound within which one sees the other's revocation. */
const CACHE_MS = 1_000;
const WRITE_ACTIONS = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem"];

describe("a fleet of fronts on one DynamoDB registry table", () => {
  let moto: MotoServer;
  let direct: DynamoDBClient;
  let recorder: AwsCallRecorder;
  let a: FleetFront;
  let b: FleetFront;
  let adminToken: string;

  beforeAll(async () => {
    moto = await startMoto();
    direct = new DynamoDBClient({ endpoint: moto.endpoint, region: REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
    // The table as the Pulumi component creates it, from the same schema module.
    await direct.send(new CreateTableCommand(registryTableDefinition(TABLE)));
    await direct.send(
      new UpdateTimeToLiveCommand({ TableName: TABLE, TimeToLiveSpecification: { Enabled: true, AttributeName: REGISTRY_TABLE.ttlAttribute } }),
    );
    const policy = { front: frontRegistryPolicyDocument(TABLE_ARN) };
    recorder = await startAwsCallRecorder({
      motoEndpoint: moto.endpoint,
      region: REGION,
      account: ACCOUNT,
      async authorize(call) {
        const decision = await decide(policy as never, call, ACCOUNT);
        return decision === "Allowed" ? undefined : `${call.principal} is not authorized to perform: ${call.action} on resource: ${call.resource}`;
      },
    });
    // Bootstrap: the first admin token straight into the table, with the admin CLI.
    const created = await runGatewayWithEnv(
      ["auth", "create-token", "--registry-table", TABLE, "--environment", "dev", "--name", "fleet-admin", "--scope", "admin:*", "--json"],
      recorder.envFor("front-cli"),
    );
    expect(created).toMatchObject({ code: 0 });
    adminToken = (JSON.parse(created.stdout) as { token: string }).token;
    // A names its table with the flag, B with the environment variable.
    [a, b] = await Promise.all([
      startFleetFront(["--environment", "dev", "--registry-table", TABLE, "--registry-cache-ms", String(CACHE_MS)], recorder.envFor("front-a")),
      startFleetFront(["--environment", "dev", "--registry-cache-ms", String(CACHE_MS)], {
        ...recorder.envFor("front-b"),
        OPENCLAW_FRONT_REGISTRY_TABLE: TABLE,
      }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await recorder?.stop();
    direct?.destroy();
    await moto?.stop();
  });

  const admin = async (front: FleetFront, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${front.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined && { "content-type": "application/json" }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const mint = async (front: FleetFront, name: string, scopes: string[]) => {
    const { status, body } = await admin(front, "POST", "/v1/admin/tokens", { name, scopes });
    expect(status).toBe(201);
    return body as unknown as TokenMetadata & { token: string };
  };
  const whoami = async (front: FleetFront, token: string) => {
    const res = await fetch(`${front.url}/v1/auth/whoami`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as { id?: string; error?: { code: string } } };
  };
  const callAgents = async (front: FleetFront, token: string, consumer: string) => {
    const res = await fetch(`${front.url}/v1/agents`, { headers: { authorization: `Bearer ${token}`, "x-openclaw-consumer": consumer } });
    await res.arrayBuffer();
    return res.status;
  };
  const consumersAt = async (front: FleetFront, tokenId: string, query = "") => {
    const { status, body } = await admin(front, "GET", `/v1/admin/tokens/${tokenId}/consumers${query}`);
    expect(status).toBe(200);
    return (body.consumers as ConsumerSummary[]).sort((x, y) => x.consumer.localeCompare(y.consumer));
  };

  describe("tokens", () => {
    it("accepts at B a token created through A's admin API, at once", async () => {
      const token = await mint(a, "created-at-a", ["read:agents"]);

      const atB = await whoami(b, token.token);

      expect(atB).toEqual({ status: 200, body: expect.objectContaining({ id: token.id, name: "created-at-a" }) });
      expect((await admin(b, "GET", `/v1/admin/tokens/${token.id}`)).body).toMatchObject({ id: token.id, status: "active" });
    });

    it("refuses at B a token revoked at A once B's cached copy is older than the bound, and never accepts it again", async () => {
      const token = await mint(a, "revoked-at-a", ["read:agents"]);
      expect((await whoami(b, token.token)).status).toBe(200); // B now holds the record in its cache

      const revoked = await admin(a, "POST", `/v1/admin/tokens/${token.id}/revoke`);
      const revokedAt = performance.now();

      expect(revoked.body).toMatchObject({ status: "revoked" });
      expect((await whoami(a, token.token)).status).toBe(401); // the instance that revoked knows at once
      await sleep(Math.max(0, revokedAt + CACHE_MS - performance.now()));
      for (let i = 0; i < 5; i++) expect(await whoami(b, token.token)).toEqual({ status: 401, body: { error: expect.objectContaining({ code: "invalid_token" }) } });
      // Revocation is final in the table too: B cannot reinstate it.
      expect((await admin(b, "POST", `/v1/admin/tokens/${token.id}/reinstate`)).status).toBe(409);
    });

    it("suspends at A and reinstates at B, each seen by the other front within the bound", async () => {
      const token = await mint(a, "suspended", ["read:agents"]);
      expect((await whoami(b, token.token)).status).toBe(200);

      await admin(a, "POST", `/v1/admin/tokens/${token.id}/suspend`);
      await sleep(CACHE_MS);
      const whileSuspended = await whoami(b, token.token);
      await admin(b, "POST", `/v1/admin/tokens/${token.id}/reinstate`);
      await sleep(CACHE_MS);
      const afterReinstated = await whoami(a, token.token);

      expect(whileSuspended).toEqual({ status: 401, body: { error: expect.objectContaining({ code: "token_suspended" }) } });
      expect(afterReinstated.status).toBe(200);
    });

    it("lists every token of the table at either front, in creation order", async () => {
      const first = await mint(a, "listed", ["read:jobs"]);
      const second = await mint(b, "listed", ["read:jobs"]);

      const listed = await admin(b, "GET", "/v1/admin/tokens?name=listed");

      expect((listed.body.tokens as TokenMetadata[]).map((t) => t.id)).toEqual([first.id, second.id]);
    });
  });

  describe("request log", () => {
    it("aggregates traffic through A and B per consumer in one answer, at either front", async () => {
      const token = await mint(a, "shared-app", ["read:agents"]);
      const startedAt = new Date(Date.now() - 1_000).toISOString();
      for (let i = 0; i < 5; i++) expect(await callAgents(a, token.token, "worker-1")).toBe(200);
      for (let i = 0; i < 3; i++) expect(await callAgents(b, token.token, "worker-1")).toBe(200);
      for (let i = 0; i < 2; i++) expect(await callAgents(b, token.token, "worker-2")).toBe(200);

      await consumersAt(b, token.id); // flushes B's pending batch
      const atA = await consumersAt(a, token.id); // flushes A's, then reads the table
      const atB = await consumersAt(b, token.id);
      const windowed = await consumersAt(b, token.id, `?since=${encodeURIComponent(startedAt)}`);
      const requests = await admin(a, "GET", `/v1/admin/tokens/${token.id}/requests?limit=100`);
      const metadata = await admin(b, "GET", `/v1/admin/tokens/${token.id}`);

      const expected = [
        expect.objectContaining({ consumer: "worker-1", source: "header", requests: 8, lastStatus: 200 }),
        expect.objectContaining({ consumer: "worker-2", source: "header", requests: 2, lastStatus: 200 }),
      ];
      expect(atA).toEqual(expected);
      expect(atB).toEqual(expected);
      expect(windowed).toEqual(expected);
      expect((requests.body.requests as Array<{ path: string }>).map((r) => r.path)).toEqual(Array(10).fill("/v1/agents"));
      expect(metadata.body.lastUsedAt).toEqual(expect.any(String));
    });

    it("writes N requests in far fewer than N writes (batched), and counts every one of them", async () => {
      const token = await mint(a, "busy-app", ["read:agents"]);
      await consumersAt(a, token.id); // nothing of A's left pending
      const before = recorder.calls.length;
      const n = 200;

      for (let i = 0; i < n; i += 10) {
        const statuses = await Promise.all(Array.from({ length: 10 }, (_, j) => callAgents(a, token.token, `worker-${j % 2}`)));
        expect(statuses).toEqual(Array(10).fill(200));
      }
      const consumers = await consumersAt(a, token.id);

      const calls = recorder.calls.slice(before).filter((c) => c.principal === "front-a");
      const writes = calls.filter((c) => WRITE_ACTIONS.includes(c.action));
      const reads = calls.filter((c) => c.action === "dynamodb:GetItem");
      expect(consumers.map((c) => [c.consumer, c.requests])).toEqual([
        ["worker-0", n / 2],
        ["worker-1", n / 2],
      ]);
      // 200 entries are 8 BatchWriteItem calls; the aggregates (last use, 2 consumers all-time and per minute) one
      // update each per flush, not per request: about 8 + 5 per timer flush (1 s) that the traffic spans.
      expect(writes.length).toBeGreaterThan(0);
      expect(writes.length).toBeLessThanOrEqual(n / 5);
      // The authentication path reads a record once per cache period, not once per request.
      expect(reads.length).toBeLessThan(n / 10);
    });

    it("merges two instances' flushes whatever their order: counts add, first and last seen move outwards", async () => {
      const clock = { now: () => new Date("2026-11-21T10:05:00.000Z") };
      const warnings: string[] = [];
      const options = { client: direct, tableName: TABLE, clock, flushIntervalMs: 60_000, warn: (m: string) => void warnings.push(m) };
      const early = new DynamoDbRequestLog(options);
      const late = new DynamoDbRequestLog(options);
      const request = (at: string, status: number) => ({ at, method: "GET", path: "/v1/agents", status, userAgent: "app/1", consumer: "svc" });
      try {
        early.record("tok_merge", request("2026-11-21T10:00:05.000Z", 200), true, "header");
        early.record("tok_merge", request("2026-11-21T10:00:20.000Z", 200), true, "header");
        late.record("tok_merge", request("2026-11-21T10:00:30.000Z", 503), true, "header");

        await late.flush(); // the later traffic lands first
        await early.flush();

        const expected = [
          { consumer: "svc", source: "header", firstSeenAt: "2026-11-21T10:00:05.000Z", lastSeenAt: "2026-11-21T10:00:30.000Z", requests: 3, lastStatus: 503 },
        ];
        expect(await early.consumers("tok_merge")).toEqual(expected);
        expect(await late.consumers("tok_merge", Date.parse("2026-11-21T10:00:00.000Z"))).toEqual(expected);
        expect((await early.lastUsedAt(["tok_merge"])).get("tok_merge")).toBe("2026-11-21T10:00:30.000Z");
        expect((await late.entries("tok_merge", { limit: 10 })).map((e) => e.status)).toEqual([200, 200, 503]);
        expect(warnings).toEqual([]);
      } finally {
        await Promise.all([early.close(), late.close()]);
      }
    });
  });

  describe("the request log's own guarantees", () => {
    const clock = { now: () => new Date("2026-11-21T10:05:00.000Z") };
    const request = (consumer: string) => ({ at: "2026-11-21T10:01:00.000Z", method: "GET", path: "/v1/agents", status: 200, userAgent: "app/1", consumer });

    it("keeps what it cannot write for the next flush, and says so without any token value", async () => {
      const warnings: string[] = [];
      const log = new DynamoDbRequestLog({ client: direct, tableName: "created-late", clock, flushIntervalMs: 60_000, warn: (m) => void warnings.push(m) });
      try {
        log.record("tok_late", request("svc"), true, "header");
        log.record("tok_late", request("svc"), true, "header");
        await log.flush(); // the table does not exist yet

        await direct.send(new CreateTableCommand({ ...registryTableDefinition("created-late") }));
        const consumers = await log.consumers("tok_late"); // flushes what was kept, then reads

        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(/cannot write to DynamoDB table created-late \(ResourceNotFoundException.*2 entries and 2 consumer tallies kept/);
        expect(consumers).toEqual([expect.objectContaining({ consumer: "svc", requests: 2 })]);
        expect(await log.entries("tok_late", { limit: 10 })).toHaveLength(2);
      } finally {
        await log.close();
      }
    });

    it("sends only what real DynamoDB accepts: no unused placeholder, keys within 1024 bytes, no Scan", async () => {
      // moto is lenient where DynamoDB is not; the requests themselves are checked here.
      const inputs: Array<{ name: string; input: Record<string, unknown> }> = [];
      const client = new DynamoDBClient({ endpoint: moto.endpoint, region: REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
      client.middlewareStack.add(
        (next, context) => async (args) => {
          inputs.push({ name: String(context.commandName), input: args.input as Record<string, unknown> });
          return next(args);
        },
        { step: "initialize" },
      );
      const log = new DynamoDbRequestLog({ client, tableName: TABLE, clock, flushIntervalMs: 60_000 });
      const longConsumer = `10.0.0.7 ${"Mozilla/5.0 ".repeat(200)}`;
      try {
        log.record("tok_rules", request("svc"), true, "header");
        log.record("tok_rules", { ...request(longConsumer), at: "2026-11-21T10:00:00.000Z" }, true, "address");
        await log.flush();
        log.record("tok_rules", { ...request("svc"), at: "2026-11-21T10:00:30.000Z" }, true, "header"); // earlier: the fallback updates
        const consumers = await log.consumers("tok_rules");
        await log.consumers("tok_rules", Date.parse("2026-11-21T10:00:00.000Z"));
        await log.entries("tok_rules", { limit: 5, sinceMs: Date.parse("2026-11-21T09:00:00.000Z") });
        await log.lastUsedAt(["tok_rules"]);

        expect(consumers.map((c) => [c.consumer === longConsumer ? "long" : c.consumer, c.requests])).toEqual([
          ["svc", 2],
          ["long", 1],
        ]);
      } finally {
        await log.close();
        client.destroy();
      }

      expect(inputs.map((i) => i.name)).not.toContain("ScanCommand");
      expect(inputs.map((i) => i.name)).toEqual(expect.arrayContaining(["UpdateItemCommand", "BatchWriteItemCommand", "QueryCommand"]));
      for (const { name, input } of inputs) {
        const expressions = ["UpdateExpression", "ConditionExpression", "KeyConditionExpression", "ProjectionExpression", "FilterExpression"]
          .map((k) => input[k])
          .filter((e): e is string => typeof e === "string")
          .join(" ");
        const placeholders = [...Object.keys((input.ExpressionAttributeNames as object) ?? {}), ...Object.keys((input.ExpressionAttributeValues as object) ?? {})];
        for (const placeholder of placeholders) expect({ name, placeholder, used: new RegExp(`${placeholder}\\b`).test(expressions) }).toMatchObject({ used: true });
        const keys = [input.Key, ...((input.RequestItems as Record<string, Array<{ PutRequest: { Item: Record<string, { S: string }> } }>> | undefined)?.[TABLE] ?? []).map((r) => r.PutRequest.Item)];
        for (const key of keys.filter(Boolean) as Array<Record<string, { S: string }>>) {
          expect(Buffer.byteLength(key[REGISTRY_TABLE.sortKey].S)).toBeLessThanOrEqual(1024);
          expect(Buffer.byteLength(key[REGISTRY_TABLE.partitionKey].S)).toBeLessThanOrEqual(2048);
        }
      }
    });
  });

  describe("shutdown", () => {
    it("writes a front's pending requests when it is stopped (SIGTERM), before its flush interval", async () => {
      const token = await mint(a, "short-lived-front", ["read:agents"]);
      // C flushes only every minute: what the table gets before that comes from its shutdown.
      const c = await startFleetFront(["--environment", "dev", "--registry-table", TABLE, "--registry-flush-ms", "60000"], recorder.envFor("front-c"));
      try {
        for (let i = 0; i < 3; i++) expect(await callAgents(c, token.token, "worker-on-c")).toBe(200);
      } finally {
        await c.stop();
      }

      expect(await consumersAt(a, token.id)).toEqual([expect.objectContaining({ consumer: "worker-on-c", requests: 3 })]);
      expect(c.stderr()).not.toMatch(/could not be written/);
    });
  });

  describe("the rotator's documented-API client against the fleet", () => {
    it("mints at A, sees the consumer's traffic at B, revokes at B, and A refuses the token within the bound", async () => {
      const client = (front: FleetFront) =>
        new DocumentedApiGateway({ url: front.url, environment: "dev", adminToken: new Sensitive(adminToken), userAgent: ownUserAgent("rotator") });
      const viaA = client(a);
      const viaB = client(b);

      const issued = await viaA.mint({ name: "rotated", scopes: ["read:agents"], expiresAt: new Date(Date.now() + 86_400_000) });
      const identity = await viaB.whoami(issued.value);
      expect(await callAgents(b, issued.value.reveal(), "consumer-at-b")).toBe(200);
      const seen = await viaB.consumers(issued.metadata.id);
      await viaB.revoke(issued.metadata.id);
      await sleep(CACHE_MS);

      expect(identity).toMatchObject({ id: issued.metadata.id, name: "rotated", scopes: ["read:agents"] });
      expect(seen).toEqual([expect.objectContaining({ consumer: "consumer-at-b", requests: 1, lastStatus: 200 })]);
      // A cached the record when it minted it; whoami first, before an admin read refreshes A's copy.
      await expect(viaA.whoami(issued.value)).rejects.toMatchObject({ status: 401 });
      expect(await viaA.describe(issued.metadata.id)).toMatchObject({ status: "revoked" });
    });
  });

  describe("environments and IAM", () => {
    it("refuses a table of another environment, for the server and the admin CLI, and creates nothing there", async () => {
      const serve = await runGatewayWithEnv(["serve", "--environment", "prod", "--registry-table", TABLE, "--port", "0"], recorder.envFor("front-prod"));
      const create = await runGatewayWithEnv(
        ["auth", "create-token", "--registry-table", TABLE, "--environment", "prod", "--name", "wrong-env", "--scope", "read:agents"],
        recorder.envFor("front-cli"),
      );

      expect(serve.code).toBe(1);
      expect(serve.stderr).toContain(`DynamoDB table ${TABLE} belongs to environment "dev", not "prod"`);
      expect(create.code).toBe(1);
      expect(create.stdout).toBe("");
      expect((await admin(a, "GET", "/v1/admin/tokens?name=wrong-env")).body.tokens).toEqual([]);
    });

    it("names the fix when the table does not exist", async () => {
      const serve = await runGatewayWithEnv(["serve", "--environment", "dev", "--registry-table", "no-such-table", "--port", "0"], moto.env);

      expect(serve.code).toBe(1);
      expect(serve.stderr).toContain("DynamoDB table no-such-table: ResourceNotFoundException");
      expect(serve.stderr).toContain("create the table");
    });

    it("needs nothing but the documented table actions: every call of the fleet allowed, all on the table's ARN, no Scan", async () => {
      const fleetCalls = recorder.calls.filter((c) => ["front-a", "front-b", "front-c", "front-cli"].includes(c.principal));

      expect(fleetCalls.length).toBeGreaterThan(0);
      expect(fleetCalls.filter((c) => c.denied)).toEqual([]);
      expect([...new Set(fleetCalls.map((c) => c.action))].sort()).toEqual([...FRONT_REGISTRY_ACTIONS].filter((x) => x !== "dynamodb:DeleteItem").sort());
      expect(new Set(fleetCalls.map((c) => c.resource))).toEqual(new Set([TABLE_ARN]));
      expect(a.stderr()).not.toMatch(/cannot write|request log:/);
      expect(b.stderr()).not.toMatch(/cannot write|request log:/);
    });
  });
});

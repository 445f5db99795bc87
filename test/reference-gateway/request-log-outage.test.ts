/**
 * The fleet request log's outage (dynamodb/request-log-store.ts): when it holds entries it could not write for
 * longer than its bound, the front fails closed; its evidence endpoints refuse at once while it is behind; a failed
 * flush keeps every entry for the next one. The front's behaviour in processes: test/review/fleet-unwritten-log-ends-drain.test.ts.
 */
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDbRequestLog, unwrittenLogBoundMs } from "../../reference-gateway/dynamodb/request-log-store";
import { defaultRegistryTableName, registryTableDefinition } from "../../reference-gateway/dynamodb/table-schema";
import { ConsumerSource } from "../../reference-gateway/consumers";
import { ApiError } from "../../reference-gateway/errors";
import { startMoto, type MotoServer } from "../support/moto";

jest.setTimeout(60_000);

const TABLE = defaultRegistryTableName("dev");
const clock = { now: () => new Date("2026-11-21T10:05:00.000Z") };
let moto: MotoServer;
let client: DynamoDBClient;
/** While set, the client's write calls fail as a throttled or denied write does; its reads pass. */
let writesFail = false;

beforeAll(async () => {
  moto = await startMoto();
  client = new DynamoDBClient({ endpoint: moto.endpoint, region: "us-east-1", credentials: { accessKeyId: "testing", secretAccessKey: "testing" }, maxAttempts: 1 });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (writesFail && ["BatchWriteItemCommand", "UpdateItemCommand", "PutItemCommand"].includes(String(context.commandName))) {
        throw Object.assign(new Error("User is not authorized to perform this write"), { name: "AccessDeniedException" });
      }
      return next(args);
    },
    { step: "initialize", name: "testFailWrites" },
  );
  await client.send(new CreateTableCommand(registryTableDefinition(TABLE)));
}, 120_000);

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

afterEach(() => {
  writesFail = false;
});

/** A log on a monotonic time the test moves by hand, flushing only when asked. */
function openLog(flushIntervalMs = 1_000) {
  let nowMs = 0;
  const warnings: string[] = [];
  const log = new DynamoDbRequestLog({ client, tableName: TABLE, clock, flushIntervalMs, warn: (m) => void warnings.push(m), monotonicNow: () => nowMs });
  return { log, warnings, advance: (ms: number) => void (nowMs += ms) };
}

const request = (i: number) => ({ at: new Date(Date.parse("2026-11-21T10:01:00.000Z") + i).toISOString(), method: "GET", path: "/v1/agents", status: 200, userAgent: "app/1", consumer: "svc" });

it("bounds unwritten entries by five flush intervals, never less than 10 s", () => {
  expect([10, 200, 1_000, 2_000, 3_000, 60_000].map(unwrittenLogBoundMs)).toEqual([10_000, 10_000, 10_000, 10_000, 15_000, 300_000]);
});

it("is in outage only once entries stayed unwritten longer than the bound, and leaves it when a flush writes them", async () => {
  const { log, warnings, advance } = openLog(3_000); // bound 15 s
  try {
    log.record("tok_outage", request(1), true, ConsumerSource.Header);
    await log.flush();
    const whileWriting = log.outage();

    writesFail = true;
    log.record("tok_outage", request(2), true, ConsumerSource.Header);
    await log.flush();
    advance(15_000);
    const atTheBound = log.outage();
    advance(1);
    const pastTheBound = log.outage();
    log.record("tok_outage", request(3), true, ConsumerSource.Header);
    await log.flush(); // still failing: the backlog's age counts from its first failed flush

    writesFail = false;
    await log.flush();
    const recovered = log.outage();
    advance(60_000);

    expect(whileWriting).toBeUndefined();
    expect(atTheBound).toBeUndefined();
    expect(pastTheBound).toEqual({ unwrittenForMs: 15_001, boundMs: 15_000, retryAfterSeconds: 3 });
    expect(warnings[warnings.length - 1]).toMatch(/unwritten for more than 15 s: refusing token traffic and \/healthz \(503\) until a flush succeeds/);
    expect(recovered).toBeUndefined();
    expect(log.outage()).toBeUndefined();
    expect(await log.consumers("tok_outage")).toEqual([expect.objectContaining({ consumer: "svc", requests: 3 })]);
  } finally {
    await log.close();
  }
});

it("refuses the consumers and requests questions at once while it holds unwritten entries, and answers them all after", async () => {
  const { log } = openLog();
  try {
    writesFail = true;
    log.record("tok_behind", request(1), true, ConsumerSource.Header);

    const consumers = await log.consumers("tok_behind", Date.parse("2026-11-21T10:00:00.000Z")).catch((e: unknown) => e);
    const entries = await log.entries("tok_behind", { limit: 10 }).catch((e: unknown) => e);
    writesFail = false;
    const after = await log.consumers("tok_behind", Date.parse("2026-11-21T10:00:00.000Z"));

    for (const refusal of [consumers, entries]) {
      expect(refusal).toBeInstanceOf(ApiError);
      expect(refusal).toMatchObject({ status: 503, code: "unavailable", details: { reason: "request_log_unavailable" }, headers: { "retry-after": "1" } });
    }
    expect(log.outage()).toBeUndefined(); // behind for less than the bound: the front still serves traffic
    expect(after).toEqual([expect.objectContaining({ consumer: "svc", requests: 1 })]);
  } finally {
    await log.close();
  }
});

it("keeps every entry of a failed flush for the next one, however many batches it spans", async () => {
  const { log } = openLog();
  try {
    writesFail = true;
    for (let i = 0; i < 60; i++) log.record("tok_batches", request(i), true, ConsumerSource.Header);
    await log.flush();
    writesFail = false;

    const entries = await log.entries("tok_batches", { limit: 100 });

    expect(entries).toHaveLength(60);
  } finally {
    await log.close();
  }
});

/**
 * Review 12, finding 5 (no fix committed): in a fleet, a front that cannot write the registry table keeps serving
 * the old token and keeps its requests in memory (docs/self-hosted-openclaw.md: "a request is never refused for it"),
 * while every other front answers the rotator's consumers query from the table alone. The drain then sees a consumer
 * that only reaches the failing front as silent on the old token, judges it moved, and revokes the old token under it:
 * the docs' promise that "the bound never costs a consumer a request" holds only while every front can write.
 *
 * Interleaving: fronts A and B on one table; B's writes fail (throttling on its partition, a role change, a network
 * split to DynamoDB's write path) while its reads still work (its cached records, GetItem); consumer billing-svc-1 keeps
 * calling with the old token, its requests land on B, for longer than the rotator's quiet period; the rotator's
 * `GET /v1/admin/tokens/{old}/consumers?since=...` lands on A. Expected: A's answer names billing-svc-1, or A refuses
 * to answer (evidence incomplete) so that the drain waits. Observed: A answers an empty list.
 *
 * Proposed fix: each front writes a heartbeat of its last complete flush to the table (one item per front); the
 * consumers and requests endpoints answer 503 while any front that served requests in the window has a flush behind
 * by more than a few intervals, so the drain waits (and its stall alarm fires) instead of revoking.
 */
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDbRequestLog } from "../../reference-gateway/dynamodb/request-log-store";
import { defaultRegistryTableName, registryTableDefinition } from "../../reference-gateway/dynamodb/table-schema";
import { ConsumerSource } from "../../reference-gateway/consumers";
import { systemClock } from "../../src/domain/clock";
import { startMoto, type MotoServer } from "../support/moto";

jest.setTimeout(60_000);

const TABLE = defaultRegistryTableName("dev");
let moto: MotoServer;
let good: DynamoDBClient;
let writeFailing: DynamoDBClient;

beforeAll(async () => {
  moto = await startMoto();
  const config = { endpoint: moto.endpoint, region: "us-east-1", credentials: { accessKeyId: "testing", secretAccessKey: "testing" } };
  good = new DynamoDBClient(config);
  await good.send(new CreateTableCommand(registryTableDefinition(TABLE)));
  writeFailing = new DynamoDBClient({ ...config, maxAttempts: 1 });
  // Front B's writes fail; its reads go through.
  writeFailing.middlewareStack.add(
    (next, context) => async (args) => {
      if (["BatchWriteItemCommand", "UpdateItemCommand", "PutItemCommand"].includes(String(context.commandName))) {
        throw Object.assign(new Error("Rate of requests exceeds the allowed throughput."), { name: "ProvisionedThroughputExceededException" });
      }
      return next(args);
    },
    { step: "initialize", name: "reviewFailWrites" },
  );
}, 120_000);

afterAll(async () => {
  good?.destroy();
  writeFailing?.destroy();
  await moto?.stop();
});

/** billing-svc-1's calls on the old token through front B, then the rotator's consumers query through front A. */
async function drainQuestion(clientOfB: DynamoDBClient, oldTokenId: string, warnings: string[]) {
  const frontA = new DynamoDbRequestLog({ client: good, tableName: TABLE, clock: systemClock, warn: () => undefined });
  const frontB = new DynamoDbRequestLog({ client: clientOfB, tableName: TABLE, clock: systemClock, flushIntervalMs: 50, warn: (m) => warnings.push(m) });
  try {
    const promotedAtMs = Date.now() - 25 * 60_000;
    // billing-svc-1 on the old token, served by front B, over the rotator's quiet period and beyond.
    for (let i = 1; i <= 20; i++) {
      const at = new Date(promotedAtMs + i * 60_000);
      frontB.record(oldTokenId, { at: at.toISOString(), method: "POST", path: "/v1/jobs", status: 201, userAgent: "billing/1.0", consumer: "billing-svc-1" }, true, ConsumerSource.Header);
    }
    await frontB.flush();
    // The rotator's question, answered by front A.
    return await frontA.consumers(oldTokenId, promotedAtMs).then(
      (summaries) => ({ refused: false, consumers: summaries.map((s) => s.consumer) }),
      () => ({ refused: true, consumers: [] as string[] }),
    );
  } finally {
    await frontA.close().catch(() => undefined);
    await frontB.close().catch(() => undefined);
  }
}

it("control: with both fronts writing, front A reports the consumer that called front B", async () => {
  const answer = await drainQuestion(good, "tok_control000000000", []);
  expect(answer).toEqual({ refused: false, consumers: ["billing-svc-1"] });
});

it("a consumer whose requests reach only a front that cannot write is not reported silent to the drain", async () => {
  const warnings: string[] = [];
  const answer = await drainQuestion(writeFailing, "tok_old0000000000000", warnings);
  expect(warnings.length).toBeGreaterThan(0); // B reported its failed flush on its own stderr, nowhere else
  expect(answer.refused || answer.consumers.includes("billing-svc-1")).toBe(true);
});

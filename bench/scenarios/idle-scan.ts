/**
 * A scheduled run with nothing due over N managed tokens (each a secret and a ledger entry). Bound: one DynamoDB
 * Query of the ledger's due index, which lists nothing, and no other call at all: no secret described or read, no
 * gateway call, no lease taken, whatever N. Wall time is compared with the same Query sent by the SDK alone, measured
 * alternately in the same run; and, where several sizes run, the largest N's wall time with the smallest's.
 */
import { DynamoDBClient, QueryCommand } from "@aws-sdk/client-dynamodb";
import { DUE_INDEX } from "../../src/ledger/dynamodb-ledger";
import { ENVIRONMENT, LEDGER_TABLE, SDK_TIMEOUTS } from "../environment";
import { CallLog, Service } from "../instrument";
import { Figure, figure, ScenarioResult } from "../report";
import { ScenarioContext } from "../scenario";
import { countLedgerEntries, seedIdleSecrets } from "../seed";
import { median, timed } from "../stats";

/** The due index's one partition (src/ledger/dynamodb-ledger.ts puts every entry in it). */
const DUE_BUCKET = "due";

export async function idleScan(ctx: ScenarioContext): Promise<ScenarioResult> {
  const figures: Figure[] = [];
  const notes: string[] = [];
  const details: Record<string, unknown> = {};
  const wallBySize = new Map<number, number[]>();
  for (const n of ctx.options.idleSizes) {
    ctx.progress(`idle-scan: seeding ${n} tokens (secrets and ledger entries)`);
    await ctx.env.reset();
    const seeding = await timed(() => seedIdleSecrets(ctx.env, "idle", n));
    const entries = await countLedgerEntries(ctx.env);
    if (entries !== n) throw new Error(`idle-scan: the ledger holds ${entries} entries after seeding ${n}`);
    const samples = { wall: [] as number[], sm: [] as number[], gateway: [] as number[], ddb: [] as number[], query: [] as number[], raw: [] as number[] };
    let ddbByOp: Record<string, number> = {};
    for (let run = 0; run < ctx.options.idleRuns; run++) {
      ctx.progress(`idle-scan: N=${n}, run ${run + 1}/${ctx.options.idleRuns}`);
      const log = new CallLog();
      const instrumented = ctx.env.instrumentedEngine(log);
      const { result: summary, ms } = await timed(() => instrumented.engine.runScheduled());
      instrumented.dispose();
      if (summary.scanned !== 0 || summary.due !== 0 || Object.keys(summary.outcomes).length !== 0) {
        throw new Error(`idle-scan: expected nothing listed as due among ${n} tokens, got ${summary.scanned} scanned, ${summary.due} due: ${JSON.stringify(summary.outcomes).slice(0, 300)}`);
      }
      samples.wall.push(ms);
      samples.sm.push(log.of(Service.SecretsManager).length);
      samples.gateway.push(log.of(Service.Gateway).length);
      samples.ddb.push(log.of(Service.DynamoDb).length);
      samples.query.push(log.of(Service.DynamoDb).filter((c) => c.op === "Query").length);
      ddbByOp = log.byOp(Service.DynamoDb);
      samples.raw.push(await bareQuery(ctx));
    }
    wallBySize.set(n, samples.wall);
    const label = `N=${n.toLocaleString("en-US")}`;
    figures.push(
      figure(`${label}: ledger (DynamoDB) calls`, "calls", samples.ddb, { value: 1, label: "one Query of the due index" }),
      figure(`${label}: Secrets Manager calls`, "calls", samples.sm, { value: 0, label: "none" }),
      figure(`${label}: gateway calls`, "calls", samples.gateway, { value: 0, label: "none" }),
      figure(`${label}: wall time`, "ms", samples.wall, { value: median(samples.raw), label: "bare Query of the due index" }),
    );
    details[label] = { dynamoDbCallsByOperation: ddbByOp, seedingMs: Math.round(seeding.ms), bareQueryMs: samples.raw.map((ms) => Math.round(ms * 10) / 10) };
    const met = samples.ddb.every((d) => d === 1) && samples.query.every((q) => q === 1) && samples.sm.every((s) => s === 0) && samples.gateway.every((g) => g === 0);
    notes.push(
      `${label}: ${JSON.stringify(ddbByOp)} on the ledger, nothing else; bound met: ${met ? "yes" : "NO"}. ` +
        `Seeding ${n} secrets and ledger entries directly with the SDK took ${(seeding.ms / 1000).toFixed(1)} s (not measured).`,
    );
  }
  const sizes = [...wallBySize.keys()].sort((a, b) => a - b);
  if (sizes.length > 1) {
    const [small, large] = [sizes[0], sizes[sizes.length - 1]];
    figures.push(
      figure(`wall time, N=${large.toLocaleString("en-US")} vs N=${small.toLocaleString("en-US")}`, "ms", wallBySize.get(large)!, {
        value: median(wallBySize.get(small)!),
        label: `N=${small.toLocaleString("en-US")}`,
      }),
    );
    notes.push(`Growth with N: the median run over ${large.toLocaleString("en-US")} tokens takes ${(median(wallBySize.get(large)!) / median(wallBySize.get(small)!)).toFixed(2)}x the run over ${small.toLocaleString("en-US")} (1.0 is no growth).`);
  }
  return { id: "idle-scan", title: "scheduled run, nothing due", figures, notes, details };
}

/** The same Query, sent by the SDK alone on a client of its own: the floor for the scan's wall time. */
async function bareQuery(ctx: ScenarioContext): Promise<number> {
  const client = new DynamoDBClient(SDK_TIMEOUTS);
  try {
    const { result, ms } = await timed(() =>
      client.send(
        new QueryCommand({
          TableName: LEDGER_TABLE,
          IndexName: DUE_INDEX,
          KeyConditionExpression: "dueBucket = :bucket AND nextCheckAtMs <= :now",
          ExpressionAttributeValues: { ":bucket": { S: DUE_BUCKET }, ":now": { N: String(ctx.env.clock.now().getTime()) } },
        }),
      ),
    );
    if ((result.Items?.length ?? 0) !== 0 || result.LastEvaluatedKey) throw new Error(`bare Query of ${ENVIRONMENT}'s due index listed ${result.Items?.length} entries`);
    return ms;
  } finally {
    client.destroy();
  }
}

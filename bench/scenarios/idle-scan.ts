/**
 * A scheduled run with nothing due over N managed tokens. Bound: ceil(N/100) ListSecrets pages (100 is the API's
 * page maximum), and no other call at all: no value read, no gateway call, no lease taken. Wall time is compared
 * with the same pagination done by hand (the SDK alone, same filters), measured alternately in the same run.
 */
import { ListSecretsCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { secretNamespace, Tag } from "../../src/store/metadata";
import { ENVIRONMENT, SDK_TIMEOUTS } from "../environment";
import { CallLog, Service } from "../instrument";
import { Figure, figure, ScenarioResult } from "../report";
import { ScenarioContext } from "../scenario";
import { seedIdleSecrets } from "../seed";
import { median, timed } from "../stats";

export async function idleScan(ctx: ScenarioContext): Promise<ScenarioResult> {
  const figures: Figure[] = [];
  const notes: string[] = [];
  const details: Record<string, unknown> = {};
  for (const n of ctx.options.idleSizes) {
    ctx.progress(`idle-scan: seeding ${n} secrets`);
    await ctx.env.reset();
    const seeding = await timed(() => seedIdleSecrets(ctx.env, "idle", n));
    const pages = Math.ceil(n / 100);
    const samples = { wall: [] as number[], sm: [] as number[], list: [] as number[], gateway: [] as number[], leases: [] as number[], raw: [] as number[] };
    let byOp: Record<string, number> = {};
    for (let run = 0; run < ctx.options.idleRuns; run++) {
      ctx.progress(`idle-scan: N=${n}, run ${run + 1}/${ctx.options.idleRuns}`);
      const log = new CallLog();
      const instrumented = ctx.env.instrumentedEngine(log);
      const { result: summary, ms } = await timed(() => instrumented.engine.runScheduled());
      instrumented.dispose();
      const notDue = Object.values(summary.outcomes).filter((o) => o === "not-due").length;
      if (summary.scanned !== n || notDue !== n) {
        throw new Error(`idle-scan: expected ${n} tokens scanned and not due, got ${summary.scanned} scanned, ${notDue} not due`);
      }
      samples.wall.push(ms);
      samples.sm.push(log.of(Service.SecretsManager).length);
      samples.list.push(log.of(Service.SecretsManager).filter((c) => c.op === "ListSecrets").length);
      samples.gateway.push(log.of(Service.Gateway).length);
      samples.leases.push(log.of(Service.DynamoDb).length);
      byOp = log.byOp(Service.SecretsManager);
      samples.raw.push(await rawPagination(n));
    }
    const label = `N=${n.toLocaleString("en-US")}`;
    figures.push(
      figure(`${label}: Secrets Manager calls`, "calls", samples.sm, { value: pages, label: "ceil(N/100) pages" }),
      figure(`${label}: gateway calls`, "calls", samples.gateway, { value: 0, label: "none" }),
      figure(`${label}: lease (DynamoDB) calls`, "calls", samples.leases, { value: 0, label: "none" }),
      figure(`${label}: wall time`, "ms", samples.wall, { value: median(samples.raw), label: "bare ListSecrets pagination" }),
      figure(`${label}: wall time per page`, "ms", samples.wall.map((w, i) => w / Math.max(1, samples.list[i]))),
    );
    details[label] = { secretsManagerCallsByOperation: byOp, seedingMs: Math.round(seeding.ms), bareListingMs: samples.raw.map(Math.round) };
    notes.push(
      `${label}: ${byOp.ListSecrets ?? 0} ListSecrets pages and nothing else (${JSON.stringify(byOp)}); ` +
        `bound met: ${samples.sm.every((s) => s === pages) && samples.gateway.every((g) => g === 0) && samples.leases.every((l) => l === 0) ? "yes" : "NO"}. ` +
        `Seeding ${n} secrets directly with the SDK took ${(seeding.ms / 1000).toFixed(1)} s (not measured).`,
    );
  }
  return { id: "idle-scan", title: "scheduled run, nothing due", figures, notes, details };
}

/** The same pages, fetched by the SDK alone with the store's filters: the floor for the scan's wall time. */
async function rawPagination(expected: number): Promise<number> {
  const client = new SecretsManagerClient(SDK_TIMEOUTS);
  const maxPages = Math.ceil(expected / 100) + 5;
  try {
    const { result: count, ms } = await timed(async () => {
      let total = 0;
      let pages = 0;
      let nextToken: string | undefined;
      do {
        if (++pages > maxPages) throw new Error(`bare pagination: more than ${maxPages} pages for ${expected} secrets`);
        const page = await client.send(
          new ListSecretsCommand({
            MaxResults: 100,
            NextToken: nextToken,
            Filters: [
              { Key: "name", Values: [secretNamespace(ENVIRONMENT)] },
              { Key: "tag-key", Values: [Tag.ManagedBy] },
            ],
          }),
        );
        total += page.SecretList?.length ?? 0;
        nextToken = page.NextToken;
      } while (nextToken);
      return total;
    });
    if (count !== expected) throw new Error(`bare pagination listed ${count} secrets, expected ${expected}`);
    return ms;
  } finally {
    client.destroy();
  }
}

/**
 * One scheduled run with many tokens due at once (1,000 by default), twice per repetition on fresh data:
 *   - in this process, with every call counted and timed: wall time against the serial sum of its calls divided by
 *     maxConcurrency (how well the pool keeps its workers busy), and against N x one token's run-1 time / maxConcurrency
 *     (how much the backends slow down under concurrent load);
 *   - as the bundled Lambda in a fresh Node process (bench/workers/lambda-run.js) with Lambda's V8 heap limits: wall
 *     time against the Lambda timeout (300 s by default), peak memory against the function's memory size (256 MB).
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { Boundary } from "../../src/rotation/observability";
import { DEFAULT_SETTINGS } from "../../src/rotation/settings";
import { adminSecretName } from "../../src/store/metadata";
import { ENVIRONMENT, LEDGER_TABLE } from "../environment";
import { CallLog, Service } from "../instrument";
import { MiB, RssSampler } from "../memory";
import { Figure, figure, ScenarioResult } from "../report";
import { ScenarioContext } from "../scenario";
import { seedDueTokens } from "../seed";
import { median, nowMs } from "../stats";

/**
 * Secrets Manager's per-region request quotas that a rotation's writes fall under (50 per second each, not
 * adjustable; docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html). Reads (DescribeSecret,
 * GetSecretValue) share a quota of 10,000 per second and do not bind at this scale.
 */
export const AWS_WRITE_QUOTAS = {
  "PutSecretValue + UpdateSecret + UpdateSecretVersionStage": { ops: ["PutSecretValue", "UpdateSecret", "UpdateSecretVersionStage"], perSecond: 50 },
  "TagResource + UntagResource": { ops: ["TagResource", "UntagResource"], perSecond: 50 },
} as const;

/** DynamoDB's throughput per partition (docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html). */
export const DUE_INDEX_PARTITION_WRITES_PER_SECOND = 1000;
const WRITES = ["PutItem", "UpdateItem", "DeleteItem"];

/** The rotator's Lambda timeout and memory size (RotatorDeployment's defaults). */
export const LAMBDA_TIMEOUT_MS = 300_000;
export const LAMBDA_MEMORY_MB = 256;
/**
 * V8 heap limits as Lambda's Node.js bootstrap sets them from the function's memory size (new space = memory / 10,
 * semi space = half of it, old space = memory - new space): without them V8 sizes its heap from this machine's
 * memory, collects lazily, and the resident set says little about what a 256 MB function needs.
 */
export const LAMBDA_NODE_ARGS = [`--max-semi-space-size=${Math.floor(LAMBDA_MEMORY_MB / 20)}`, `--max-old-space-size=${LAMBDA_MEMORY_MB - Math.floor(LAMBDA_MEMORY_MB / 10)}`];
/** The bundled Lambda run is stopped if it ever runs past this; its own budget is LAMBDA_TIMEOUT_MS. */
const WORKER_KILL_MS = LAMBDA_TIMEOUT_MS + 60_000;

const BUNDLE = resolve(__dirname, "../../dist/lambda/rotator/index.js");
const WORKER = resolve(__dirname, "../workers/lambda-run.js");

interface WorkerResult {
  readonly wallMs: number;
  readonly initMs: number;
  readonly baselineRss: number;
  readonly peakRss: number;
  readonly peakHeapUsed: number;
  readonly maxRssBytes: number;
  readonly scanned: number;
  readonly due: number;
  readonly outcomes: Record<string, number>;
}

export async function dueRun(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { env, options } = ctx;
  const n = options.dueTokens;
  const c = options.maxConcurrency;
  const s = {
    wall: [] as number[],
    serial: [] as number[],
    sm: [] as number[],
    gateway: [] as number[],
    ledger: [] as number[],
    smCallMs: [] as number[],
    gwCallMs: [] as number[],
    ddbCallMs: [] as number[],
    rssGrowth: [] as number[],
    quotaFloorS: [] as number[],
    ddbIndexFloorS: [] as number[],
    lambdaWall: [] as number[],
    lambdaMaxRss: [] as number[],
    lambdaPeakRss: [] as number[],
    lambdaBaselineRss: [] as number[],
    lambdaHeap: [] as number[],
    deferred: [] as number[],
    firstIntent: [] as number[],
    readsBeforeFirstIntent: [] as number[],
  };
  const outcomesSeen: Array<Record<string, number>> = [];
  let perTokenByOp: Record<string, number> = {};

  for (let run = 0; run < options.dueRuns; run++) {
    ctx.progress(`due-run ${run + 1}/${options.dueRuns}: seeding ${n} due tokens`);
    await env.reset();
    await seedDueTokens(env, "due", n);
    ctx.progress(`due-run ${run + 1}/${options.dueRuns}: in-process run over ${n} due tokens`);
    const log = new CallLog();
    const instrumented = env.instrumentedEngine(log);
    const sampler = new RssSampler();
    const start = nowMs();
    const summary = await instrumented.engine.runScheduled(() => LAMBDA_TIMEOUT_MS - (nowMs() - start));
    const wall = nowMs() - start;
    const peak = sampler.stop();
    instrumented.dispose();
    const outcomes = tally(summary.outcomes);
    outcomesSeen.push(outcomes);
    s.wall.push(wall);
    s.serial.push(log.serialMs());
    s.sm.push(log.of(Service.SecretsManager).length / n);
    s.gateway.push(log.of(Service.Gateway).length / n);
    s.ledger.push(log.of(Service.DynamoDb).length / n);
    s.smCallMs.push(median(log.of(Service.SecretsManager).map((call) => call.end - call.start)));
    s.gwCallMs.push(median(log.of(Service.Gateway).map((call) => call.end - call.start)));
    s.ddbCallMs.push(median(log.of(Service.DynamoDb).map((call) => call.end - call.start)));
    s.quotaFloorS.push(quotaFloorSeconds(log));
    s.ddbIndexFloorS.push(log.of(Service.DynamoDb).filter((call) => WRITES.includes(call.op)).length / DUE_INDEX_PARTITION_WRITES_PER_SECOND);
    // The scan reads every listed entry before the pool starts: how long the first rotation waits for it.
    const firstIntent = log.marks.find((m) => m.label === Boundary.IntentRecorded)?.at ?? Number.NaN;
    s.firstIntent.push(firstIntent - start);
    s.readsBeforeFirstIntent.push(log.of(Service.DynamoDb, start, firstIntent).filter((call) => call.op === "GetItem").length);
    perTokenByOp = Object.fromEntries(
      [Service.SecretsManager, Service.Gateway, Service.DynamoDb].flatMap((service) =>
        Object.entries(log.byOp(service)).map(([op, count]) => [`${service}.${op}`, Math.round((count / n) * 100) / 100]),
      ),
    );
    s.rssGrowth.push((peak - sampler.baselineBytes) / MiB);
    s.deferred.push(outcomes.deferred ?? 0);

    ctx.progress(`due-run ${run + 1}/${options.dueRuns}: seeding again for the bundled Lambda`);
    await env.reset();
    await seedDueTokens(env, "due", n);
    ctx.progress(`due-run ${run + 1}/${options.dueRuns}: bundled Lambda over ${n} due tokens`);
    const lambda = await runBundledLambda(ctx);
    outcomesSeen.push(lambda.outcomes);
    s.lambdaWall.push(lambda.wallMs);
    s.lambdaMaxRss.push(lambda.maxRssBytes / MiB);
    s.lambdaPeakRss.push(lambda.peakRss / MiB);
    s.lambdaBaselineRss.push(lambda.baselineRss / MiB);
    s.lambdaHeap.push(lambda.peakHeapUsed / MiB);
    s.deferred.push(lambda.outcomes.deferred ?? 0);
  }

  const label = `N=${n.toLocaleString("en-US")}`;
  const figures: Figure[] = [
    figure(`${label}, in-process: wall time`, "ms", s.wall, { value: median(s.serial) / c, label: `serial sum of its calls / ${c}` }),
  ];
  const single = singleTokenRun1Ms(ctx);
  if (single !== undefined) figures.push(figure(`${label}, in-process: wall time vs one token alone`, "ms", s.wall, { value: (n * single) / c, label: `N x run-1 time of one token / ${c}` }));
  figures.push(
    figure(`${label}, in-process: Secrets Manager calls per token`, "calls", s.sm),
    figure(`${label}, in-process: gateway calls per token`, "calls", s.gateway),
    figure(`${label}, in-process: ledger (DynamoDB) calls per token`, "calls", s.ledger),
    figure(`${label}, in-process: median ledger call under load`, "ms", s.ddbCallMs),
    figure(`${label}, in-process: median Secrets Manager call under load`, "ms", s.smCallMs),
    figure(`${label}, in-process: median gateway call under load`, "ms", s.gwCallMs),
    figure(`${label}, in-process: RSS growth during the run`, "MiB", s.rssGrowth),
    figure(`${label}, in-process: time before the first rotation starts`, "ms", s.firstIntent, { value: median(s.wall), label: "the whole run" }),
    figure(`${label}, in-process: ledger reads before the first rotation starts`, "calls", s.readsBeforeFirstIntent, { value: n, label: "N" }),
    figure(`${label}, on AWS: floor set by the 50/s write quotas`, "s", s.quotaFloorS, { value: LAMBDA_TIMEOUT_MS / 1000, label: "Lambda timeout" }),
    figure(`${label}, on AWS: floor if every ledger write also writes the due index's one partition`, "s", s.ddbIndexFloorS, { value: LAMBDA_TIMEOUT_MS / 1000, label: "Lambda timeout" }),
    figure(`${label}, bundled Lambda: wall time`, "ms", s.lambdaWall, { value: LAMBDA_TIMEOUT_MS, label: "Lambda timeout" }),
    figure(`${label}, bundled Lambda: margin to the timeout`, "s", s.lambdaWall.map((w) => (LAMBDA_TIMEOUT_MS - w) / 1000)),
    figure(`${label}, bundled Lambda: peak RSS (maxRSS)`, "MiB", s.lambdaMaxRss, { value: LAMBDA_MEMORY_MB, label: "Lambda memory size" }),
    figure(`${label}, bundled Lambda: RSS after init, before the run`, "MiB", s.lambdaBaselineRss),
    figure(`${label}, bundled Lambda: peak V8 heap used`, "MiB", s.lambdaHeap),
    figure(`${label}: tokens deferred (Lambda time running out)`, "tokens", s.deferred, { value: 0, label: "none" }),
  );
  const perToken = median(s.lambdaWall) / n;
  const notes = [
    `On AWS the run's writes fall under two quotas of 50 requests/s per region (shared with everything else in the account): ${Object.keys(AWS_WRITE_QUOTAS).join("; ")}. ` +
      `At the calls counted here that is at least ${median(s.quotaFloorS).toFixed(0)} s for ${n} tokens, whatever the concurrency; beyond the quota the SDK retries throttled calls (3 attempts) and then the token fails for this run.`,
    `The ledger is DynamoDB on demand: no account-wide request quota of that size, and each token is its own partition key. ` +
      `The due index, though, keys every entry under one partition ("due"), and one partition takes about ${DUE_INDEX_PARTITION_WRITES_PER_SECOND} writes/s; ` +
      `if every ledger write also wrote the index (it does when nextCheckAtMs changes), the run's ${Math.round(median(s.ddbIndexFloorS) * DUE_INDEX_PARTITION_WRITES_PER_SECOND)} writes need at least ${median(s.ddbIndexFloorS).toFixed(0)} s.`,
    `The scan reads every entry the due index lists (one consistent GetItem each, one after another) before the pool starts: the first rotation started ${(median(s.firstIntent) / 1000).toFixed(1)} s into the run, after ${median(s.readsBeforeFirstIntent)} reads.`,
    `Calls per token, by operation: ${JSON.stringify(perTokenByOp)}.`,
    `Outcomes per run: ${outcomesSeen.map((o) => JSON.stringify(o)).join(" ")} (each due token goes to "waiting": promoted, old token draining).`,
    `Pool utilisation: wall / (serial sum / ${c}) = ${(median(s.wall) / (median(s.serial) / c)).toFixed(2)}; 1.0 means all ${c} workers were busy on a call all the time.`,
    `At ${perToken.toFixed(0)} ms per token (bundled Lambda), one run can start about ${Math.floor((LAMBDA_TIMEOUT_MS - DEFAULT_SETTINGS.minRemainingMs) / perToken).toLocaleString("en-US")} rotations before the engine defers the rest (no new token is started with less than ${DEFAULT_SETTINGS.minRemainingMs / 1000} s left).`,
  ];
  return { id: "due-run", title: `${n} tokens due at once`, figures, notes, details: { outcomes: outcomesSeen, callsPerTokenByOperation: perTokenByOp } };
}

/**
 * The least time the run's writes need on AWS: each quota's calls divided by its rate; the buckets fill in
 * parallel, so the slowest one sets the floor. (moto has no quotas; this is computed from the calls counted.)
 */
function quotaFloorSeconds(log: CallLog): number {
  const calls = log.byOp(Service.SecretsManager);
  return Math.max(...Object.values(AWS_WRITE_QUOTAS).map((q) => q.ops.reduce((n, op) => n + (calls[op] ?? 0), 0) / q.perSecond));
}

/** Run 1 (due -> draining) of one token alone, from the rotation scenario when it ran first. */
function singleTokenRun1Ms(ctx: ScenarioContext): number | undefined {
  return ctx.earlier.get("rotation")?.figures.find((f) => f.name.startsWith("run 1 wall time"))?.median;
}

function tally(outcomes: Readonly<Record<string, string>>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of Object.values(outcomes)) counts[outcome] = (counts[outcome] ?? 0) + 1;
  return counts;
}

/** The bundled Lambda, once, in a fresh Node process against this environment. */
function runBundledLambda(ctx: ScenarioContext): Promise<WorkerResult> {
  const { env } = ctx;
  const childEnv = {
    ...process.env,
    ...env.moto.env,
    BENCH_LAMBDA_BUNDLE: BUNDLE,
    BENCH_LAMBDA_TIMEOUT_MS: String(LAMBDA_TIMEOUT_MS),
    OPENCLAW_ENVIRONMENT: ENVIRONMENT,
    OPENCLAW_GATEWAY_URL: env.gateway.url,
    OPENCLAW_BACKEND: "documented-api",
    OPENCLAW_ADMIN_SECRET_ID: adminSecretName(ENVIRONMENT),
    OPENCLAW_LEDGER_TABLE: LEDGER_TABLE,
    OPENCLAW_MAX_CONCURRENCY: String(ctx.options.maxConcurrency),
    POWERTOOLS_SERVICE_NAME: "openclaw-rotator",
    POWERTOOLS_METRICS_NAMESPACE: "OpenClawTokens",
  };
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...LAMBDA_NODE_ARGS, WORKER], { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
    // Powertools writes a JSON line per log entry: keep only the tail, where the result line is.
    let tail = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (tail = (tail + chunk).slice(-64_000)));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-8_000)));
    const killer = setTimeout(() => child.kill("SIGKILL"), WORKER_KILL_MS);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      const line = tail.split("\n").find((l) => l.startsWith("RESULT "));
      if (code === 0 && line) return resolvePromise(JSON.parse(line.slice("RESULT ".length)) as WorkerResult);
      reject(new Error(`due-run: the bundled Lambda exited ${code ?? signal}: ${tail.split("\n").filter((l) => l.startsWith("ERROR")).join(" ")}\n${stderr}`));
    });
  });
}

/**
 * Benchmarks of the token front (BENCHMARKS.md, "Token front"): run with
 *   source scripts/env.sh && TS_NODE_TRANSPILE_ONLY=true node -r ts-node/register bench/front.ts [--requests 2000]
 *
 * 1. Added latency: GET /v1/models on the real OpenClaw (trusted-proxy mode), through the front with a token vs
 *    directly with the gateway's shared secret (its local password), interleaved one by one, in one run.
 * 2. Throughput: 100 concurrent consumers, one token each, calling through the front for 10 s; failures counted.
 * 3. Memory: the front's RSS with 10,000 registered tokens (created through the admin API, then served).
 * With --registry dynamodb the front keeps its registry in a DynamoDB table on moto (a fleet's registry: cached
 * lookups, request log written in batches) instead of SQLite. Writes bench/results/front-<registry>-latest.json.
 */
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { Agent, request } from "node:http";
import { startOpenClawGateway } from "../test/support/openclaw-gateway";
import { startReferenceGateway } from "../local/reference-gateway";
import { median } from "./stats";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { startMoto } from "../test/support/moto";
import { runGatewayWithEnv, startFleetFront } from "../test/support/fleet-front";
import { registryTableDefinition } from "../reference-gateway/dynamodb/table-schema";

const PROXY_ADDRESS = "127.0.0.2";
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** One GET with keep-alive; resolves to [status, milliseconds]. */
function get(url: string, authorization: string): Promise<[number, number]> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { agent, headers: { authorization } }, (res) => {
      res.resume();
      res.on("end", () => resolvePromise([res.statusCode ?? 0, performance.now() - started]));
    });
    req.on("error", reject);
    req.end();
  });
}

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
}

interface Front {
  readonly url: string;
  readonly pid: number;
  readonly adminToken: string;
  stop(): Promise<unknown>;
}

/** The front on a DynamoDB registry (moto), its break-glass token created with the admin CLI, as a fleet's is. */
async function startDynamoDbFront(serveArgs: readonly string[]): Promise<Front> {
  const moto = await startMoto();
  const table = "openclaw-front-dev-registry";
  const client = new DynamoDBClient({ endpoint: moto.endpoint, region: moto.env.AWS_REGION, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
  await client.send(new CreateTableCommand(registryTableDefinition(table)));
  client.destroy();
  const created = await runGatewayWithEnv(["auth", "create-token", "--registry-table", table, "--environment", "dev", "--name", "bench-admin", "--scope", "admin:*", "--json"], moto.env);
  if (created.code !== 0) throw new Error(`auth create-token failed: ${created.stderr}`);
  const adminToken = (JSON.parse(created.stdout) as { token: string }).token;
  const front = await startFleetFront(["--environment", "dev", "--registry-table", table, ...serveArgs], moto.env);
  return { url: front.url, pid: front.pid, adminToken, stop: async () => Promise.all([front.stop(), moto.stop()]) };
}

async function main(): Promise<void> {
  const requests = Number(process.argv[process.argv.indexOf("--requests") + 1]) || 2000;
  const registry = process.argv.includes("--registry") ? process.argv[process.argv.indexOf("--registry") + 1] : "sqlite";
  if (registry !== "sqlite" && registry !== "dynamodb") throw new Error(`--registry ${registry}: use sqlite or dynamodb`);
  const log = (message: string) => process.stderr.write(`[bench front] ${message}\n`);
  log(`starting OpenClaw (trusted-proxy mode) and the front (registry: ${registry})`);
  const openclaw = await startOpenClawGateway({ trustedProxy: { proxyAddress: PROXY_ADDRESS } });
  const serveArgs = ["--upstream", openclaw.url, "--upstream-source-address", PROXY_ADDRESS, "--local-consumer-address", "100.64.0.1"];
  const front: Front = registry === "dynamodb" ? await startDynamoDbFront(serveArgs) : await startReferenceGateway({ testControl: false, serveArgs });
  try {
    const createToken = async (name: string): Promise<string> => {
      const res = await fetch(`${front.url}/v1/admin/tokens`, {
        method: "POST",
        headers: { authorization: `Bearer ${front.adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ name, scopes: ["read:agents"] }),
      });
      return ((await res.json()) as { token: string }).token;
    };

    // 1. Added latency, interleaved so both paths see the same machine load.
    const token = await createToken("bench-latency");
    const direct: number[] = [];
    const viaFront: number[] = [];
    for (let i = 0; i < 200; i++) {
      await get(`${openclaw.url}/v1/models`, `Bearer ${openclaw.sharedToken}`);
      await get(`${front.url}/v1/models`, `Bearer ${token}`);
    }
    log(`latency: ${requests} requests each way`);
    for (let i = 0; i < requests; i++) {
      const [ds, dms] = await get(`${openclaw.url}/v1/models`, `Bearer ${openclaw.sharedToken}`);
      const [fs, fms] = await get(`${front.url}/v1/models`, `Bearer ${token}`);
      if (ds !== 200 || fs !== 200) throw new Error(`unexpected status direct ${ds}, front ${fs}`);
      direct.push(dms);
      viaFront.push(fms);
    }
    const added = viaFront.map((ms, i) => ms - direct[i]);

    // 2. Throughput at 100 concurrent consumers, through the front, then directly (same 10 s, same machine).
    log("throughput: 100 consumers for 10 s through the front, then 10 s direct");
    const tokens = await Promise.all(Array.from({ length: 100 }, (_, i) => createToken(`bench-consumer-${i}`)));
    const load = async (url: string, authorizations: readonly string[]) => {
      const until = performance.now() + 10_000;
      let ok = 0;
      let failed = 0;
      const latencies: number[] = [];
      await Promise.all(
        authorizations.map(async (authorization) => {
          while (performance.now() < until) {
            const [status, ms] = await get(url, authorization).catch(() => [0, 0] as [number, number]);
            if (status === 200) ok++;
            else failed++;
            latencies.push(ms);
          }
        }),
      );
      return { requests: ok, failed, perSecond: Math.round(ok / 10), medianMs: round(median(latencies)), p99Ms: round(percentile(latencies, 99)) };
    };
    const throughputFront = await load(`${front.url}/v1/models`, tokens.map((t) => `Bearer ${t}`));
    const throughputDirect = await load(`${openclaw.url}/v1/models`, tokens.map(() => `Bearer ${openclaw.sharedToken}`));

    // 3. Memory at 10,000 registered tokens, created through the admin API (20 at a time), then served.
    log("memory: creating 10,000 tokens through the admin API");
    const rssBefore = await rssKiB(front.pid);
    const createStarted = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < 10_000 - 102) await createToken(`bulk-${next++}`);
      }),
    );
    const createSeconds = (performance.now() - createStarted) / 1000;
    for (let i = 0; i < 1000; i++) await get(`${front.url}/v1/models`, `Bearer ${tokens[i % tokens.length]}`);
    const list = await fetch(`${front.url}/v1/admin/tokens`, { headers: { authorization: `Bearer ${front.adminToken}` } });
    const listed = ((await list.json()) as { tokens: unknown[] }).tokens.length;
    const rssAfter = await rssKiB(front.pid);

    const result = {
      at: new Date().toISOString(),
      registry,
      latency: {
        requests,
        directMedianMs: round(median(direct)),
        directP99Ms: round(percentile(direct, 99)),
        frontMedianMs: round(median(viaFront)),
        frontP99Ms: round(percentile(viaFront, 99)),
        addedMedianMs: round(median(added)),
        addedP99Ms: round(percentile(added, 99)),
      },
      throughput: { consumers: 100, seconds: 10, front: throughputFront, direct: throughputDirect },
      memory: { tokens: listed, createSeconds: Math.round(createSeconds), rssBeforeMiB: Math.round(rssBefore / 1024), rssAt10kTokensMiB: Math.round(rssAfter / 1024) },
    };
    await mkdir(resolve(__dirname, "results"), { recursive: true });
    await writeFile(resolve(__dirname, `results/front-${registry}-latest.json`), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    agent.destroy();
    await front.stop();
    await openclaw.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench front: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});

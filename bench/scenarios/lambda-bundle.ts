/**
 * The rotator Lambda's bundle: its size (minified, and gzip as it is uploaded), and its cold initialisation: a fresh
 * Node process loading it, against a bare `node -e 0`, run alternately so that both see the same machine load.
 * Also, inside the process, the time of the require alone and of require + createHandler (the first invocation's
 * extra work: SDK clients, Powertools), which is what Lambda's Init Duration reports.
 */
import { execFile } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { figure, ScenarioResult } from "../report";
import { ScenarioContext } from "../scenario";
import { median, nowMs } from "../stats";

const BUNDLE = resolve(__dirname, "../../dist/lambda/rotator/index.js");
const CHILD_TIMEOUT_MS = 30_000;

/** Prints the in-process time of `require(bundle)` and of `createHandler()` after it, in ms. */
const MEASURE_INIT = `
const { performance } = require("node:perf_hooks");
const t0 = performance.now();
const m = require(process.env.BENCH_LAMBDA_BUNDLE);
const t1 = performance.now();
m.createHandler({});
const t2 = performance.now();
process.stdout.write(JSON.stringify({ requireMs: t1 - t0, createHandlerMs: t2 - t1 }));`;

/** Settings createHandler needs; nothing is called at construction, so the addresses need not answer. */
const HANDLER_ENV = {
  OPENCLAW_ENVIRONMENT: "dev",
  OPENCLAW_GATEWAY_URL: "http://127.0.0.1:9",
  OPENCLAW_ADMIN_SECRET_ID: "openclaw-admin/dev/gateway",
  OPENCLAW_LEDGER_TABLE: "openclaw-rotator-dev-ledger",
  AWS_REGION: "us-east-1",
};

export async function lambdaBundle(ctx: ScenarioContext): Promise<ScenarioResult> {
  const code = readFileSync(BUNDLE);
  const minified = statSync(BUNDLE).size;
  const gzip = gzipSync(code, { level: 9 }).length;

  const bare: number[] = [];
  const loaded: number[] = [];
  const requireMs: number[] = [];
  const createHandlerMs: number[] = [];
  for (let i = 0; i < ctx.options.coldStartRuns; i++) {
    ctx.progress(`lambda-bundle: cold start ${i + 1}/${ctx.options.coldStartRuns}`);
    bare.push((await node(["-e", "0"])).ms);
    loaded.push((await node(["-e", `require(${JSON.stringify(BUNDLE)})`])).ms);
    const inner = JSON.parse((await node(["-e", MEASURE_INIT], { BENCH_LAMBDA_BUNDLE: BUNDLE, ...HANDLER_ENV })).stdout) as { requireMs: number; createHandlerMs: number };
    requireMs.push(inner.requireMs);
    createHandlerMs.push(inner.createHandlerMs);
  }
  const figures = [
    figure("bundle size, minified", "KiB", [minified / 1024]),
    figure("bundle size, gzip -9", "KiB", [gzip / 1024]),
    figure("cold process: node -e require(bundle)", "ms", loaded, { value: median(bare), label: "bare node -e 0" }),
    figure("cold process: bare node -e 0", "ms", bare),
    figure("in-process: require(bundle)", "ms", requireMs),
    figure("in-process: createHandler() after require", "ms", createHandlerMs),
  ];
  const notes = [
    `The bundle adds ${(median(loaded) - median(bare)).toFixed(0)} ms to a bare Node start (medians of ${bare.length} alternating runs each); ` +
      `require alone measures ${median(requireMs).toFixed(0)} ms inside the process, createHandler ${median(createHandlerMs).toFixed(1)} ms more.`,
  ];
  return { id: "lambda-bundle", title: "rotator Lambda bundle", figures, notes, details: { minifiedBytes: minified, gzipBytes: gzip } };
}

function node(args: string[], env: Record<string, string> = {}): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolvePromise, reject) => {
    const start = nowMs();
    execFile(process.execPath, args, { env: { PATH: process.env.PATH ?? "", ...env }, timeout: CHILD_TIMEOUT_MS }, (error, stdout, stderr) => {
      const ms = nowMs() - start;
      if (error) return reject(new Error(`lambda-bundle: node ${args.join(" ").slice(0, 80)} failed: ${stderr || error.message}`));
      resolvePromise({ ms, stdout });
    });
  });
}

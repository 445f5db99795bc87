// Invokes the bundled rotator Lambda (BENCH_LAMBDA_BUNDLE, i.e. dist/lambda/rotator/index.js) once with a scheduled
// event, in this fresh process, as the Lambda runtime would, with a context whose remaining time counts down from
// BENCH_LAMBDA_TIMEOUT_MS. Powertools' logs and EMF go to stdout as in Lambda; the last line is
// "RESULT <json>": wall time, resident set size (baseline after init, sampled peak, the kernel's maxRSS), the V8 heap's
// sampled peak, and outcomes. The parent starts it with the V8 heap limits Lambda's Node bootstrap derives from the
// function's memory size (new space = memory / 10, semi space = half of that, old space = the rest).
const { performance } = require("node:perf_hooks");

const timeoutMs = Number(process.env.BENCH_LAMBDA_TIMEOUT_MS || 300000);
const initStart = performance.now();
const { createHandler } = require(process.env.BENCH_LAMBDA_BUNDLE);
const handler = createHandler({});
const initMs = performance.now() - initStart;

const baselineRss = process.memoryUsage.rss();
let peakRss = baselineRss;
let peakHeapUsed = process.memoryUsage().heapUsed;
const sampler = setInterval(() => {
  const usage = process.memoryUsage();
  peakRss = Math.max(peakRss, usage.rss);
  peakHeapUsed = Math.max(peakHeapUsed, usage.heapUsed);
}, 20);

const deadline = Date.now() + timeoutMs;
const start = performance.now();
handler({}, { getRemainingTimeInMillis: () => deadline - Date.now() }).then(
  (result) => {
    const wallMs = performance.now() - start;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    const outcomes = {};
    for (const outcome of Object.values(result.outcomes || {})) outcomes[outcome] = (outcomes[outcome] || 0) + 1;
    const summary = { wallMs, initMs, baselineRss, peakRss, peakHeapUsed, maxRssBytes: process.resourceUsage().maxRSS * 1024, scanned: result.scanned, due: result.due, outcomes };
    process.stdout.write(`\nRESULT ${JSON.stringify(summary)}\n`);
  },
  (error) => {
    clearInterval(sampler);
    process.stdout.write(`\nERROR ${error && error.message}\n`);
    process.exitCode = 1;
  },
);

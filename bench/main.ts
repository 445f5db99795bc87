/**
 * The benchmark runner (`npm run bench`, scripts/bench.sh): starts moto and the reference gateway on loopback, runs
 * the scenarios in order, prints one table and writes the same figures to bench/results/.
 */
import { execFileSync } from "node:child_process";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { resolve } from "node:path";
import { BenchEnvironment } from "./environment";
import { BenchOptions, parseOptions, ScenarioId, USAGE, UsageError } from "./options";
import { BenchReport, renderTable, ScenarioResult, writeReport } from "./report";
import { Scenario, ScenarioContext } from "./scenario";
import { dueRun } from "./scenarios/due-run";
import { idleScan } from "./scenarios/idle-scan";
import { lambdaBundle } from "./scenarios/lambda-bundle";
import { pulumiStack } from "./scenarios/pulumi";
import { rotation } from "./scenarios/rotation";

const ROOT = resolve(__dirname, "..");
const RESULTS_DIR = resolve(__dirname, "results");

const SCENARIOS: Record<ScenarioId, Scenario> = {
  [ScenarioId.IdleScan]: idleScan,
  [ScenarioId.Rotation]: rotation,
  [ScenarioId.DueRun]: dueRun,
  [ScenarioId.Pulumi]: pulumiStack,
  [ScenarioId.LambdaBundle]: lambdaBundle,
};

async function main(argv: readonly string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  const startedAt = new Date().toISOString();
  const started = Date.now();
  const progress = (message: string) => process.stderr.write(`[bench +${Math.round((Date.now() - started) / 1000)}s] ${message}\n`);
  const machineAtStart = machine();
  progress(`profile ${options.profile}, gateway latency ${options.latencyMs} ms, maxConcurrency ${options.maxConcurrency}; scenarios ${options.scenarios.join(", ")}`);

  const env = await BenchEnvironment.start({ latencyMs: options.latencyMs, maxConcurrency: options.maxConcurrency });
  const earlier = new Map<ScenarioId, ScenarioResult>();
  const ctx: ScenarioContext = { env, options, progress, earlier };
  const stop = (code: number) => void env.stop().finally(() => process.exit(code));
  process.once("SIGINT", () => stop(130));
  process.once("SIGTERM", () => stop(143));
  const watchdog = setTimeout(() => {
    progress(`watchdog: the run took more than ${options.watchdogMinutes} minutes; stopping moto and the gateway`);
    stop(1);
  }, options.watchdogMinutes * 60_000);
  watchdog.unref();
  try {
    for (const id of options.scenarios) {
      const t0 = Date.now();
      earlier.set(id, await SCENARIOS[id](ctx));
      progress(`${id}: done in ${Math.round((Date.now() - t0) / 1000)} s`);
    }
  } finally {
    clearTimeout(watchdog);
    await env.stop();
  }

  const report: BenchReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: ["npm run bench", ...(argv.length ? ["--", ...argv] : [])].join(" "),
    profile: options.profile,
    settings: { ...options, gatewayLatencyMs: options.latencyMs, durationS: Math.round((Date.now() - started) / 1000) },
    machine: { ...machineAtStart, loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100) },
    scenarios: [...earlier.values()],
  };
  const path = writeReport(RESULTS_DIR, report);
  process.stdout.write(`\n${renderTable(report)}\n\nResults: ${path} (also latest.json, latest.md)\n`);
  return 0;
}

/** The machine the figures came from; the load average says how shared it was. */
function machine(): Record<string, unknown> {
  const version = (command: string, args: string[]) => {
    try {
      return execFileSync(command, args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return "unknown";
    }
  };
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGiB: Math.round((freemem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    pulumi: version("pulumi", ["version"]),
    moto: version(resolve(ROOT, ".toolchain/moto-venv/bin/python"), ["-c", "import moto; print(moto.__version__)"]),
    platform: `${process.platform} ${process.arch}`,
  };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { LEDGER_TABLE, RotationHarness } from "./rotation-harness";

export interface RotatorRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The handler's return value, when it returned. */
  readonly result: { outcomes?: Record<string, string> } & Record<string, unknown>;
}

/**
 * Invokes the bundled Lambda in a fresh Node process against the harness's moto and gateway (or any moto, gateway and
 * shared clock, e.g. a token front before a real OpenClaw).
 */
export function runBundledRotator(h: Pick<RotationHarness, "moto" | "gateway" | "clock">, options: { event?: object; crashAt?: string; env?: Record<string, string> } = {}): Promise<RotatorRun> {
  const env = {
    ...process.env,
    ...h.moto.env,
    OPENCLAW_ENVIRONMENT: "dev",
    OPENCLAW_GATEWAY_URL: h.gateway.url,
    OPENCLAW_BACKEND: "documented-api",
    OPENCLAW_ADMIN_SECRET_ID: "openclaw-admin/dev/gateway",
    OPENCLAW_LEDGER_TABLE: LEDGER_TABLE,
    OPENCLAW_QUIET_PERIOD: "10m",
    // Revocation on the evidence alone unless a test asks for the suspension first (options.env).
    OPENCLAW_SUSPENSION_WINDOW: "0",
    POWERTOOLS_SERVICE_NAME: "openclaw-rotator",
    POWERTOOLS_METRICS_NAMESPACE: "OpenClawTokens",
    CLOCK_OFFSET_MS: String(h.clock.offsetMs),
    ...(options.crashAt ? { CRASH_AT: options.crashAt } : {}),
    ...options.env,
  };
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [resolve(__dirname, "rotator-process.js"), JSON.stringify(options.event ?? {})], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
      resolvePromise({ code, signal, stdout, stderr, result: line ? JSON.parse(line.slice(7)) : {} });
    });
  });
}

import type { ChildProcess } from "node:child_process";
import { execFile } from "node:child_process";
import { createInterface } from "node:readline";
import { GATEWAY_BUNDLE, type CliResult } from "./reference-gateway";
import { spawnWatched, stopProcess } from "./processes";

const LISTEN_TIMEOUT_MS = 10_000;

/** One front of a fleet: the shipped bundle, `serve --registry-table`, as its own process. */
export interface FleetFront {
  readonly url: string;
  readonly pid: number;
  /** What it printed on stderr so far (flush warnings, errors). */
  stderr(): string;
  /** SIGTERM by PID; the front flushes its request log before it exits. */
  stop(): Promise<void>;
}

/** Starts `serve` with `args` and `env` (the AWS_* of the recorder or moto) and resolves once it listens. */
export function startFleetFront(args: readonly string[], env: Record<string, string>): Promise<FleetFront> {
  const child: ChildProcess & { stdout: NodeJS.ReadableStream; stderr: NodeJS.ReadableStream } = spawnWatched(
    process.execPath,
    [GATEWAY_BUNDLE, "serve", "--port", "0", ...args],
    { env: { ...process.env, ...env } },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-16_000);
  });
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      void stopProcess(child);
      reject(new Error(`front ${why}; args: ${args.join(" ")}\nstderr:\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`did not listen within ${LISTEN_TIMEOUT_MS} ms`), LISTEN_TIMEOUT_MS);
    child.once("exit", (code) => fail(`exited before listening (code ${code})`));
    createInterface({ input: child.stdout }).once("line", (line) => {
      clearTimeout(timer);
      child.removeAllListeners("exit");
      const event = JSON.parse(line) as { event: string; url: string; pid: number };
      resolve({ url: event.url, pid: event.pid, stderr: () => stderr, stop: () => stopProcess(child) });
    });
  });
}

/** Runs the bundle to completion (a CLI command, or a `serve` expected to fail) with `env`. */
export function runGatewayWithEnv(args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [GATEWAY_BUNDLE, ...args], { timeout: 30_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

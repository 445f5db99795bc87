import { execFile, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import type { Environment } from "../src/domain/environments";
import type { FaultKind } from "../reference-gateway/faults";
import type { TokenMetadata } from "../reference-gateway/token-registry";
import { spawnWatched, stopProcess } from "./processes";

/** The bundle jest's globalSetup builds (scripts/build.mjs): tests run what ships. */
export const GATEWAY_BUNDLE = resolve(__dirname, "../dist/reference-gateway.js");

const LISTEN_TIMEOUT_MS = 10_000;

export interface ReferenceGatewayOptions {
  /** The environment the gateway serves and mints tokens for. @default "dev" */
  readonly environment?: Environment;
  /** Start with `--test-control` (the `/_test/*` routes). @default true */
  readonly testControl?: boolean;
  /** `--latency-ms`: latency added to every request. @default 0 */
  readonly latencyMs?: number;
  /** More `serve` options, e.g. `["--upstream", url]` to run it as the token front of an OpenClaw gateway. */
  readonly serveArgs?: readonly string[];
}

/** The body of `POST /_test/faults` (docs/gateway-api.md). */
export interface FaultSettings {
  readonly rate: number;
  readonly kinds: readonly FaultKind[];
  /** @default 1 */
  readonly retryAfterSeconds?: number;
  /** Path prefixes to fault; every path when absent. */
  readonly paths?: readonly string[];
  /** How long a "timeout" fault holds a request. @default 30000 */
  readonly holdMs?: number;
}

export interface ReferenceGateway {
  /** Base URL, e.g. http://127.0.0.1:41234. Stays the same across restart(). */
  readonly url: string;
  /** PID of the current server process (changes on restart()). */
  readonly pid: number;
  readonly stateDir: string;
  readonly environment: Environment;
  /** An `admin:*` token bootstrapped with the CLI before the server started. */
  readonly adminToken: string;
  readonly adminTokenId: string;
  /** Stops the server (SIGTERM, SIGKILL after 5 s) and deletes the state dir. */
  stop(): Promise<void>;
  /**
   * Stops and starts the server on the same port and state dir. The clock offset is re-applied (time never
   * runs backwards across a restart); faults and latency go back to the start options.
   */
  restart(): Promise<void>;
  /** `POST /_test/clock`: the gateway's now = real time + ms. */
  setClockOffset(ms: number): Promise<void>;
  setFaults(spec: FaultSettings): Promise<void>;
  /** How many faults the gateway has injected since they were last set. */
  faultsInjected(): Promise<number>;
  setLatency(ms: number): Promise<void>;
  /** `GET /v1/admin/tokens[?name=]` with the admin token: every token's metadata, any status. */
  listTokens(name?: string): Promise<TokenMetadata[]>;
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the gateway's admin CLI (`node dist/reference-gateway.js ...`) to completion. */
export function runGatewayCli(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [GATEWAY_BUNDLE, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/**
 * Starts the reference gateway as a real child process on a free loopback port, with a fresh state dir and
 * an admin token created through the CLI, the way an operator bootstraps a self-hosted gateway.
 */
export async function startReferenceGateway(options: ReferenceGatewayOptions = {}): Promise<ReferenceGateway> {
  const environment = options.environment ?? "dev";
  const stateDir = await mkdtemp(join(tmpdir(), "reference-gateway-"));
  try {
    const admin = await bootstrapAdminToken(stateDir, environment);
    const serveArgs = ["serve", "--environment", environment, "--state-dir", stateDir];
    if (options.testControl ?? true) serveArgs.push("--test-control");
    if (options.latencyMs) serveArgs.push("--latency-ms", String(options.latencyMs));
    serveArgs.push(...(options.serveArgs ?? []));

    let server = await spawnServer([...serveArgs, "--port", "0"]);
    const port = new URL(server.url).port;
    let clockOffsetMs = 0;

    const control = async (path: string, body: unknown): Promise<void> => {
      const res = await fetch(`${server.url}${path}`, { method: "POST", body: JSON.stringify(body) });
      if (res.status !== 200) throw new Error(`POST ${path} answered ${res.status}: ${await res.text()} (started with testControl: false?)`);
    };

    return {
      get url() {
        return server.url;
      },
      get pid() {
        return server.pid;
      },
      stateDir,
      environment,
      adminToken: admin.token,
      adminTokenId: admin.id,
      async stop() {
        await stopProcess(server.child);
        await rm(stateDir, { recursive: true, force: true });
      },
      async restart() {
        await stopProcess(server.child);
        server = await spawnServer([...serveArgs, "--port", port]);
        if (clockOffsetMs !== 0) await control("/_test/clock", { offsetMs: clockOffsetMs });
      },
      async setClockOffset(ms) {
        await control("/_test/clock", { offsetMs: ms });
        clockOffsetMs = ms;
      },
      setFaults: (spec) => control("/_test/faults", spec),
      async faultsInjected() {
        const res = await fetch(`${server.url}/_test/faults`);
        if (res.status !== 200) throw new Error(`GET /_test/faults answered ${res.status}: ${await res.text()}`);
        return ((await res.json()) as { injected: number }).injected;
      },
      setLatency: (ms) => control("/_test/latency", { ms }),
      async listTokens(name) {
        const query = name === undefined ? "" : `?name=${encodeURIComponent(name)}`;
        const res = await fetch(`${server.url}/v1/admin/tokens${query}`, { headers: { authorization: `Bearer ${admin.token}` } });
        if (res.status !== 200) throw new Error(`GET /v1/admin/tokens answered ${res.status}: ${await res.text()}`);
        return ((await res.json()) as { tokens: TokenMetadata[] }).tokens;
      },
    };
  } catch (error) {
    await rm(stateDir, { recursive: true, force: true });
    throw error;
  }
}

async function bootstrapAdminToken(stateDir: string, environment: Environment): Promise<{ id: string; token: string }> {
  const args = ["auth", "create-token", "--state-dir", stateDir, "--environment", environment, "--name", "test-admin", "--scope", "admin:*", "--json"];
  const result = await runGatewayCli(args);
  if (result.code !== 0) {
    throw new Error(`bootstrapping the admin token failed (exit ${result.code}); is dist/ built?\n${result.stderr}`);
  }
  return JSON.parse(result.stdout) as { id: string; token: string };
}

interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly pid: number;
}

/** Spawns `serve` and resolves once it prints its listening line. */
function spawnServer(args: readonly string[]): Promise<ServerProcess> {
  const child = spawnWatched(process.execPath, [GATEWAY_BUNDLE, ...args]);
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-8_000);
  });
  return new Promise((resolvePromise, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      void stopProcess(child);
      reject(new Error(`reference gateway ${why}; args: ${args.join(" ")}\nstderr:\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`did not print its listening line within ${LISTEN_TIMEOUT_MS} ms`), LISTEN_TIMEOUT_MS);
    child.once("exit", (code, signal) => fail(`exited before listening (code ${code}, signal ${signal})`));
    child.once("error", (error) => fail(`could not be spawned: ${error.message}`));
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (line) => {
      clearTimeout(timer);
      child.removeAllListeners("exit");
      try {
        const event = JSON.parse(line) as { event: string; url: string; pid: number };
        if (event.event !== "listening") throw new Error(`unexpected first line: ${line}`);
        resolvePromise({ child, url: event.url, pid: event.pid });
      } catch (error) {
        fail(`printed an unexpected first line (${String(error)})`);
      }
    });
  });
}

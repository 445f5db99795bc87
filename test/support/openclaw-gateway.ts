import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, spawnWatched } from "./processes";

/** Where scripts/setup-openclaw.sh installs the real gateway (npm `openclaw`, not a project dependency). */
export const OPENCLAW_PACKAGE_DIR = resolve(__dirname, "../../.toolchain/openclaw/node_modules/openclaw");
const OPENCLAW_ENTRY = join(OPENCLAW_PACKAGE_DIR, "openclaw.mjs");

/** /healthz answered after 8-13 s on an idle 2-core machine, after up to 45 s on a busy one. */
const START_TIMEOUT_MS = 90_000;
const RELOAD_TIMEOUT_MS = 15_000;
/** SIGTERM drains for about 6-7 s on an idle gateway; then SIGKILL. */
const STOP_GRACE_MS = 10_000;

export interface OpenClawGatewayOptions {
  /**
   * gateway.nodes.pairing.autoApproveLocal. The gateway's default (true) pairs loopback devices silently; false
   * makes every new device wait for device.pair.approve, as on a remote gateway.
   * @default false
   */
  readonly autoApproveLocal?: boolean;
  /** plugins.entries["admin-http-rpc"].enabled: the HTTP RPC route the openclaw-devices backend manages devices through. @default true */
  readonly adminHttpRpc?: boolean;
  /**
   * Start in trusted-proxy mode behind a token front connecting from `proxyAddress` (a loopback address such as
   * 127.0.0.2, so that plain 127.0.0.1 callers are not trusted), identity in `userHeader`, with the OpenAI HTTP
   * surface on. `sharedToken` is then the gateway's local password (gateway.auth.password) for internal clients.
   */
  readonly trustedProxy?: { readonly proxyAddress: string; readonly userHeader?: string };
}

export interface OpenClawGateway {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** ws://127.0.0.1:<port> (the same listener) */
  readonly wsUrl: string;
  readonly pid: number;
  /** gateway.auth.token: the shared secret, random per start. */
  readonly sharedToken: string;
  /** The throw-away HOME: config in .openclaw/openclaw.json, state in .openclaw/state/, log in gateway.log. */
  readonly home: string;
  /**
   * Edits openclaw.json and waits until the running gateway has applied it (config.get's appliedConfigHash equals
   * its configRevisionHash) without restarting. For hot-reloadable keys only, e.g. gateway.nodes.pairing.*.
   */
  reconfigure(change: (config: OpenClawConfig) => void): Promise<void>;
  /** SIGTERM, SIGKILL after 10 s, then removes `home`. Safe to call twice. */
  stop(): Promise<void>;
}

/** openclaw.json as this helper writes it (a small part of the gateway's schema). */
export interface OpenClawConfig {
  gateway: {
    mode: "local";
    bind: "loopback";
    auth:
      | { mode: "token"; token: string }
      | { mode: "trusted-proxy"; password: string; trustedProxy: { userHeader: string; allowLoopback: boolean } };
    trustedProxies?: string[];
    http?: { endpoints: { chatCompletions: { enabled: boolean } } };
    nodes: { pairing: { autoApproveLocal: boolean } };
  };
  update: { checkOnStart: boolean };
  plugins: { entries: Record<string, { enabled: boolean }> };
  logging: { file: string };
}

/**
 * Starts the real OpenClaw gateway from .toolchain/openclaw with this Node (24) on a free loopback port, in a
 * throw-away HOME, with no network needs: no Bonjour, no channels, no update checks, no respawn. Resolves once
 * /healthz and /startupz answer 200; if it does not start, the error carries the tail of its output and log.
 */
export async function startOpenClawGateway(options: OpenClawGatewayOptions = {}): Promise<OpenClawGateway> {
  if (!existsSync(OPENCLAW_ENTRY)) {
    throw new Error(`the OpenClaw gateway is not installed at ${OPENCLAW_PACKAGE_DIR}: run scripts/setup-openclaw.sh`);
  }
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (!((major === 24 && minor >= 16) || (major === 26 && minor >= 1) || major > 26)) {
    throw new Error(`openclaw needs Node >=24.16 <25 or >=26.1, but the tests run on ${process.version}: source scripts/env.sh`);
  }

  const home = await mkdtemp(join(tmpdir(), "openclaw-gateway-"));
  const port = await freePort();
  const sharedToken = randomBytes(24).toString("base64url");
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(home, "gateway.log");
  const configFile = join(home, ".openclaw", "openclaw.json");
  let child: ChildProcess | undefined;
  let output = "";

  const stop = async (): Promise<void> => {
    if (child) await stopGroup(child);
    child = undefined;
    await rm(home, { recursive: true, force: true });
  };

  try {
    await mkdir(join(home, ".openclaw"), { recursive: true });
    await mkdir(join(home, "tmp"), { recursive: true });
    const config: OpenClawConfig = {
      gateway: {
        mode: "local",
        // Without it this version picked 0.0.0.0 ("bind=auto") on this machine.
        bind: "loopback",
        auth: { mode: "token", token: sharedToken },
        nodes: { pairing: { autoApproveLocal: options.autoApproveLocal ?? false } },
        ...(options.trustedProxy && {
          auth: {
            mode: "trusted-proxy",
            password: sharedToken,
            trustedProxy: { userHeader: options.trustedProxy.userHeader ?? "x-forwarded-user", allowLoopback: true },
          },
          trustedProxies: [options.trustedProxy.proxyAddress],
          http: { endpoints: { chatCompletions: { enabled: true } } },
        }),
      },
      update: { checkOnStart: false },
      plugins: { entries: { "admin-http-rpc": { enabled: options.adminHttpRpc ?? true } } },
      logging: { file: logFile },
    };
    await writeFile(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });

    // Watched, so that a killed test run cannot leave a gateway behind; in its own process group, so that
    // stop() can take the gateway's workers down with it.
    child = spawnWatched(process.execPath, [OPENCLAW_ENTRY, "gateway", "run", "--port", String(port)], {
      cwd: home,
      env: gatewayEnv(home),
      detached: true,
    });
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString("utf8")).slice(-16_000);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);

    await waitUntilStarted(url, child);
    const pid = child.pid as number;
    const running = child;
    const reconfigure = async (change: (config: OpenClawConfig) => void): Promise<void> => {
      const before = await appliedConfig(url, sharedToken);
      const config = JSON.parse(await readFile(configFile, "utf8")) as OpenClawConfig;
      change(config);
      await writeFile(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
      const deadline = Date.now() + RELOAD_TIMEOUT_MS;
      for (;;) {
        if (running.exitCode !== null || running.signalCode !== null) throw new Error("the gateway exited on reconfigure");
        const now = await appliedConfig(url, sharedToken).catch(() => undefined);
        if (now && now.revision !== before.revision && now.applied === now.revision) return;
        if (Date.now() > deadline) throw new Error(`the gateway did not apply the edited config within ${RELOAD_TIMEOUT_MS / 1000} s`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    return { url, wsUrl: `ws://127.0.0.1:${port}`, pid, sharedToken, home, reconfigure, stop };
  } catch (error) {
    const logTail = await readFile(logFile, "utf8").then(tail, () => "(no log file)");
    const exit = child ? `exit code ${child.exitCode}, signal ${child.signalCode}` : "not spawned";
    await stop().catch(() => undefined);
    throw new Error(
      `the OpenClaw gateway did not start on ${url} (${exit}): ${error instanceof Error ? error.message : String(error)}\n` +
        `--- output (tail) ---\n${tail(output)}\n--- ${logFile} (tail) ---\n${logTail}`,
    );
  }
}

/** The environment of the gateway: the caller's, minus any OPENCLAW_* settings, plus a private HOME and TMPDIR. */
function gatewayEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("OPENCLAW_")) env[key] = value;
  }
  return {
    ...env,
    HOME: home,
    TMPDIR: join(home, "tmp"),
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_STATE_HOME: join(home, ".local", "state"),
    OPENCLAW_DISABLE_BONJOUR: "1",
    OPENCLAW_NO_RESPAWN: "1",
    OPENCLAW_SKIP_CHANNELS: "1",
    OPENCLAW_NO_AUTO_UPDATE: "1",
    NO_COLOR: "1",
  };
}

async function waitUntilStarted(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  // /healthz: the HTTP server is live. /startupz: the startup sidecars are done (before that, connect answers
  // UNAVAILABLE "startup-sidecars").
  for (const probe of ["/healthz", "/startupz"]) {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error("the process exited");
      if (Date.now() > deadline) throw new Error(`${probe} did not answer 200 within ${START_TIMEOUT_MS / 1000} s`);
      const status = await fetch(url + probe, { signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.arrayBuffer().then(() => r.status),
        () => 0,
      );
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** The saved and the applied config revision, from config.get over the admin HTTP RPC route. */
async function appliedConfig(url: string, sharedToken: string): Promise<{ revision: string; applied: string }> {
  const res = await fetch(`${url}/api/v1/admin/rpc`, {
    method: "POST",
    headers: { Authorization: `Bearer ${sharedToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({ method: "config.get", params: {} }),
    signal: AbortSignal.timeout(5_000),
  });
  const body = (await res.json()) as { payload?: { configRevisionHash?: string; appliedConfigHash?: string } };
  const revision = body.payload?.configRevisionHash;
  const applied = body.payload?.appliedConfigHash;
  if (res.status !== 200 || !revision || !applied) {
    throw new Error(`config.get answered ${res.status} without revision hashes (is admin-http-rpc enabled?)`);
  }
  return { revision, applied };
}

/**
 * SIGTERM to the gateway's PID (it stops its own workers), SIGKILL to its process group if it has not exited after
 * the grace period, and SIGKILL to whatever is left in the group once it has.
 */
async function stopGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is gone.
    }
  };
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    process.kill(pid, "SIGTERM");
    const killer = setTimeout(() => signalGroup("SIGKILL"), STOP_GRACE_MS);
    await exited;
    clearTimeout(killer);
  }
  // Workers left in the group after the main process exited.
  signalGroup("SIGKILL");
}

function tail(text: string): string {
  return text.split("\n").slice(-40).join("\n");
}

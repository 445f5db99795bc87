import { ChildProcess, ChildProcessWithoutNullStreams, SpawnOptionsWithoutStdio, spawn } from "node:child_process";
import { createServer } from "node:net";

/** A free TCP port on 127.0.0.1, for servers that cannot pick their own. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

// The watchdog: runs the server with its stdin cut off, and reads its own stdin, a pipe from the process that
// started it. That pipe closes when the starter dies in any way (SIGKILL, an OOM kill, a CI timeout), and the
// watchdog then stops the server; SIGTERM to the watchdog (stopProcess) stops it too. `read` is a builtin, so
// the watchdog is one bash and a subshell, with nothing else left behind.
const WATCHDOG = `
"$@" </dev/null &
server=$!
trap 'kill -TERM "$server" 2>/dev/null' TERM INT HUP
( while IFS= read -r _; do :; done; kill -TERM "$server" 2>/dev/null ) <&3 3<&- &
watcher=$!
exec 3<&-
# wait returns early when a trapped signal arrives: wait again until the server itself has ended.
wait "$server"; status=$?
while kill -0 "$server" 2>/dev/null; do wait "$server"; status=$?; done
kill "$watcher" 2>/dev/null
exit "$status"
`;

/**
 * Spawns a long-running server (moto, a gateway) so that it cannot outlive this process: under the watchdog
 * above, with a pipe on its stdin (kept as fd 3, since bash gives background jobs /dev/null as stdin). The returned
 * child is the watchdog, whose stdout and stderr are the server's; stop it with stopProcess.
 */
export function spawnWatched(
  command: string,
  args: readonly string[],
  options: SpawnOptionsWithoutStdio = {},
): ChildProcessWithoutNullStreams {
  return spawn("bash", ["-c", `exec 3<&0; ${WATCHDOG}`, "watchdog", command, ...args], { ...options, stdio: "pipe" });
}

/** Stops a child by PID: SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  process.kill(child.pid, "SIGTERM");
  const timer = setTimeout(() => child.pid && child.exitCode === null && process.kill(child.pid, "SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Spawns a server and polls `ready` until it answers, failing with the server's output if it never does. */
export async function spawnServer(
  command: string,
  args: string[],
  ready: () => Promise<boolean>,
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; what: string },
): Promise<ChildProcess> {
  const child = spawnWatched(command, args, { env: options.env ?? process.env });
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (await ready().catch(() => false)) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopProcess(child);
  throw new Error(`${options.what} did not start (exit ${child.exitCode}); its output:\n${output.slice(-4000)}`);
}

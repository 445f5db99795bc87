import { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { freePort, spawnServer, stopProcess } from "./processes";

const MOTO_SERVER = resolve(__dirname, "../.toolchain/moto-venv/bin/moto_server");

/** A real moto server on loopback: Secrets Manager and the other AWS APIs, answering as AWS does. */
export interface MotoServer {
  readonly endpoint: string;
  readonly pid: number;
  /** The environment an AWS SDK client needs to use this server (fake credentials, region, endpoint). */
  readonly env: Record<string, string>;
  /** Forgets every resource, for a clean slate between tests. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<MotoServer> {
  if (!existsSync(MOTO_SERVER)) {
    throw new Error(`moto is not installed at ${MOTO_SERVER}: run \`npm run setup\` first`);
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = await spawnServer(
    MOTO_SERVER,
    ["-H", "127.0.0.1", "-p", String(port)],
    async () => (await fetch(`${endpoint}/moto-api/`)).ok,
    { what: "moto server" },
  );
  return {
    endpoint,
    pid: child.pid as number,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
    },
    reset: async () => {
      await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
    },
    stop: () => stopProcess(child),
  };
}

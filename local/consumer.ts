import { Sensitive } from "../src/domain/sensitive";

/**
 * One call a consumer makes with its token, naming itself (the X-OpenClaw-Consumer header, an identity and never a
 * credential) so that the gateway can tell which consumers still use a retiring token; resolves to the HTTP status.
 */
export type ConsumerRequest = (gatewayUrl: string, token: Sensitive, consumer: string) => Promise<number>;

/** POST /v1/jobs (run:jobs), what a CI runner or an application backend does. */
export const submitJob: ConsumerRequest = (gatewayUrl, token, consumer) =>
  call(`${gatewayUrl}/v1/jobs`, token, consumer, "POST", { agentId: "agt_echo", input: { text: "ping" } });

/** GET /v1/agents (read:agents), what a dashboard does. */
export const listAgents: ConsumerRequest = (gatewayUrl, token, consumer) => call(`${gatewayUrl}/v1/agents`, token, consumer, "GET");

async function call(url: string, token: Sensitive, consumer: string, method: string, body?: unknown): Promise<number> {
  const res = await fetch(url, {
    method,
    headers: {
      Authorization: `Bearer ${token.reveal()}`,
      "User-Agent": "consumer-service/1.0",
      "X-OpenClaw-Consumer": consumer,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

/**
 * A service that uses a gateway token the way real ones do: it reads AWSCURRENT through a short cache and keeps
 * calling the gateway, counting every answer by status. Zero 401s across rotations is the product's promise.
 */
export class Consumer {
  readonly tally: Record<number, number> = {};
  private cached: { token: Sensitive; at: number } | undefined;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly readCurrent: () => Promise<Sensitive>,
    private readonly gatewayUrl: () => string,
    private readonly cacheMs = 200,
    private readonly request: ConsumerRequest = submitJob,
    /** What the consumer calls itself on the gateway (X-OpenClaw-Consumer), e.g. "ci-runner-worker". */
    readonly identity = "consumer-service",
  ) {}

  /** Answers other than 2xx: what a rotation must never cause. */
  get failed(): number {
    return Object.entries(this.tally)
      .filter(([status]) => Number(status) >= 300)
      .reduce((sum, [, n]) => sum + n, 0);
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.callOnce();
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  get total(): number {
    return Object.values(this.tally).reduce((a, b) => a + b, 0);
  }

  private async callOnce(): Promise<void> {
    if (!this.cached || Date.now() - this.cached.at > this.cacheMs) {
      this.cached = { token: await this.readCurrent(), at: Date.now() };
    }
    const status = await this.request(this.gatewayUrl(), this.cached.token, this.identity).catch(() => 0);
    this.tally[status] = (this.tally[status] ?? 0) + 1;
  }
}

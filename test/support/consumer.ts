import { Sensitive } from "../../src/domain/sensitive";

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
  ) {}

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
    const res = await fetch(`${this.gatewayUrl()}/v1/jobs`, {
      method: "POST",
      headers: { Authorization: `Bearer ${this.cached.token.reveal()}`, "Content-Type": "application/json", "User-Agent": "consumer-service/1.0" },
      body: JSON.stringify({ agentId: "agt_echo", input: { text: "ping" } }),
    });
    await res.arrayBuffer();
    this.tally[res.status] = (this.tally[res.status] ?? 0) + 1;
  }
}

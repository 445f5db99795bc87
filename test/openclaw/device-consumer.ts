import { Sensitive } from "../../src/domain/sensitive";
import { OpenClawConnection, webSocketUrlOf } from "../../src/gateway/openclaw/connection";
import { parseCredential } from "../../src/gateway/openclaw/credential";
import { HandshakeRefusedError } from "../../src/gateway/openclaw/errors";

/** How one consumer call ended. */
export const CallResult = { Ok: "ok", Refused: "refused", Error: "error" } as const;
export type CallResult = (typeof CallResult)[keyof typeof CallResult];

/**
 * A service that uses an openclaw-devices credential the way a real one does: it reads AWSCURRENT through a short
 * cache and, for every call, opens a WebSocket session as the paired device (no shared token: a consumer has only its
 * credential), makes one harmless RPC and closes. A refused handshake is a refusal; zero of them across a rotation is
 * the product's promise. Like test/support/consumer.ts, for the real gateway.
 */
export class DeviceConsumer {
  readonly tally: Record<CallResult, number> = { ok: 0, refused: 0, error: 0 };
  /** Device IDs of successful calls, in order of first use. */
  readonly devicesUsed: string[] = [];
  readonly errors: string[] = [];
  private cached: { token: Sensitive; at: number } | undefined;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly readCurrent: () => Promise<Sensitive>,
    private readonly gatewayUrl: string,
    private readonly options: { cacheMs?: number; method?: string } = {},
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.callOnce();
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Resolves once `count` more calls have succeeded (or rejects after `timeoutMs`). */
  async waitForSuccesses(count: number, timeoutMs = 10_000): Promise<void> {
    const target = this.tally.ok + count;
    const deadline = Date.now() + timeoutMs;
    while (this.tally.ok < target) {
      if (Date.now() > deadline) throw new Error(`consumer: ${count} successful calls not seen within ${timeoutMs} ms (${JSON.stringify(this.tally)}, ${this.errors.slice(-3).join(" | ")})`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** One call with a given credential, outside the loop. */
  async callWith(token: Sensitive): Promise<CallResult> {
    const credential = parseCredential(token);
    let connection: OpenClawConnection | undefined;
    try {
      connection = await OpenClawConnection.open({
        wsUrl: webSocketUrlOf(this.gatewayUrl),
        context: { method: "WS", endpoint: "/ connect", gatewayUrl: this.gatewayUrl, tokenId: credential.deviceId },
        identity: credential.identity,
        token: credential.deviceToken,
        isDeviceToken: true,
        role: credential.role,
        scopes: credential.scopes,
        client: { ...credential.client, displayName: credential.name, version: "1.0.0" },
        userAgent: "consumer-service/1.0",
      });
      await connection.request(this.options.method ?? "health");
      if (!this.devicesUsed.includes(credential.deviceId)) this.devicesUsed.push(credential.deviceId);
      return CallResult.Ok;
    } catch (error) {
      this.errors.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      return error instanceof HandshakeRefusedError ? CallResult.Refused : CallResult.Error;
    } finally {
      await connection?.close();
    }
  }

  private async callOnce(): Promise<void> {
    if (!this.cached || Date.now() - this.cached.at > (this.options.cacheMs ?? 200)) {
      this.cached = { token: await this.readCurrent(), at: Date.now() };
    }
    const result = await this.callWith(this.cached.token);
    this.tally[result]++;
  }
}

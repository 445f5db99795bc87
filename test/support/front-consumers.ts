/**
 * Consumers of a token front before a real OpenClaw, as services run them: each reads its token through the package's
 * client (AWSCURRENT with a short cache, re-read on 401), names itself with X-OpenClaw-Consumer, and keeps calling
 * until stopped, counting every answer. What they count is what a rotation must never disturb.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { CurrentToken, GatewayTokenClient } from "../../src/client";

/** One HTTP call a consumer repeats, e.g. GET /v1/models or POST /tools/invoke. */
export interface ConsumerCall {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly body?: unknown;
  /** Whether a 200's JSON body is the upstream's answer (and not, say, an error page with a 200). */
  readonly isAnswer?: (body: unknown) => boolean;
}

/** What a consumer saw: answers by status (or error kind), and the token IDs it was answered 2xx with. */
export interface ConsumerTally {
  readonly identity: string;
  readonly calls: number;
  /** Every problem, in order: a non-2xx answer, an error, a dropped connection (never a token value). */
  readonly failures: readonly string[];
  /** The token IDs of its successful calls, in the order first used. */
  readonly tokenIds: readonly string[];
}

/** Shared by both kinds: the loop, its stop, and the tally. */
abstract class LoopingConsumer {
  protected calls = 0;
  protected readonly failures: string[] = [];
  protected readonly tokenIds: string[] = [];
  #running = false;
  #loop: Promise<void> | undefined;

  constructor(
    readonly identity: string,
    protected readonly client: GatewayTokenClient,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        try {
          await this.callOnce();
        } catch (error) {
          this.failures.push(`${this.identity}: ${error instanceof Error ? error.message : String(error)}`);
        }
        await sleep(this.intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await this.shutDown();
  }

  /** Whether it has been answered with this token since it started. */
  used(tokenId: string): boolean {
    return this.tokenIds.includes(tokenId);
  }

  get tally(): ConsumerTally {
    return { identity: this.identity, calls: this.calls, failures: [...this.failures], tokenIds: [...this.tokenIds] };
  }

  protected answered(tokenId: string): void {
    if (!this.tokenIds.includes(tokenId)) this.tokenIds.push(tokenId);
  }

  protected abstract callOnce(): Promise<void>;
  protected async shutDown(): Promise<void> {}
}

/** A service calling an HTTP endpoint through the client: every call must be answered 200. */
export class HttpConsumer extends LoopingConsumer {
  constructor(identity: string, client: GatewayTokenClient, private readonly call: ConsumerCall, intervalMs = 50) {
    super(identity, client, intervalMs);
  }

  protected async callOnce(): Promise<void> {
    // Read first: a cache expiring during the call must not credit a token the call did not use.
    const held = await this.client.current();
    const res = await this.client.fetch(this.call.path, {
      method: this.call.method,
      ...(this.call.body !== undefined && { headers: { "Content-Type": "application/json" }, body: JSON.stringify(this.call.body) }),
    });
    const text = await res.text();
    this.calls++;
    if (res.status !== 200) {
      this.failures.push(`${this.identity}: ${this.call.method} ${this.call.path} answered ${res.status}`);
      return;
    }
    if (this.call.isAnswer && !this.call.isAnswer(JSON.parse(text))) {
      this.failures.push(`${this.identity}: ${this.call.method} ${this.call.path} answered 200 without the expected body`);
      return;
    }
    this.answered(held.tokenId);
  }
}

/** A frame of OpenClaw's operator protocol, as much of it as the consumer reads. */
interface WireFrame {
  readonly type: string;
  readonly id?: string;
  readonly event?: string;
  readonly ok?: boolean;
  readonly payload?: { readonly type?: string };
  readonly error?: { readonly message?: string };
}

const FRAME_TIMEOUT_MS = 15_000;

/** One operator WebSocket through the front: challenge, connect, then request/response by id. */
class OperatorConnection {
  readonly #ws: WebSocket;
  readonly #frames: WireFrame[] = [];
  readonly #waiters = new Set<() => void>();
  #nextId = 0;
  /** Set once the socket closed; `byClient` when this side closed it. */
  closed: { readonly code: number; readonly byClient: boolean } | undefined;
  #closing = false;

  private constructor(url: string, token: CurrentToken, consumer: string) {
    // Node's WebSocket (undici) takes request headers as a non-standard option: the bearer token and the identity.
    const init = { headers: { authorization: `Bearer ${token.token.reveal()}`, "x-openclaw-consumer": consumer } };
    this.#ws = new WebSocket(url, init as unknown as string[]);
    this.#ws.onmessage = (m) => {
      this.#frames.push(JSON.parse(String(m.data)) as WireFrame);
      this.#wake();
    };
    this.#ws.onclose = (e) => {
      this.closed = { code: e.code, byClient: this.#closing };
      this.#wake();
    };
  }

  /** Opens a connection with the token and completes the operator handshake. */
  static async open(url: string, token: CurrentToken, consumer: string): Promise<OperatorConnection> {
    const connection = new OperatorConnection(url, token, consumer);
    try {
      await connection.#next((f) => f.event === "connect.challenge");
      const hello = await connection.request("connect", {
        minProtocol: 4,
        maxProtocol: 4,
        client: { id: "cli", mode: "cli", platform: "linux", version: "1.0.0" },
        role: "operator",
        scopes: ["operator.read"],
      });
      if (!hello.ok || hello.payload?.type !== "hello-ok") throw new Error(`connect refused: ${hello.error?.message ?? "no hello-ok"}`);
      return connection;
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  request(method: string, params: unknown): Promise<WireFrame> {
    const id = `${method}-${++this.#nextId}`;
    this.#ws.send(JSON.stringify({ type: "req", id, method, params }));
    return this.#next((f) => f.type === "res" && f.id === id);
  }

  close(): void {
    this.#closing = true;
    this.#ws.close();
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  async #next(match: (f: WireFrame) => boolean): Promise<WireFrame> {
    const deadline = Date.now() + FRAME_TIMEOUT_MS;
    for (;;) {
      const index = this.#frames.findIndex(match);
      if (index >= 0) return this.#frames.splice(index, 1)[0];
      if (this.closed) throw new Error(`connection closed (code ${this.closed.code}) while waiting for an answer`);
      if (Date.now() > deadline) throw new Error(`no answer within ${FRAME_TIMEOUT_MS} ms`);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, 200);
        this.#waiters.add(done);
      });
    }
  }
}

/**
 * An operator app on the WebSocket protocol: it keeps one connection open and sends `health` over it. Whenever the
 * secret's AWSCURRENT holds another token (read through the client's cache), it opens a connection with the new one
 * before closing the old one; a connection closed under it is reopened with the current token, and counted.
 */
export class OperatorConsumer extends LoopingConsumer {
  #connection: { readonly socket: OperatorConnection; readonly tokenId: string } | undefined;
  /** Connections opened, by token ID in order: the reconnects a rotation caused. */
  readonly connections: string[] = [];

  constructor(identity: string, client: GatewayTokenClient, intervalMs = 200) {
    super(identity, client, intervalMs);
  }

  protected async callOnce(): Promise<void> {
    const current = await this.client.current();
    const open = this.#connection;
    if (open?.socket.closed) {
      // Not closed by this consumer: the front or OpenClaw dropped it, which a rotation must never cause.
      this.failures.push(`${this.identity}: connection on ${open.tokenId} closed by the server (code ${open.socket.closed.code})`);
      this.#connection = undefined;
    }
    if (!this.#connection || this.#connection.tokenId !== current.tokenId) {
      const socket = await OperatorConnection.open(current.gatewayUrl.replace(/^http/, "ws"), current, this.identity);
      this.#connection?.socket.close();
      this.#connection = { socket, tokenId: current.tokenId };
      this.connections.push(current.tokenId);
    }
    const { socket, tokenId } = this.#connection;
    const health = await socket.request("health", {});
    this.calls++;
    if (!health.ok) {
      this.failures.push(`${this.identity}: health refused: ${health.error?.message ?? "no message"}`);
      return;
    }
    this.answered(tokenId);
  }

  protected override async shutDown(): Promise<void> {
    this.#connection?.socket.close();
    this.#connection = undefined;
  }
}

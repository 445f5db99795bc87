import { setTimeout as sleep } from "node:timers/promises";
import { Sensitive } from "../../src/domain/sensitive";
import { ownUserAgent } from "../../src/gateway/backend";
import { DocumentedApiGateway } from "../../src/gateway/documented-api";
import { startOpenClawGateway, type OpenClawGateway } from "../support/openclaw-gateway";
import { startReferenceGateway, type ReferenceGateway } from "../support/reference-gateway";
import { call, createToken } from "./http";

/**
 * The token front in front of the real OpenClaw gateway (npm `openclaw`) in trusted-proxy mode, on loopback:
 * OpenClaw trusts only 127.0.0.2, the address the front connects from (--upstream-source-address), so a local
 * process calling it from 127.0.0.1 with identity headers is not a trusted proxy. Consumers on this host are
 * attributed to 100.64.0.1 (--local-consumer-address): OpenClaw refuses proxied traffic from a loopback client.
 */
const PROXY_ADDRESS = "127.0.0.2";
const LOCAL_CONSUMER_ADDRESS = "100.64.0.1";

interface WireFrame {
  type: string;
  id?: string;
  event?: string;
  ok?: boolean;
  payload?: { type?: string; auth?: { method?: string; scopes?: string[] } };
  error?: { message?: string };
}

/** A WebSocket through the front: the operator protocol's challenge, a connect, then RPCs by id. */
class OperatorSocket {
  readonly #ws: WebSocket;
  readonly #frames: WireFrame[] = [];
  readonly #waiters: Array<() => void> = [];
  closed: Promise<number>;

  constructor(url: string, token: string) {
    this.#ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } } as unknown as string[]);
    this.#ws.onmessage = (m) => {
      this.#frames.push(JSON.parse(String(m.data)) as WireFrame);
      for (const wake of this.#waiters.splice(0)) wake();
    };
    this.closed = new Promise((resolve) => {
      this.#ws.onclose = (e) => {
        resolve(e.code);
        for (const wake of this.#waiters.splice(0)) wake();
      };
    });
  }

  async next(match: (f: WireFrame) => boolean, timeoutMs = 15_000): Promise<WireFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.#frames.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.#frames.map((f) => f.event ?? f.id))}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  request(id: string, method: string, params: unknown): Promise<WireFrame> {
    this.#ws.send(JSON.stringify({ type: "req", id, method, params }));
    return this.next((f) => f.type === "res" && f.id === id);
  }

  async connect(): Promise<WireFrame> {
    await this.next((f) => f.event === "connect.challenge");
    return this.request("connect-1", "connect", {
      minProtocol: 4,
      maxProtocol: 4,
      client: { id: "cli", mode: "cli", platform: "linux", version: "1.0.0" },
      role: "operator",
      scopes: ["operator.read", "operator.admin"],
    });
  }

  close(): void {
    this.#ws.close();
  }
}

describe("token front in front of the real OpenClaw gateway (trusted-proxy mode)", () => {
  let openclaw: OpenClawGateway;
  let front: ReferenceGateway;
  let reader: { id: string; token: string };
  let runner: { id: string; token: string };

  beforeAll(async () => {
    openclaw = await startOpenClawGateway({ trustedProxy: { proxyAddress: PROXY_ADDRESS } });
    front = await startReferenceGateway({
      serveArgs: ["--upstream", openclaw.url, "--upstream-source-address", PROXY_ADDRESS, "--local-consumer-address", LOCAL_CONSUMER_ADDRESS],
    });
    reader = await createToken(front.url, front.adminToken, { name: "dashboard", scopes: ["read:agents"] });
    runner = await createToken(front.url, front.adminToken, { name: "ci-runner", scopes: ["run:jobs"] });
  }, 150_000);

  afterAll(async () => {
    await front?.stop();
    await openclaw?.stop();
  }, 30_000);

  it("serves a read:agents consumer OpenClaw's /v1/models and logs the call under its token", async () => {
    const res = await call(front.url, "GET", "/v1/models", { token: reader.token, userAgent: "dashboard/2.0" });

    expect(res.status).toBe(200);
    expect(res.body.data.map((m: { id: string }) => m.id)).toContain("openclaw/default");
    const log = await call(front.url, "GET", `/v1/admin/tokens/${reader.id}/requests`, { token: front.adminToken });
    expect(log.body.requests.at(-1)).toMatchObject({ method: "GET", path: "/v1/models", status: 200, userAgent: "dashboard/2.0" });
  });

  it("holds the guide's quick start through the front: GET /v1/agents lists OpenClaw's agents, 401 without a token, 403 without the scope", async () => {
    const listed = await call(front.url, "GET", "/v1/agents", { token: reader.token });
    const one = await call(front.url, "GET", "/v1/agents/main", { token: reader.token });
    const anonymous = await call(front.url, "GET", "/v1/agents");
    const wrongScope = await call(front.url, "GET", "/v1/agents", { token: runner.token });
    const whoami = await call(front.url, "GET", "/v1/auth/whoami", { token: reader.token });

    expect(listed.status).toBe(200);
    expect(listed.body.agents).toContainEqual({ id: "main", name: expect.any(String) });
    expect(one.body).toMatchObject({ id: "main", config: expect.any(Object) });
    expect(JSON.stringify(one.body)).not.toContain(openclaw.home); // the workspace's host path stays out
    expect(anonymous.status).toBe(401);
    expect(wrongScope.status).toBe(403);
    expect(wrongScope.body.error.message).toBe("insufficient scope: requires read:agents");
    expect(whoami.body).toMatchObject({ id: reader.id, scopes: ["read:agents"], expiresAt: null, operatorScopes: ["operator.read"] });
  });

  it("lets a run:jobs consumer invoke a harmless tool through /tools/invoke", async () => {
    const res = await call(front.url, "POST", "/tools/invoke", { token: runner.token, body: { tool: "sessions_list", args: {} } });

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, result: { details: { sessions: [] } } });
  });

  it("refuses a token without the route's scope with 403 insufficient scope, before OpenClaw", async () => {
    const res = await call(front.url, "POST", "/tools/invoke", { token: reader.token, body: { tool: "sessions_list", args: {} } });

    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: "insufficient_scope", message: "insufficient scope: requires run:jobs" });
  });

  it("caps the operator scopes: OpenClaw refuses what run:jobs (operator.write) excludes, even with spoofed identity headers", async () => {
    // x-openclaw-model needs operator.admin from an identity-bearing caller (docs/gateway/openai-http-api.md).
    const res = await fetch(`${front.url}/v1/chat/completions`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${runner.token}`,
        "content-type": "application/json",
        "x-openclaw-model": "openai/gpt-5.4",
        // A consumer trying to raise itself: the front drops all of these.
        "x-openclaw-scopes": "operator.admin",
        "x-forwarded-user": "owner",
        "x-forwarded-for": "10.0.0.1",
      },
      body: JSON.stringify({ model: "openclaw/default", messages: [{ role: "user", content: "hi" }] }),
    });
    const body = (await res.json()) as { error: { message: string } };

    expect(res.status).toBe(403);
    expect(body.error.message).toBe("missing scope: operator.admin");
  });

  it("authorises admin RPC by method: read:agents may call health, not config.get", async () => {
    const health = await call(front.url, "POST", "/api/v1/admin/rpc", { token: reader.token, body: { method: "health", params: {} } });
    const config = await call(front.url, "POST", "/api/v1/admin/rpc", { token: reader.token, body: { method: "config.get", params: {} } });

    expect(health.status).toBe(200);
    expect(health.body.ok).toBe(true);
    expect(config.status).toBe(403);
    expect(config.body.error.required_scope).toBe("admin:*");
  });

  it("is the only way in: OpenClaw refuses direct calls without the front, spoofed identity headers included", async () => {
    const body = JSON.stringify({ tool: "sessions_list", args: {} });
    const headers = { "content-type": "application/json" };
    const bare = await fetch(`${openclaw.url}/tools/invoke`, { method: "POST", headers, body });
    const spoofed = await fetch(`${openclaw.url}/tools/invoke`, {
      method: "POST",
      headers: { ...headers, "x-forwarded-user": "ci-runner", "x-forwarded-for": LOCAL_CONSUMER_ADDRESS, "x-openclaw-scopes": "operator.admin" },
      body,
    });
    const withFrontToken = await fetch(`${openclaw.url}/tools/invoke`, {
      method: "POST",
      headers: { ...headers, authorization: `Bearer ${runner.token}` },
      body,
    });
    // Internal clients keep the gateway's local password.
    const internal = await fetch(`${openclaw.url}/tools/invoke`, {
      method: "POST",
      headers: { ...headers, authorization: `Bearer ${openclaw.sharedToken}` },
      body,
    });

    expect(bare.status).toBe(401);
    expect([401, 403]).toContain(spoofed.status);
    expect(withFrontToken.status).toBe(401);
    expect(internal.status).toBe(200);
  });

  it("opens an operator WebSocket for a valid token, authenticated by OpenClaw as trusted-proxy with the capped scopes", async () => {
    const socket = new OperatorSocket(front.url.replace("http:", "ws:"), reader.token);
    try {
      const hello = await socket.connect();
      expect(hello.ok).toBe(true);
      expect(hello.payload?.type).toBe("hello-ok");
      expect(hello.payload?.auth?.method).toBe("trusted-proxy");
      // The client asked for operator.admin; the cap (operator.read) leaves it out.
      expect(hello.payload?.auth?.scopes ?? []).not.toContain("operator.admin");
      const health = await socket.request("h-1", "health", {});
      expect(health.ok).toBe(true);
      const config = await socket.request("c-1", "config.get", {});
      expect(config.ok).toBe(false);
      expect(config.error?.message).toMatch(/^missing scope: operator\./);
    } finally {
      socket.close();
    }
  });

  it("refuses a WebSocket upgrade without a valid token and never reaches OpenClaw", async () => {
    const socket = new OperatorSocket(front.url.replace("http:", "ws:"), "openclaw_gw_dev_not-a-token");
    expect(await socket.closed).toBe(1006);
  });

  it("cuts an open WebSocket once its token is revoked, and refuses the token from then on", async () => {
    const doomed = await createToken(front.url, front.adminToken, { name: "doomed", scopes: ["read:agents"] });
    const socket = new OperatorSocket(front.url.replace("http:", "ws:"), doomed.token);
    expect((await socket.connect()).ok).toBe(true);

    const revoked = await call(front.url, "POST", `/v1/admin/tokens/${doomed.id}/revoke`, { token: front.adminToken });
    expect(revoked.status).toBe(200);

    const code = await Promise.race([socket.closed, new Promise<string>((r) => setTimeout(() => r("still open"), 5_000))]);
    expect(code).not.toBe("still open");
    const after = await call(front.url, "GET", "/v1/models", { token: doomed.token });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe("invalid_token");
  });

  it("rotates a consumer's token dual-active through the front with the rotator's own backend client: zero failures, old token refused", async () => {
    // The documented-api backend the rotator uses, pointed at the front (issue 11: "with the rotator unchanged").
    const backend = new DocumentedApiGateway({ url: front.url, environment: "dev", adminToken: new Sensitive(front.adminToken), userAgent: ownUserAgent("rotator") });
    const expiresAt = new Date(Date.now() + 86_400_000);
    const old = await backend.mint({ name: "orders-2026-q1", scopes: ["run:jobs"], expiresAt });
    let current = old.value.reveal();
    let calls = 0;
    const failures: number[] = [];
    let running = true;
    // A consumer that calls OpenClaw through the front with whatever token it currently holds.
    const consumer = (async () => {
      while (running) {
        const res = await fetch(`${front.url}/tools/invoke`, {
          method: "POST",
          headers: { authorization: `Bearer ${current}`, "content-type": "application/json", "x-openclaw-consumer": "orders-1" },
          body: JSON.stringify({ tool: "sessions_list", args: {} }),
        });
        await res.arrayBuffer();
        calls++;
        if (res.status !== 200) failures.push(res.status);
        await sleep(25);
      }
    })();

    await sleep(400);
    const next = await backend.mint({ name: "orders-2026-q2", scopes: ["run:jobs"], expiresAt });
    expect((await backend.whoami(next.value)).id).toBe(next.metadata.id); // verified before promotion
    const promotedAt = new Date();
    current = next.value.reveal(); // the consumer re-reads AWSCURRENT
    await sleep(400);
    const movedAt = new Date();
    await sleep(300);
    const oldTrafficAfterMove = await backend.traffic(old.metadata.id, movedAt);
    await backend.revoke(old.metadata.id);
    await sleep(300);
    running = false;
    await consumer;

    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(10);
    expect(oldTrafficAfterMove).toEqual([]); // quiet on the old token: what the drain waits for
    expect((await backend.traffic(next.metadata.id, promotedAt)).length).toBeGreaterThan(0);
    const refused = await call(front.url, "POST", "/tools/invoke", { token: old.value.reveal(), body: { tool: "sessions_list", args: {} } });
    expect(refused.status).toBe(401);
    const consumers = await call(front.url, "GET", `/v1/admin/tokens/${next.metadata.id}/consumers`, { token: front.adminToken });
    expect(consumers.body.consumers).toEqual([expect.objectContaining({ consumer: "orders-1", source: "header", lastStatus: 200 })]);
  });
});

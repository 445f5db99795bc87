import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { Sensitive } from "../../src/domain/sensitive";
import {
  AmbiguousOutcomeError,
  GatewayUnavailableError,
  InsufficientScopeError,
  InvalidTokenError,
  TokenExpiredError,
} from "../../src/gateway/errors";
import { HttpClient } from "../../src/gateway/http";
import { freePort } from "../support/processes";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A loopback server that answers with a scripted sequence: the faults a healthy gateway will not produce on demand. */
async function scriptedServer(script: Handler[]): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    const handler = script[Math.min(hits, script.length - 1)];
    hits++;
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
};
const ok = json(200, { fine: true });
/** The error a call fails with; a call that succeeds fails the test. */
const failure = (call: Promise<unknown>): Promise<Error> =>
  call.then(() => Promise.reject(new Error("expected the call to fail")), (e: Error) => e);
const token = new Sensitive("openclaw_gw_dev_SECRETVALUE123");

describe("HttpClient", () => {
  const delays: number[] = [];
  const client = (url: string, timeoutMs = 2000) =>
    new HttpClient({ baseUrl: url, userAgent: "openclaw-token-ops/test", timeoutMs, sleep: async (ms) => void delays.push(ms) });
  beforeEach(() => (delays.length = 0));

  it("sends the exact Bearer scheme and its User-Agent", async () => {
    let seen: IncomingMessage | undefined;
    const server = await scriptedServer([(req, res) => { seen = req; ok(req, res); }]);
    try {
      await client(server.url).json({ method: "GET", path: "/v1/auth/whoami", token, idempotent: true });
      expect(seen?.headers.authorization).toBe("Bearer openclaw_gw_dev_SECRETVALUE123");
      expect(seen?.headers["user-agent"]).toBe("openclaw-token-ops/test");
    } finally {
      await server.close();
    }
  });

  it("retries 503 and 429, honouring Retry-After, then succeeds", async () => {
    const server = await scriptedServer([
      json(503, { error: { code: "unavailable", message: "busy" } }),
      json(429, { error: { code: "rate_limited", message: "slow down" } }, { "Retry-After": "3" }),
      ok,
    ]);
    try {
      await expect(client(server.url).json({ method: "GET", path: "/x", token, idempotent: true })).resolves.toEqual({ fine: true });
      expect(server.hits()).toBe(3);
      expect(delays[1]).toBeGreaterThanOrEqual(3000);
    } finally {
      await server.close();
    }
  });

  it("gives up after the last attempt with an error that says the gateway is unavailable", async () => {
    const server = await scriptedServer([json(502, {})]);
    try {
      const error = await failure(client(server.url).json({ method: "GET", path: "/x", token, idempotent: true }));
      expect(error).toBeInstanceOf(GatewayUnavailableError);
      expect(error.message).toMatch(/GET http:\/\/127.0.0.1:\d+\/x answered 502: .* after 4 attempts\. Fix: check that the gateway URL/);
      expect(server.hits()).toBe(4);
    } finally {
      await server.close();
    }
  });

  it.each([
    [json(401, { error: { code: "invalid_token", message: "invalid token" } }), InvalidTokenError],
    [json(401, { error: { code: "token_expired", message: "token expired" } }), TokenExpiredError],
    [json(403, { error: { code: "insufficient_scope", message: "insufficient scope", required_scope: "run:jobs" } }), InsufficientScopeError],
  ])("never retries an authentication or authorisation failure (%#)", async (handler, type) => {
    const server = await scriptedServer([handler, ok]);
    try {
      await expect(client(server.url).json({ method: "GET", path: "/x", token, idempotent: true })).rejects.toBeInstanceOf(type);
      expect(server.hits()).toBe(1);
    } finally {
      await server.close();
    }
  });

  it("names the missing scope and the fix on 403", async () => {
    const server = await scriptedServer([json(403, { error: { code: "insufficient_scope", message: "x", required_scope: "run:jobs" } })]);
    try {
      const error = await failure(client(server.url).json({ method: "POST", path: "/v1/jobs", token, idempotent: true }));
      expect(error.message).toMatch(/insufficient scope: requires run:jobs\. Fix: grant run:jobs to the token .* do not broaden it to admin:\*/);
    } finally {
      await server.close();
    }
  });

  it("does not repeat a mint the gateway may have acted on (500), and says the outcome is unknown", async () => {
    const server = await scriptedServer([json(500, { error: { code: "internal", message: "boom" } }), ok]);
    try {
      await expect(client(server.url).json({ method: "POST", path: "/v1/admin/tokens", token, idempotent: false })).rejects.toBeInstanceOf(
        AmbiguousOutcomeError,
      );
      expect(server.hits()).toBe(1);
    } finally {
      await server.close();
    }
  });

  it("does repeat a mint refused with 429, which the gateway did not act on", async () => {
    const server = await scriptedServer([json(429, {}, { "Retry-After": "1" }), ok]);
    try {
      await expect(client(server.url).json({ method: "POST", path: "/v1/admin/tokens", token, idempotent: false })).resolves.toEqual({ fine: true });
    } finally {
      await server.close();
    }
  });

  it("times out a hanging call and retries it when idempotent", async () => {
    const server = await scriptedServer([() => undefined, ok]);
    try {
      await expect(client(server.url, 200).json({ method: "GET", path: "/x", token, idempotent: true })).resolves.toEqual({ fine: true });
      expect(server.hits()).toBe(2);
    } finally {
      await server.close();
    }
  });

  it("retries connection refused even for a mint, since nothing was sent", async () => {
    const port = await freePort();
    const error = await failure(client(`http://127.0.0.1:${port}`).json({ method: "POST", path: "/v1/admin/tokens", token, idempotent: false }));
    expect(error).toBeInstanceOf(GatewayUnavailableError);
    expect(error.message).toMatch(/no answer after 4 attempts \(ECONNREFUSED\)/);
  });

  it("never puts a token value into an error message, even one the server echoed", async () => {
    const server = await scriptedServer([json(400, { error: { code: "invalid_request", message: "bad token openclaw_gw_dev_SECRETVALUE123" } })]);
    try {
      const error = await failure(client(server.url).json({ method: "GET", path: "/x", token, idempotent: true }));
      expect(error.message).toContain("openclaw_gw_dev_[REDACTED]");
      expect(error.message).not.toContain("SECRETVALUE123");
    } finally {
      await server.close();
    }
  });
});

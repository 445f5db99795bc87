import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { upstreamRequestHeaders } from "../../reference-gateway/upstream/forward-headers";
import { startReferenceGateway, type ReferenceGateway } from "../support/reference-gateway";
import { call, createToken } from "./http";

/**
 * The token front's forwarding, against a recording upstream on loopback (fast, no OpenClaw): which headers reach
 * the upstream, streaming without buffering, and the front's own answers when the upstream fails.
 * front-openclaw.test.ts runs the same front against the real OpenClaw gateway.
 */

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Size of the /v1/big response: far more than socket buffers hold. */
const BIG_BYTES = 64 * 1024 * 1024;

/** An upstream that records each request and answers by path. */
class RecordingUpstream {
  readonly requests: Recorded[] = [];
  /** Resolved by the test to let the streaming response finish. */
  releaseStream: () => void = () => undefined;
  /** Resolves when the last streaming response's connection closed, finished or not. */
  streamClosed: Promise<void> = Promise.resolve();
  /** Bytes of /v1/big the upstream has managed to write so far (it waits for 'drain' like any good server). */
  bigWritten = 0;
  #server: Server;
  url = "";

  constructor() {
    this.#server = createServer(async (req, res) => {
      let body = "";
      for await (const chunk of req) body += chunk;
      this.requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      this.#answer(req.url ?? "", res);
    });
  }

  #answer(url: string, res: ServerResponse): void {
    if (url === "/v1/chat/completions") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      this.streamClosed = new Promise((resolve) => res.once("close", () => resolve()));
      res.write('data: {"n":1}\n\n');
      new Promise<void>((resolve) => (this.releaseStream = resolve)).then(() => res.end("data: [DONE]\n\n"));
      return;
    }
    if (url === "/slow") return; // never answers
    if (url === "/v1/big") {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      const chunk = Buffer.alloc(64 * 1024, 120);
      this.bigWritten = 0;
      const pump = (): void => {
        while (this.bigWritten < BIG_BYTES) {
          this.bigWritten += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end();
      };
      pump();
      return;
    }
    if (url === "/api/v1/admin/rpc" && this.requests.at(-1)?.body.includes('"agents.list"')) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, payload: { agents: [{ id: "main", workspace: "/home/x/ws", model: { primary: "m" } }] } }));
      return;
    }
    res.writeHead(200, { "content-type": "application/json", connection: "keep-alive", "x-upstream": "yes" });
    res.end(JSON.stringify({ ok: true }));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.releaseStream();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Sends raw bytes and resolves to the first line of the answer (for request targets fetch would not send). */
function rawRequest(baseUrl: string, raw: string): Promise<string> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () => socket.write(raw));
    let data = "";
    socket.setEncoding("utf8").on("data", (chunk) => (data += chunk));
    socket.on("end", () => resolve(data.split("\r\n")[0]));
    socket.on("error", reject);
    socket.setTimeout(5_000, () => socket.destroy(new Error(`no answer; got ${JSON.stringify(data)}`)));
  });
}

describe("token front forwarding (recording upstream)", () => {
  const upstream = new RecordingUpstream();
  let front: ReferenceGateway;
  let runner: { id: string; token: string };
  let reader: { id: string; token: string };

  beforeAll(async () => {
    await upstream.start();
    front = await startReferenceGateway({
      serveArgs: ["--upstream", upstream.url, "--upstream-user-header", "X-Auth-User", "--upstream-timeout-ms", "1000"],
    });
    runner = await createToken(front.url, front.adminToken, { name: "orders-service", scopes: ["run:jobs", "read:jobs"] });
    reader = await createToken(front.url, front.adminToken, { name: "dashboard", scopes: ["read:agents"] });
  });

  afterAll(async () => {
    await front?.stop();
    await upstream.stop();
  });

  beforeEach(() => {
    upstream.requests.length = 0;
  });

  it("replaces every client identity and forwarding header with the front's own, and never forwards the bearer token", async () => {
    // Act
    const res = await fetch(`${front.url}/tools/invoke?x=1`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${runner.token}`,
        "content-type": "application/json",
        "x-auth-user": "admin",
        "x-forwarded-user": "admin",
        "x-openclaw-scopes": "operator.admin",
        "x-forwarded-for": "10.9.9.9",
        "x-forwarded-host": "evil.example",
        "x-forwarded-proto": "https",
        forwarded: "for=10.9.9.9",
        "x-real-ip": "10.9.9.9",
        "x-keep-me": "kept",
      },
      body: JSON.stringify({ tool: "sessions_list", args: {} }),
    });

    // Assess
    expect(res.status).toBe(200);
    expect(res.headers.get("x-upstream")).toBe("yes");
    expect(await res.json()).toEqual({ ok: true });
    expect(upstream.requests).toHaveLength(1);
    const [seen] = upstream.requests;
    expect(seen.url).toBe("/tools/invoke?x=1");
    expect(seen.body).toBe(JSON.stringify({ tool: "sessions_list", args: {} }));
    expect(seen.headers["x-auth-user"]).toBe("orders-service");
    expect(seen.headers["x-openclaw-scopes"]).toBe("operator.read,operator.write");
    expect(seen.headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(seen.headers["x-forwarded-proto"]).toBe("http");
    expect(seen.headers["x-forwarded-host"]).toBe(new URL(front.url).host);
    expect(seen.headers["x-keep-me"]).toBe("kept");
    for (const gone of ["authorization", "x-forwarded-user", "forwarded", "x-real-ip"]) {
      expect(seen.headers[gone]).toBeUndefined();
    }
    expect(JSON.stringify(seen.headers)).not.toContain(runner.token);
  });

  it("refuses before forwarding: no token 401, a token without the route's scope 403, an unmapped path without admin:* 403", async () => {
    const anonymous = await call(front.url, "GET", "/v1/models");
    const wrongScope = await call(front.url, "POST", "/tools/invoke", { token: reader.token, body: {} });
    const unmapped = await call(front.url, "GET", "/control-ui/index.html", { token: runner.token });
    const adminOnlyRpc = await call(front.url, "POST", "/api/v1/admin/rpc", { token: reader.token, body: { method: "config.get" } });

    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe("invalid_token");
    expect(wrongScope.status).toBe(403);
    expect(wrongScope.body.error).toMatchObject({ code: "insufficient_scope", required_scope: "run:jobs" });
    expect(unmapped.status).toBe(403);
    expect(unmapped.body.error.required_scope).toBe("admin:*");
    expect(adminOnlyRpc.status).toBe(403);
    expect(adminOnlyRpc.body.error.required_scope).toBe("admin:*");
    expect(upstream.requests).toHaveLength(0);
  });

  it("authorises an admin RPC by its method and forwards the body it read, unchanged", async () => {
    const body = { id: "r1", method: "health", params: {} };
    const res = await call(front.url, "POST", "/api/v1/admin/rpc", { token: reader.token, body });

    expect(res.status).toBe(200);
    expect(upstream.requests).toHaveLength(1);
    expect(JSON.parse(upstream.requests[0].body)).toEqual(body);
    expect(upstream.requests[0].headers["x-openclaw-scopes"]).toBe("operator.read");
    expect(upstream.requests[0].headers["content-length"]).toBe(String(Buffer.byteLength(JSON.stringify(body))));
  });

  it("streams server-sent events as they come: the first event arrives before the upstream ends the response", async () => {
    const res = await fetch(`${front.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${runner.token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "openclaw/default", stream: true, messages: [] }),
    });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();

    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('data: {"n":1}\n\n');
    upstream.releaseStream();
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
    expect(rest).toBe("data: [DONE]\n\n");
  });

  it("closes the upstream stream when the client goes away mid-stream", async () => {
    const abort = new AbortController();
    const res = await fetch(`${front.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${runner.token}`, "content-type": "application/json" },
      body: JSON.stringify({ stream: true }),
      signal: abort.signal,
    });
    await (res.body as ReadableStream<Uint8Array>).getReader().read();

    abort.abort();
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      upstream.streamClosed.then(() => "closed"),
      new Promise((r) => (timer = setTimeout(() => r("still open"), 3_000))),
    ]);
    clearTimeout(timer);

    expect(closed).toBe("closed");
  });

  it("applies backpressure: a client that stops reading stalls the upstream instead of filling the front's memory", async () => {
    const res = await fetch(`${front.url}/v1/big`, { headers: { authorization: `Bearer ${front.adminToken}` } });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();

    // The client reads nothing for a while: the upstream can only fill the socket buffers on the way. Well under the
    // front's --upstream-timeout-ms of 1 s here, which a stalled upstream socket counts towards (a loaded machine would
    // otherwise see the timeout cut the stream).
    await new Promise((r) => setTimeout(r, 400));
    const writtenWhileStalled = upstream.bigWritten;
    let received = 0;
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) received += chunk.value.length;

    expect(writtenWhileStalled).toBeLessThan(BIG_BYTES / 4);
    expect(received).toBeGreaterThan(BIG_BYTES - 1024 * 1024);
  });

  it("answers 504 upstream_timeout when the upstream goes silent, and records it in the token's request log", async () => {
    const res = await call(front.url, "GET", "/slow", { token: front.adminToken });

    expect(res.status).toBe(504);
    expect(res.body.error.code).toBe("upstream_timeout");
    const log = await call(front.url, "GET", `/v1/admin/tokens/${front.adminTokenId}/requests?limit=5`, { token: front.adminToken });
    expect(log.body.requests.at(-1)).toMatchObject({ method: "GET", path: "/slow", status: 504 });
  });

  it("logs forwarded requests per token with the upstream's status, as the rotator reads them", async () => {
    await call(front.url, "GET", "/v1/models", { token: reader.token, userAgent: "dashboard/1.0" });

    const log = await call(front.url, "GET", `/v1/admin/tokens/${reader.id}/requests`, { token: front.adminToken });
    expect(log.body.requests.at(-1)).toMatchObject({ method: "GET", path: "/v1/models", status: 200, userAgent: "dashboard/1.0" });
    const meta = await call(front.url, "GET", `/v1/admin/tokens/${reader.id}`, { token: front.adminToken });
    expect(meta.body.lastUsedAt).not.toBeNull();
  });

  it("keeps the token API local and answers the guide's GET /v1/agents from OpenClaw's agents.list", async () => {
    const whoami = await call(front.url, "GET", "/v1/auth/whoami", { token: reader.token });
    const agents = await call(front.url, "GET", "/v1/agents", { token: reader.token });
    const one = await call(front.url, "GET", "/v1/agents/main", { token: reader.token });
    const denied = await call(front.url, "GET", "/v1/agents", { token: runner.token });

    expect(whoami.status).toBe(200);
    expect(whoami.body).toMatchObject({ id: reader.id, name: "dashboard", scopes: ["read:agents"], operatorScopes: ["operator.read"] });
    expect(agents.body).toEqual({ agents: [{ id: "main", name: "main" }] });
    expect(one.body).toEqual({ id: "main", name: "main", config: { model: { primary: "m" } } }); // no host path
    expect(denied.status).toBe(403);
    expect(upstream.requests.map((r) => [r.url, JSON.parse(r.body).method, r.headers["x-openclaw-scopes"], r.headers["x-auth-user"]])).toEqual([
      ["/api/v1/admin/rpc", "agents.list", "operator.read", "dashboard"],
      ["/api/v1/admin/rpc", "agents.list", "operator.read", "dashboard"],
    ]);
  });

  it("answers a request target that is not a path with 400 and forwards nothing", async () => {
    const absolute = await rawRequest(front.url, `GET http://evil.example/v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${reader.token}\r\nConnection: close\r\n\r\n`);
    const doubleSlash = await rawRequest(front.url, `GET //evil.example/v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${reader.token}\r\nConnection: close\r\n\r\n`);

    expect(absolute).toBe("HTTP/1.1 400 Bad Request");
    expect(doubleSlash).toBe("HTTP/1.1 400 Bad Request");
    expect(upstream.requests).toHaveLength(0);
  });
});

describe("upstreamRequestHeaders", () => {
  it("drops the headers a client names in Connection, and the configured user header whatever its case", () => {
    const out = upstreamRequestHeaders(
      { connection: "keep-alive, X-Custom-Hop", "x-custom-hop": "dropped", "x-auth-user": "admin", accept: "text/event-stream" },
      { user: "orders-service", operatorScopes: [], clientAddress: "192.0.2.7", proto: "https", host: undefined },
      "x-auth-user",
    );

    expect(out).toEqual({
      accept: "text/event-stream",
      "x-auth-user": "orders-service",
      "x-openclaw-scopes": "",
      "x-forwarded-for": "192.0.2.7",
      "x-forwarded-proto": "https",
    });
  });
});

describe("token front with its upstream down", () => {
  let front: ReferenceGateway;

  beforeAll(async () => {
    // A port nothing listens on: take a free one and close it again.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    front = await startReferenceGateway({ serveArgs: ["--upstream", `http://127.0.0.1:${port}`] });
  });

  afterAll(async () => {
    await front?.stop();
  });

  it("answers 502 bad_gateway and keeps serving its own API", async () => {
    const forwarded = await call(front.url, "GET", "/v1/models", { token: front.adminToken });
    const whoami = await call(front.url, "GET", "/v1/auth/whoami", { token: front.adminToken });

    expect(forwarded.status).toBe(502);
    expect(forwarded.body.error.code).toBe("bad_gateway");
    expect(whoami.status).toBe(200);
  });
});

import { connect } from "node:net";
import { startReferenceGateway, type ReferenceGateway } from "../support/reference-gateway";
import { call } from "./http";

interface RawAnswer {
  readonly statusLine: string;
  readonly body: string;
}

/** Writes raw bytes (in pieces, `gapMs` apart) and resolves to the answer once the server closes or ends it. */
function raw(baseUrl: string, pieces: readonly string[], gapMs = 0): Promise<RawAnswer> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", async () => {
      for (const piece of pieces) {
        if (socket.destroyed) break;
        socket.write(piece);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
    let data = "";
    socket.setEncoding("latin1").on("data", (chunk) => (data += chunk));
    socket.on("close", () => {
      const [head, ...rest] = data.split("\r\n\r\n");
      resolve({ statusLine: head.split("\r\n")[0], body: rest.join("\r\n\r\n") });
    });
    socket.on("error", (error) => (data === "" ? reject(error) : undefined));
    socket.setTimeout(20_000, () => socket.destroy());
  });
}

/** Every malformed request gets a 4xx in the contract's shape, never a crash or a silently dropped connection. */
describe("reference gateway: the HTTP edge under malformed and hostile requests", () => {
  let gateway: ReferenceGateway;

  beforeAll(async () => {
    gateway = await startReferenceGateway({ serveArgs: ["--headers-timeout-ms", "1000"] });
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  afterEach(async () => {
    // The gateway keeps serving after each abuse.
    const health = await call(gateway.url, "GET", "/healthz");
    expect(health.status).toBe(200);
  });

  it("answers a request line that is not HTTP with 400 invalid_request", async () => {
    const answer = await raw(gateway.url, ["HELLO THERE\r\n\r\n"]);

    expect(answer.statusLine).toBe("HTTP/1.1 400 Bad Request");
    expect(JSON.parse(answer.body).error.code).toBe("invalid_request");
  });

  it("answers a malformed header line with 400", async () => {
    const answer = await raw(gateway.url, ["GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n"]);

    expect(answer.statusLine).toBe("HTTP/1.1 400 Bad Request");
  });

  it("answers headers over 16 KiB with 431 headers_too_large", async () => {
    const answer = await raw(gateway.url, [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`]);

    expect(answer.statusLine).toBe("HTTP/1.1 431 Request Header Fields Too Large");
    expect(JSON.parse(answer.body).error.code).toBe("headers_too_large");
  });

  it("answers absolute-form and scheme-relative targets with 400", async () => {
    const absolute = await raw(gateway.url, ["GET http://other.example/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]);
    const relative = await raw(gateway.url, ["GET //other.example/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]);

    expect(absolute.statusLine).toBe("HTTP/1.1 400 Bad Request");
    expect(relative.statusLine).toBe("HTTP/1.1 400 Bad Request");
  });

  it("answers bad percent-encoding in a path parameter with 404, not a crash", async () => {
    const res = await call(gateway.url, "GET", "/v1/admin/tokens/%E0%A4%A", { token: gateway.adminToken });
    const lone = await call(gateway.url, "POST", "/v1/admin/tokens/%/revoke", { token: gateway.adminToken });

    expect(res.status).toBe(404);
    expect(lone.status).toBe(404);
  });

  it("answers pathological JSON within the size limit with 400 naming the body", async () => {
    const deep = "[".repeat(30_000) + "]".repeat(30_000);
    const shapes = [deep, '{"__proto__":{"admin":true},"name":"x","scopes":["read:agents"]}', '"just a string"', "1e999999", "{".repeat(60_000)];

    for (const body of shapes) {
      const res = await fetch(`${gateway.url}/v1/admin/tokens`, {
        method: "POST",
        headers: { authorization: `Bearer ${gateway.adminToken}`, "content-type": "application/json" },
        body,
      });
      const answer = (await res.json()) as { error: { code: string } };
      expect([res.status, answer.error.code]).toEqual([400, "invalid_request"]);
    }
  });

  it("answers a body over 64 KiB with 400 before reading it all", async () => {
    const res = await call(gateway.url, "POST", "/v1/admin/tokens", { token: gateway.adminToken, body: { name: "x".repeat(70_000) } });

    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/larger than 65536 bytes/);
  });

  it("answers a client that sends its headers too slowly with 408 request_timeout", async () => {
    const pieces = ["GET /healthz HTTP/1.1\r\n", "Host: x\r\n", "X-A: 1\r\n", "X-B: 2\r\n", "X-C: 3\r\n", "\r\n"];
    const answer = await raw(gateway.url, pieces, 600);

    expect(answer.statusLine).toBe("HTTP/1.1 408 Request Timeout");
    expect(JSON.parse(answer.body).error.code).toBe("request_timeout");
  });
});

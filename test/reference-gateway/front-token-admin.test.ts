import { createServer, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import type { Route } from "../../reference-gateway/router";
import { frontAgentRoutes } from "../../reference-gateway/upstream/agent-routes";
import { ADMIN_RPC_PATH, RPC_METHOD_SCOPES, UPSTREAM_ROUTES } from "../../reference-gateway/upstream/scope-map";
import { startReferenceGateway, type ReferenceGateway } from "../support/reference-gateway";
import { call, createToken } from "./http";
import { ADMIN_ROUTES, callAdminRoute, expectAdminRouteSucceeded, label } from "./token-admin-routes";

/**
 * `admin:tokens` in front mode (`serve --upstream`), against an upstream that records every request and upgrade:
 * the front's token-management routes and whoami answer, and nothing at all reaches the upstream (403
 * insufficient_scope), whatever the route, RPC method or WebSocket upgrade. Cases come from the scope map.
 */

/** An upstream that records what reaches it; it refuses WebSocket upgrades with 400 after recording them. */
class RecordingUpstream {
  readonly reached: string[] = [];
  url = "";
  readonly #server: Server = createServer((req, res) => {
    this.reached.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true,"payload":{"agents":[]}}');
  });

  async start(): Promise<void> {
    this.#server.on("upgrade", (req, socket) => {
      this.reached.push(`UPGRADE ${req.url}`);
      socket.end("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    });
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Sends a WebSocket upgrade request and resolves to the status and JSON body of the answer. */
function upgrade(baseUrl: string, token: string): Promise<{ status: number; body: any }> {
  const { port } = new URL(baseUrl);
  const raw = [
    "GET / HTTP/1.1",
    `Host: 127.0.0.1:${port}`,
    "Connection: Upgrade",
    "Upgrade: websocket",
    "Sec-WebSocket-Version: 13",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    `Authorization: Bearer ${token}`,
    "",
    "",
  ].join("\r\n");
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () => socket.write(raw));
    let data = "";
    socket.setEncoding("utf8").on("data", (chunk) => (data += chunk));
    socket.on("end", () => {
      const [head, body] = data.split("\r\n\r\n");
      resolve({ status: Number(head.split(" ")[1]), body: body ? JSON.parse(body) : undefined });
    });
    socket.on("error", reject);
    socket.setTimeout(5_000, () => socket.destroy(new Error(`no answer; got ${JSON.stringify(data)}`)));
  });
}

/** One request the front would forward (or answer from the upstream), and the scope it needs. */
interface ForwardCase {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly requires: string;
}

const UNLISTED_RPC_METHODS = ["config.get", "device.pair.approve", "devices.list"];
const UNLISTED_PATHS = ["/", "/plugins/any/route", "/hooks/agent"];

const FORWARD_CASES: readonly (readonly [string, ForwardCase])[] = [
  ...UPSTREAM_ROUTES.filter((r) => r.requires !== "rpc").map((r) => {
    const method = r.method === "*" ? "GET" : r.method;
    return [`${method} ${r.pattern}`, { method, path: r.pattern.replace(":id", "m1"), requires: r.requires }] as const;
  }),
  ...Object.entries(RPC_METHOD_SCOPES).map(
    ([rpc, scope]) => [`RPC ${rpc}`, { method: "POST", path: ADMIN_RPC_PATH, body: { method: rpc, params: {} }, requires: scope }] as const,
  ),
  ...UNLISTED_RPC_METHODS.map((rpc) => [`RPC ${rpc} (unlisted)`, { method: "POST", path: ADMIN_RPC_PATH, body: { method: rpc, params: {} }, requires: "admin:*" }] as const),
  ...UNLISTED_PATHS.map((path) => [`GET ${path} (unlisted)`, { method: "GET", path, requires: "admin:*" }] as const),
  // The guide's agent routes the front answers from the upstream's agents.list.
  ...frontAgentRoutes(async () => undefined).map((r: Route) => [`${label(r)} (translated)`, { method: r.method, path: r.pattern.replace(":id", "main"), requires: String(r.requires) }] as const),
];

describe("admin:tokens in front of an upstream", () => {
  const upstream = new RecordingUpstream();
  let front: ReferenceGateway;
  let tokenAdmin: { id: string; token: string };

  beforeAll(async () => {
    await upstream.start();
    front = await startReferenceGateway({ serveArgs: ["--upstream", upstream.url] });
    tokenAdmin = await createToken(front.url, front.adminToken, { name: "rotator-credential", scopes: ["admin:tokens"], expiresInSeconds: 7 * 86_400 });
  });

  afterAll(async () => {
    await front?.stop();
    await upstream.stop();
  });

  it.each(ADMIN_ROUTES.map((r) => [label(r), r] as const))("%s is the front's own and allowed", async (_label, route) => {
    const { res, targetId } = await callAdminRoute(front, route, tokenAdmin.token);

    expectAdminRouteSucceeded(route, res, targetId);
  });

  it("GET /v1/auth/whoami is allowed and shows that the token reaches no operator scope", async () => {
    const res = await call(front.url, "GET", "/v1/auth/whoami", { token: tokenAdmin.token });

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: tokenAdmin.id, scopes: ["admin:tokens"], operatorScopes: [] });
  });

  it("has cases for every upstream route, every scoped RPC method and the translated agent routes", () => {
    expect(FORWARD_CASES.length).toBe(UPSTREAM_ROUTES.length - 1 + Object.keys(RPC_METHOD_SCOPES).length + UNLISTED_RPC_METHODS.length + UNLISTED_PATHS.length + 2);
  });

  it.each(FORWARD_CASES)("%s is refused with 403 insufficient_scope and never reaches the upstream", async (_label, request) => {
    // Act
    const res = await call(front.url, request.method, request.path, { token: tokenAdmin.token, body: request.body });

    // Assess
    expect(res.status).toBe(403);
    expect(res.body.error).toEqual({ code: "insufficient_scope", message: `insufficient scope: requires ${request.requires}`, required_scope: request.requires });
    expect(upstream.reached).toEqual([]);
  });

  it("a WebSocket upgrade is refused with 403 insufficient_scope and never reaches the upstream", async () => {
    // Act
    const res = await upgrade(front.url, tokenAdmin.token);

    // Assess
    expect(res.status).toBe(403);
    expect(res.body.error).toEqual({
      code: "insufficient_scope",
      message: "insufficient scope: admin:tokens reaches nothing on the OpenClaw gateway; a connection needs a scope that does, the narrowest being read:agents",
      required_scope: "read:agents",
    });
    expect(upstream.reached).toEqual([]);
  });

  it("while a token that reaches OpenClaw gets its upgrade and its calls forwarded (the recorder sees them)", async () => {
    const reader = await createToken(front.url, front.adminToken, { name: "dashboard", scopes: ["read:agents"] });

    const ws = await upgrade(front.url, reader.token);
    const models = await call(front.url, "GET", "/v1/models", { token: reader.token });

    expect(ws.status).toBe(400); // the recorder's own refusal, relayed
    expect(models.status).toBe(200);
    expect(upstream.reached).toEqual(["UPGRADE /", "GET /v1/models"]);
  });
});

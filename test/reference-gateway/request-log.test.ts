import { setTimeout as sleep } from "node:timers/promises";
import { startReferenceGateway, type ReferenceGateway } from "../support/reference-gateway";
import { call, createToken } from "./http";

describe("reference gateway: per-token request log", () => {
  let gateway: ReferenceGateway;

  beforeAll(async () => {
    gateway = await startReferenceGateway();
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  const requestsOf = (id: string, query = "") =>
    call(gateway.url, "GET", `/v1/admin/tokens/${id}/requests${query}`, { token: gateway.adminToken, userAgent: "token-rotator/1.0" });

  it("records every request made with the token, whatever the outcome, oldest first", async () => {
    // Prepare
    const consumer = await createToken(gateway.url, gateway.adminToken, { name: "consumer", scopes: ["read:agents"] });

    // Act
    await call(gateway.url, "GET", "/v1/agents", { token: consumer.token, userAgent: "orders-service/2.1" });
    await call(gateway.url, "POST", "/v1/jobs", { token: consumer.token, userAgent: "orders-service/2.1", body: { agentId: "agt_echo", input: 1 } });
    await call(gateway.url, "POST", `/v1/admin/tokens/${consumer.id}/revoke`, { token: gateway.adminToken });
    await call(gateway.url, "GET", "/v1/agents", { token: consumer.token, userAgent: "orders-service/2.1" });
    const log = await requestsOf(consumer.id);

    // Assess
    expect(log.status).toBe(200);
    expect(log.body.requests).toEqual([
      { at: expect.any(String), method: "GET", path: "/v1/agents", status: 200, userAgent: "orders-service/2.1", consumer: "127.0.0.1 orders-service/2.1" },
      { at: expect.any(String), method: "POST", path: "/v1/jobs", status: 403, userAgent: "orders-service/2.1", consumer: "127.0.0.1 orders-service/2.1" },
      { at: expect.any(String), method: "GET", path: "/v1/agents", status: 401, userAgent: "orders-service/2.1", consumer: "127.0.0.1 orders-service/2.1" },
    ]);
  });

  it("updates lastUsedAt on authenticated requests only", async () => {
    // Prepare
    const consumer = await createToken(gateway.url, gateway.adminToken, { name: "last-used", scopes: ["read:agents"] });
    const unused = await call(gateway.url, "GET", `/v1/admin/tokens/${consumer.id}`, { token: gateway.adminToken });

    // Act
    await call(gateway.url, "GET", "/v1/agents", { token: consumer.token });
    const used = await call(gateway.url, "GET", `/v1/admin/tokens/${consumer.id}`, { token: gateway.adminToken });
    await call(gateway.url, "POST", `/v1/admin/tokens/${consumer.id}/revoke`, { token: gateway.adminToken });
    await sleep(5);
    await call(gateway.url, "GET", "/v1/agents", { token: consumer.token });
    const afterRevoke = await call(gateway.url, "GET", `/v1/admin/tokens/${consumer.id}`, { token: gateway.adminToken });

    // Assess
    expect(unused.body.lastUsedAt).toBeNull();
    expect(used.body.lastUsedAt).toEqual(expect.any(String));
    expect(afterRevoke.body.lastUsedAt).toBe(used.body.lastUsedAt);
  });

  it("returns only entries strictly after since, at most limit of them", async () => {
    // Prepare
    const consumer = await createToken(gateway.url, gateway.adminToken, { name: "paged", scopes: ["read:agents"] });
    for (let i = 0; i < 3; i++) {
      await call(gateway.url, "GET", "/v1/agents", { token: consumer.token, userAgent: `old-${i}` });
    }
    const cutover = (await requestsOf(consumer.id)).body.requests.at(-1).at as string;
    await sleep(5);
    for (let i = 0; i < 3; i++) {
      await call(gateway.url, "GET", "/v1/agents", { token: consumer.token, userAgent: `new-${i}` });
    }

    // Act
    const since = await requestsOf(consumer.id, `?since=${encodeURIComponent(cutover)}`);
    const limited = await requestsOf(consumer.id, "?limit=2");

    // Assess
    expect(since.body.requests.map((r: { userAgent: string }) => r.userAgent)).toEqual(["new-0", "new-1", "new-2"]);
    expect(limited.body.requests.map((r: { userAgent: string }) => r.userAgent)).toEqual(["new-1", "new-2"]);
  });

  it("records the caller's User-Agent so a rotator can leave out its own calls", async () => {
    // Act
    await requestsOf(gateway.adminTokenId);
    const log = await requestsOf(gateway.adminTokenId);

    // Assess
    expect(log.body.requests.at(-1)).toMatchObject({ path: `/v1/admin/tokens/${gateway.adminTokenId}/requests`, userAgent: "token-rotator/1.0" });
  });

  it("refuses a bad since or limit with 400 naming the parameter, and an unknown token with 404", async () => {
    // Act
    const badSince = await requestsOf(gateway.adminTokenId, "?since=yesterday");
    const badLimit = await requestsOf(gateway.adminTokenId, "?limit=1001");
    const unknown = await requestsOf("tok_0123456789abcdef");

    // Assess
    expect(badSince.status).toBe(400);
    expect(badSince.body.error.message).toContain("since:");
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error.message).toContain("limit:");
    expect(unknown.status).toBe(404);
  });
});

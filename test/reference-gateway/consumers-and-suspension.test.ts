import { ConsumerSource } from "../../reference-gateway/consumers";
import { openRegistryDatabase } from "../../reference-gateway/registry-db";
import { RequestLog } from "../../reference-gateway/request-log";
import { runGatewayCli, startReferenceGateway, type ReferenceGateway } from "../support/reference-gateway";
import { call, createToken } from "./http";

async function callAs(gateway: ReferenceGateway, token: string, userAgent: string, consumer?: string): Promise<number> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, "user-agent": userAgent };
  if (consumer !== undefined) headers["x-openclaw-consumer"] = consumer;
  const res = await fetch(`${gateway.url}/v1/agents`, { headers });
  await res.arrayBuffer();
  return res.status;
}

describe("reference gateway: consumer identity and suspension", () => {
  let gateway: ReferenceGateway;

  beforeAll(async () => {
    gateway = await startReferenceGateway();
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  const consumersOf = (id: string, since?: string) =>
    call(gateway.url, "GET", `/v1/admin/tokens/${id}/consumers${since ? `?since=${encodeURIComponent(since)}` : ""}`, { token: gateway.adminToken });

  describe("GET /v1/admin/tokens/{id}/consumers", () => {
    it("lists distinct consumers by header, else by address and User-Agent, with counts and last status; the project's own calls are left out", async () => {
      const token = await createToken(gateway.url, gateway.adminToken, { name: "orders", scopes: ["read:agents"] });
      await callAs(gateway, token.token, "orders/1.0", "orders-7f9c");
      await callAs(gateway, token.token, "orders/1.1", "orders-7f9c");
      await callAs(gateway, token.token, "billing/3");
      await callAs(gateway, token.token, "openclaw-token-ops/0.1 (rotator)");
      await call(gateway.url, "POST", "/v1/jobs", { token: token.token, userAgent: "billing/3", body: { agentId: "agt_echo", input: 1 } });

      const res = await consumersOf(token.id);

      expect(res.status).toBe(200);
      expect(res.body.consumers).toEqual([
        { consumer: "127.0.0.1 billing/3", source: "address", firstSeenAt: expect.any(String), lastSeenAt: expect.any(String), requests: 2, lastStatus: 403 },
        { consumer: "orders-7f9c", source: "header", firstSeenAt: expect.any(String), lastSeenAt: expect.any(String), requests: 2, lastStatus: 200 },
      ]);
      const log = await call(gateway.url, "GET", `/v1/admin/tokens/${token.id}/requests`, { token: gateway.adminToken });
      expect(log.body.requests[0].consumer).toBe("orders-7f9c");
    });

    it("answers a window: only consumers seen after since, counted within it", async () => {
      const token = await createToken(gateway.url, gateway.adminToken, { name: "windowed", scopes: ["read:agents"] });
      await callAs(gateway, token.token, "early/1", "early");
      // The window starts two minutes on (the gateway's clock moves; the minute holding `since` counts whole).
      await gateway.setClockOffset(120_000);
      const since = new Date(Date.now() + 120_000 - 1_000).toISOString();
      await callAs(gateway, token.token, "late/1", "late");
      await callAs(gateway, token.token, "late/1", "late");

      const windowed = await consumersOf(token.id, since);
      const all = await consumersOf(token.id);
      await gateway.setClockOffset(0);

      expect(windowed.body.consumers.map((c: { consumer: string; requests: number }) => [c.consumer, c.requests])).toEqual([["late", 2]]);
      expect(all.body.consumers.map((c: { consumer: string }) => c.consumer)).toEqual(["late", "early"]);
      const bad = await consumersOf(token.id, "yesterday");
      expect(bad.status).toBe(400);
    });

    it("keeps one aggregate row per consumer however many requests it makes, and bounds the request log", () => {
      const db = openRegistryDatabase(":memory:");
      const log = RequestLog.open(db);
      const t0 = Date.parse("2026-05-01T12:00:00.000Z");
      for (let i = 0; i < 5_000; i++) {
        const at = new Date(t0 + i * 1_000).toISOString();
        log.record("tok_1", { at, method: "GET", path: "/v1/agents", status: i === 4_999 ? 401 : 200, userAgent: "svc/1", consumer: "svc" }, true, ConsumerSource.Header);
      }

      const [row] = log.consumers("tok_1");
      const lastHour = log.consumers("tok_1", t0 + 5_000_000 - 3_600_000);
      const rows = (db.prepare("SELECT COUNT(*) AS n FROM consumers").get() as { n: number }).n;
      const kept = (db.prepare("SELECT COUNT(*) AS n FROM requests").get() as { n: number }).n;
      const served = log.entries("tok_1", { limit: 1000 });
      db.close();

      expect(rows).toBe(1);
      expect(row).toMatchObject({ consumer: "svc", requests: 5_000, lastStatus: 401, firstSeenAt: "2026-05-01T12:00:00.000Z" });
      expect(lastHour[0].requests).toBeGreaterThanOrEqual(3_600);
      expect(lastHour[0].requests).toBeLessThanOrEqual(3_660);
      expect(kept).toBeLessThanOrEqual(1_000 + 500);
      expect(served).toHaveLength(1000);
      expect(served.at(-1)?.status).toBe(401);
    });
  });

  describe("suspension", () => {
    it("refuses a suspended token with 401 token_suspended, distinct from invalid and expired, and logs the refusal", async () => {
      const token = await createToken(gateway.url, gateway.adminToken, { name: "to-suspend", scopes: ["read:agents"] });

      const suspended = await call(gateway.url, "POST", `/v1/admin/tokens/${token.id}/suspend`, { token: gateway.adminToken });
      const refused = await call(gateway.url, "GET", "/v1/agents", { token: token.token, userAgent: "late-consumer/1" });
      const whoami = await call(gateway.url, "GET", "/v1/auth/whoami", { token: token.token });

      expect(suspended.status).toBe(200);
      expect(suspended.body).toMatchObject({ id: token.id, status: "suspended", suspendedAt: expect.any(String), revokedAt: null });
      expect(refused.status).toBe(401);
      expect(refused.body.error).toEqual({ code: "token_suspended", message: "token suspended" });
      expect(refused.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
      expect(whoami.status).toBe(401);
      const log = await call(gateway.url, "GET", `/v1/admin/tokens/${token.id}/requests`, { token: gateway.adminToken });
      expect(log.body.requests.at(-1)).toMatchObject({ path: "/v1/auth/whoami", status: 401 });
      const consumers = await consumersOf(token.id);
      // Both refusals are in the aggregate (fetch sends User-Agent: node); the two may share a millisecond, so by name.
      expect(consumers.body.consumers).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ consumer: "127.0.0.1 node", lastStatus: 401 }),
          expect.objectContaining({ consumer: "127.0.0.1 late-consumer/1", lastStatus: 401 }),
        ]),
      );
    });

    it("reinstates a suspended token: it works again at once, keeping its ID, scopes and expiry", async () => {
      const token = await createToken(gateway.url, gateway.adminToken, { name: "to-reinstate", scopes: ["read:agents"], expiresInSeconds: 3600 });
      await call(gateway.url, "POST", `/v1/admin/tokens/${token.id}/suspend`, { token: gateway.adminToken });
      const again = await call(gateway.url, "POST", `/v1/admin/tokens/${token.id}/suspend`, { token: gateway.adminToken });

      const reinstated = await call(gateway.url, "POST", `/v1/admin/tokens/${token.id}/reinstate`, { token: gateway.adminToken });
      const works = await call(gateway.url, "GET", "/v1/agents", { token: token.token });

      expect(again.status).toBe(200);
      expect(reinstated.body).toMatchObject({ id: token.id, status: "active", suspendedAt: null, expiresAt: token.expiresAt });
      expect(works.status).toBe(200);
    });

    it("cannot suspend or reinstate a revoked token (409), and an expired suspended token says expired", async () => {
      const revoked = await createToken(gateway.url, gateway.adminToken, { name: "revoked", scopes: ["read:agents"] });
      await call(gateway.url, "POST", `/v1/admin/tokens/${revoked.id}/revoke`, { token: gateway.adminToken });
      const expiring = await createToken(gateway.url, gateway.adminToken, { name: "expiring", scopes: ["read:agents"], expiresInSeconds: 60 });
      await call(gateway.url, "POST", `/v1/admin/tokens/${expiring.id}/suspend`, { token: gateway.adminToken });

      const suspendRevoked = await call(gateway.url, "POST", `/v1/admin/tokens/${revoked.id}/suspend`, { token: gateway.adminToken });
      const reinstateRevoked = await call(gateway.url, "POST", `/v1/admin/tokens/${revoked.id}/reinstate`, { token: gateway.adminToken });
      const unknown = await call(gateway.url, "POST", "/v1/admin/tokens/tok_0000000000000000/suspend", { token: gateway.adminToken });
      await gateway.setClockOffset(120_000);
      const expired = await call(gateway.url, "GET", "/v1/agents", { token: expiring.token });
      await gateway.setClockOffset(0);

      expect(suspendRevoked.status).toBe(409);
      expect(suspendRevoked.body.error.code).toBe("conflict");
      expect(reinstateRevoked.status).toBe(409);
      expect(unknown.status).toBe(404);
      expect(expired.body.error.code).toBe("token_expired");
    });

    it("keeps a suspension across a restart (it is in the registry, not in memory)", async () => {
      const token = await createToken(gateway.url, gateway.adminToken, { name: "durable", scopes: ["read:agents"] });
      await call(gateway.url, "POST", `/v1/admin/tokens/${token.id}/suspend`, { token: gateway.adminToken });

      await gateway.restart();
      const refused = await call(gateway.url, "GET", "/v1/agents", { token: token.token });

      expect(refused.body.error.code).toBe("token_suspended");
    });

    it("suspends and reinstates from the admin CLI on the state dir, seen by the running gateway at its next request", async () => {
      const token = await createToken(gateway.url, gateway.adminToken, { name: "cli-suspended", scopes: ["read:agents"] });

      const suspended = await runGatewayCli(["auth", "suspend", token.id, "--state-dir", gateway.stateDir, "--json"]);
      const refused = await call(gateway.url, "GET", "/v1/agents", { token: token.token });
      const reinstated = await runGatewayCli(["auth", "reinstate", token.id, "--state-dir", gateway.stateDir]);
      const works = await call(gateway.url, "GET", "/v1/agents", { token: token.token });
      const unknown = await runGatewayCli(["auth", "suspend", "tok_0000000000000000", "--state-dir", gateway.stateDir]);

      expect(suspended.code).toBe(0);
      expect(JSON.parse(suspended.stdout)).toMatchObject({ id: token.id, status: "suspended" });
      expect(refused.body.error.code).toBe("token_suspended");
      expect(reinstated.code).toBe(0);
      expect(reinstated.stderr).toContain("accepts it again");
      expect(works.status).toBe(200);
      expect(unknown.code).toBe(1);
    });
  });
});

import { startReferenceGateway, type ReferenceGateway } from "../support/reference-gateway";
import { call, createToken } from "./http";

const DAY_MS = 86_400_000;

describe("reference gateway: token management", () => {
  let gateway: ReferenceGateway;

  beforeAll(async () => {
    gateway = await startReferenceGateway();
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  describe("access", () => {
    it("refuses every admin route to a token without admin:tokens or admin:*", async () => {
      // Prepare: admin:tools is an admin scope, but not token management
      const toolsAdmin = await createToken(gateway.url, gateway.adminToken, { name: "tools-admin", scopes: ["admin:tools", "run:jobs"] });

      // Act
      const answers = await Promise.all([
        call(gateway.url, "POST", "/v1/admin/tokens", { token: toolsAdmin.token, body: { name: "x", scopes: ["run:jobs"] } }),
        call(gateway.url, "GET", "/v1/admin/tokens", { token: toolsAdmin.token }),
        call(gateway.url, "GET", `/v1/admin/tokens/${gateway.adminTokenId}`, { token: toolsAdmin.token }),
        call(gateway.url, "POST", `/v1/admin/tokens/${gateway.adminTokenId}/revoke`, { token: toolsAdmin.token }),
        call(gateway.url, "GET", `/v1/admin/tokens/${gateway.adminTokenId}/requests`, { token: toolsAdmin.token }),
      ]);

      // Assess
      for (const res of answers) {
        expect(res.status).toBe(403);
        expect(res.body.error).toMatchObject({ code: "insufficient_scope", required_scope: "admin:tokens" });
      }
      const admin = await call(gateway.url, "GET", "/v1/auth/whoami", { token: gateway.adminToken });
      expect(admin.status).toBe(200);
    });
  });

  describe("POST /v1/admin/tokens", () => {
    it("mints a value with the environment prefix and returns the metadata", async () => {
      // Act
      const res = await call(gateway.url, "POST", "/v1/admin/tokens", {
        token: gateway.adminToken,
        body: { name: "ci-runner-prod", scopes: ["run:jobs", "read:agents"], expiresInSeconds: 30 * 86_400 },
      });

      // Assess
      expect(res.status).toBe(201);
      expect(res.body.token).toMatch(/^openclaw_gw_dev_[A-Za-z0-9_-]{12}[A-Za-z0-9_-]{32,}$/);
      expect(res.body).toMatchObject({
        id: expect.stringMatching(/^tok_[0-9a-f]{16}$/),
        name: "ci-runner-prod",
        scopes: ["read:agents", "run:jobs"],
        revokedAt: null,
        lastUsedAt: null,
        status: "active",
      });
      const ttlMs = Date.parse(res.body.expiresAt) - Date.parse(res.body.createdAt);
      expect(Math.abs(ttlMs - 30 * DAY_MS)).toBeLessThan(1_000);
    });

    it.each([
      ["a name with a space", { name: "bad name", scopes: ["run:jobs"] }, "name"],
      ["a missing name", { scopes: ["run:jobs"] }, "name"],
      ["no scopes", { name: "svc", scopes: [] }, "scopes"],
      ["an unknown scope", { name: "svc", scopes: ["run:jobs", "write:everything"] }, "scopes[1]"],
      ["a duplicate scope", { name: "svc", scopes: ["run:jobs", "run:jobs"] }, "scopes[1]"],
      ["both expiry fields", { name: "svc", scopes: ["run:jobs"], expiresAt: "2999-01-01T00:00:00Z", expiresInSeconds: 60 }, "expiresAt"],
      ["an expiry in the past", { name: "svc", scopes: ["run:jobs"], expiresAt: "2001-01-01T00:00:00Z" }, "expiresAt"],
      ["an expiry beyond 400 days", { name: "svc", scopes: ["run:jobs"], expiresInSeconds: 401 * 86_400 }, "expiresInSeconds"],
      ["an unparsable expiresAt", { name: "svc", scopes: ["run:jobs"], expiresAt: "next week" }, "expiresAt"],
      ["an unknown field", { name: "svc", scopes: ["run:jobs"], ttl: 5 }, "ttl"],
    ])("refuses %s with 400 invalid_request naming the field", async (_label, body, field) => {
      // Act
      const res = await call(gateway.url, "POST", "/v1/admin/tokens", { token: gateway.adminToken, body });

      // Assess
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
      expect(res.body.error.message).toContain(`${field}:`);
      expect(res.body.error.problems).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    });

    it("refuses a body that is not JSON", async () => {
      // Act
      const res = await fetch(`${gateway.url}/v1/admin/tokens`, {
        method: "POST",
        headers: { authorization: `Bearer ${gateway.adminToken}` },
        body: "name=svc",
      });

      // Assess
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain("body");
    });
  });

  describe("GET /v1/admin/tokens", () => {
    it("lists tokens with exactly the given name, whatever their status", async () => {
      // Prepare
      const first = await createToken(gateway.url, gateway.adminToken, { name: "svc-orders", scopes: ["run:jobs"] });
      const second = await createToken(gateway.url, gateway.adminToken, { name: "svc-orders", scopes: ["run:jobs"] });
      await createToken(gateway.url, gateway.adminToken, { name: "svc-orders-2", scopes: ["run:jobs"] });
      await call(gateway.url, "POST", `/v1/admin/tokens/${first.id}/revoke`, { token: gateway.adminToken });

      // Act
      const byName = await call(gateway.url, "GET", "/v1/admin/tokens?name=svc-orders", { token: gateway.adminToken });
      const all = await call(gateway.url, "GET", "/v1/admin/tokens", { token: gateway.adminToken });

      // Assess
      expect(byName.status).toBe(200);
      expect(byName.body.tokens.map((t: { id: string; status: string }) => [t.id, t.status])).toEqual([
        [first.id, "revoked"],
        [second.id, "active"],
      ]);
      expect(all.body.tokens.length).toBeGreaterThanOrEqual(4);
      expect(JSON.stringify(all.body)).not.toMatch(/openclaw_gw_|sha256|lookupId/);
    });
  });

  describe("GET /v1/admin/tokens/{id}", () => {
    it("returns the metadata, or 404 for an unknown id", async () => {
      // Act
      const known = await call(gateway.url, "GET", `/v1/admin/tokens/${gateway.adminTokenId}`, { token: gateway.adminToken });
      const unknown = await call(gateway.url, "GET", "/v1/admin/tokens/tok_0000000000000000", { token: gateway.adminToken });

      // Assess
      expect(known.status).toBe(200);
      expect(known.body).toMatchObject({ id: gateway.adminTokenId, name: "test-admin", status: "active" });
      expect(known.body.lastUsedAt).not.toBeNull();
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe("not_found");
    });
  });

  describe("POST /v1/admin/tokens/{id}/revoke", () => {
    it("takes effect on the very next request", async () => {
      // Prepare
      const consumer = await createToken(gateway.url, gateway.adminToken, { name: "leaked", scopes: ["read:jobs"] });
      const before = await call(gateway.url, "GET", "/v1/auth/whoami", { token: consumer.token });

      // Act
      const revoked = await call(gateway.url, "POST", `/v1/admin/tokens/${consumer.id}/revoke`, { token: gateway.adminToken });
      const after = await call(gateway.url, "GET", "/v1/auth/whoami", { token: consumer.token });

      // Assess
      expect(before.status).toBe(200);
      expect(revoked.status).toBe(200);
      expect(revoked.body).toMatchObject({ id: consumer.id, status: "revoked", revokedAt: expect.any(String) });
      expect(after.status).toBe(401);
      expect(after.body).toEqual({ error: { code: "invalid_token", message: "invalid token" } });
    });

    it("is idempotent: revoking again answers 200 with the original revokedAt", async () => {
      // Prepare
      const consumer = await createToken(gateway.url, gateway.adminToken, { name: "twice", scopes: ["read:jobs"] });
      const first = await call(gateway.url, "POST", `/v1/admin/tokens/${consumer.id}/revoke`, { token: gateway.adminToken });

      // Act
      const second = await call(gateway.url, "POST", `/v1/admin/tokens/${consumer.id}/revoke`, { token: gateway.adminToken });

      // Assess
      expect(second.status).toBe(200);
      expect(second.body.revokedAt).toBe(first.body.revokedAt);
    });

    it("answers 404 for an unknown id", async () => {
      // Act
      const res = await call(gateway.url, "POST", "/v1/admin/tokens/tok_ffffffffffffffff/revoke", { token: gateway.adminToken });

      // Assess
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    });
  });
});

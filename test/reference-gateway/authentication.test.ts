import { startReferenceGateway, type ReferenceGateway } from "../support/reference-gateway";
import { call, createToken } from "./http";

describe("reference gateway: authentication and scopes", () => {
  let gateway: ReferenceGateway;

  beforeAll(async () => {
    gateway = await startReferenceGateway();
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  describe("GET /healthz", () => {
    it("answers without a token and names the environment", async () => {
      // Act
      const res = await call(gateway.url, "GET", "/healthz");

      // Assess
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: "ok", environment: "dev" });
    });
  });

  describe("Authorization header", () => {
    it.each([
      ["lowercase scheme", (t: string) => `bearer ${t}`],
      ["two spaces", (t: string) => `Bearer  ${t}`],
      ["another scheme", (t: string) => `Token ${t}`],
      ["no scheme", (t: string) => t],
      ["trailing text", (t: string) => `Bearer ${t} extra`],
    ])("refuses a valid token sent with %s as 401 invalid_token", async (_label, header) => {
      // Act
      const res = await call(gateway.url, "GET", "/v1/auth/whoami", { authorization: header(gateway.adminToken) });

      // Assess
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: { code: "invalid_token", message: "invalid token" } });
    });

    it("refuses a missing header, an unknown token and another environment's prefix alike", async () => {
      // Prepare: same shape as a real value, but never minted by this gateway
      const unknown = `openclaw_gw_dev_${"A".repeat(12)}${"b".repeat(43)}`;
      const otherEnvironment = gateway.adminToken.replace("openclaw_gw_dev_", "openclaw_gw_live_");

      // Act
      const answers = await Promise.all([
        call(gateway.url, "GET", "/v1/auth/whoami"),
        call(gateway.url, "GET", "/v1/auth/whoami", { token: unknown }),
        call(gateway.url, "GET", "/v1/auth/whoami", { token: otherEnvironment }),
        call(gateway.url, "GET", "/v1/auth/whoami", { token: gateway.adminToken.slice(0, -1) }),
      ]);

      // Assess
      for (const res of answers) {
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe("invalid_token");
        expect(res.headers.get("www-authenticate")).toContain("Bearer");
      }
    });
  });

  describe("GET /v1/auth/whoami", () => {
    it("describes the calling token without revealing its value", async () => {
      // Act
      const res = await call(gateway.url, "GET", "/v1/auth/whoami", { token: gateway.adminToken });

      // Assess
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id: gateway.adminTokenId,
        name: "test-admin",
        scopes: ["admin:*"],
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        expiresAt: null,
        environment: "dev",
      });
      expect(JSON.stringify(res.body)).not.toContain(gateway.adminToken);
    });
  });

  describe("scopes", () => {
    it("answers 403 insufficient_scope with required_scope when the token lacks the endpoint's scope", async () => {
      // Prepare
      const reader = await createToken(gateway.url, gateway.adminToken, { name: "dashboard", scopes: ["read:agents"] });

      // Act
      const allowed = await call(gateway.url, "GET", "/v1/agents", { token: reader.token });
      const denied = await call(gateway.url, "POST", "/v1/jobs", { token: reader.token, body: { agentId: "agt_echo", input: 1 } });

      // Assess
      expect(allowed.status).toBe(200);
      expect(allowed.body.agents).toEqual(expect.arrayContaining([{ id: "agt_echo", name: "echo" }]));
      expect(denied.status).toBe(403);
      expect(denied.body).toEqual({
        error: { code: "insufficient_scope", message: "insufficient scope: requires run:jobs", required_scope: "run:jobs" },
      });
    });

    it("lets admin:* call every endpoint", async () => {
      // Act
      const agents = await call(gateway.url, "GET", "/v1/agents", { token: gateway.adminToken });
      const job = await call(gateway.url, "POST", "/v1/jobs", { token: gateway.adminToken, body: { agentId: "agt_echo", input: "x" } });

      // Assess
      expect(agents.status).toBe(200);
      expect(job.status).toBe(201);
    });
  });

  describe("jobs", () => {
    it("runs a job with run:jobs and reads it back with read:jobs", async () => {
      // Prepare
      const backend = await createToken(gateway.url, gateway.adminToken, { name: "backend", scopes: ["run:jobs", "read:jobs"] });

      // Act
      const created = await call(gateway.url, "POST", "/v1/jobs", { token: backend.token, body: { agentId: "agt_echo", input: { q: 1 } } });
      const read = await call(gateway.url, "GET", `/v1/jobs/${created.body.id}`, { token: backend.token });
      const missing = await call(gateway.url, "GET", "/v1/jobs/job_0000000000000000", { token: backend.token });

      // Assess
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ id: expect.stringMatching(/^job_/), agentId: "agt_echo", status: "succeeded" });
      expect(created.body.output).toBeDefined();
      expect(read.body).toEqual(created.body);
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe("not_found");
    });

    it("names the field at fault in a bad job request", async () => {
      // Act
      const res = await call(gateway.url, "POST", "/v1/jobs", { token: gateway.adminToken, body: { agentId: "nope" } });

      // Assess
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
      expect(res.body.error.message).toContain("agentId");
      expect(res.body.error.message).toContain("input");
    });
  });

  describe("unknown routes", () => {
    it("answers 404 not_found and 405 for a known path with the wrong method", async () => {
      // Act
      const unknown = await call(gateway.url, "GET", "/v1/nothing", { token: gateway.adminToken });
      const wrongMethod = await call(gateway.url, "DELETE", "/v1/agents", { token: gateway.adminToken });

      // Assess
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe("not_found");
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get("allow")).toBe("GET, POST") // POST /v1/agents creates an agent config (write:agents);
    });
  });
});

import { startReferenceGateway, type ReferenceGateway } from "../support/reference-gateway";
import { call } from "./http";

describe("reference gateway: test control", () => {
  let gateway: ReferenceGateway;

  beforeAll(async () => {
    gateway = await startReferenceGateway();
  });

  afterEach(async () => {
    await gateway.setFaults({ rate: 0, kinds: [] });
    await gateway.setLatency(0);
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  describe("POST /_test/faults", () => {
    it("injects 503 unavailable with Retry-After on the given paths only", async () => {
      // Prepare
      await gateway.setFaults({ rate: 1, kinds: ["503"], retryAfterSeconds: 7, paths: ["/v1/agents"] });

      // Act
      const faulted = await call(gateway.url, "GET", "/v1/agents", { token: gateway.adminToken });
      const spared = await call(gateway.url, "GET", "/v1/auth/whoami", { token: gateway.adminToken });

      // Assess
      expect(faulted.status).toBe(503);
      expect(faulted.headers.get("retry-after")).toBe("7");
      expect(faulted.body.error.code).toBe("unavailable");
      expect(spared.status).toBe(200);
    });

    it("injects 429 rate_limited with Retry-After", async () => {
      // Prepare
      await gateway.setFaults({ rate: 1, kinds: ["429"], retryAfterSeconds: 2 });

      // Act
      const res = await call(gateway.url, "GET", "/healthz");

      // Assess
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("2");
      expect(res.body.error.code).toBe("rate_limited");
    });

    it("injects a fraction of faults at a rate below 1", async () => {
      // Prepare
      await gateway.setFaults({ rate: 0.5, kinds: ["500"] });

      // Act
      const statuses = await Promise.all(Array.from({ length: 60 }, async () => (await call(gateway.url, "GET", "/healthz")).status));

      // Assess: with p = 0.5 over 60 requests, both outcomes all but surely occur
      expect(statuses).toContain(200);
      expect(statuses).toContain(500);
    });

    it("resets the connection or holds the request past the client's timeout", async () => {
      // Prepare
      await gateway.setFaults({ rate: 1, kinds: ["reset"], paths: ["/v1/agents"] });
      const reset = fetch(`${gateway.url}/v1/agents`);
      await expect(reset).rejects.toThrow();
      await gateway.setFaults({ rate: 1, kinds: ["timeout"], paths: ["/v1/agents"] });

      // Act
      const started = Date.now();
      const held = fetch(`${gateway.url}/v1/agents`, { signal: AbortSignal.timeout(300) });

      // Assess
      await expect(held).rejects.toThrow();
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect((await call(gateway.url, "GET", "/healthz")).status).toBe(200);
    });

    it("counts the faults it injected since they were set (GET /_test/faults)", async () => {
      // Prepare
      await gateway.setFaults({ rate: 1, kinds: ["503"], paths: ["/v1/agents"] });

      // Act
      for (let i = 0; i < 3; i++) await call(gateway.url, "GET", "/v1/agents", { token: gateway.adminToken });
      await call(gateway.url, "GET", "/v1/auth/whoami", { token: gateway.adminToken });

      // Assess
      expect(await gateway.faultsInjected()).toBe(3);
      await gateway.setFaults({ rate: 0, kinds: [] });
      expect(await gateway.faultsInjected()).toBe(0);
    });

    it("refuses an invalid spec with 400 naming the field", async () => {
      // Act
      const res = await call(gateway.url, "POST", "/_test/faults", { body: { rate: 2, kinds: ["418"] } });

      // Assess
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain("rate:");
      expect(res.body.error.message).toContain("kinds:");
    });
  });

  describe("POST /_test/latency", () => {
    it("delays every request by the given time", async () => {
      // Prepare
      await gateway.setLatency(250);

      // Act
      const started = Date.now();
      const res = await call(gateway.url, "GET", "/healthz");

      // Assess
      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    });
  });

  describe("without --test-control", () => {
    it("answers 404 on every /_test route", async () => {
      // Prepare
      const plain = await startReferenceGateway({ testControl: false });

      try {
        // Act
        const answers = await Promise.all(
          ["/_test/clock", "/_test/faults", "/_test/latency"].map((path) => call(plain.url, "POST", path, { body: { offsetMs: 1 } })),
        );

        // Assess
        for (const res of answers) {
          expect(res.status).toBe(404);
          expect(res.body.error.code).toBe("not_found");
        }
      } finally {
        await plain.stop();
      }
    });
  });
});

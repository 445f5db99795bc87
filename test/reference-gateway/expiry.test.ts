import { startReferenceGateway, type ReferenceGateway } from "../support/reference-gateway";
import { call, createToken } from "./http";

const DAY_MS = 86_400_000;

describe("reference gateway: expiry on the gateway clock", () => {
  let gateway: ReferenceGateway;

  beforeAll(async () => {
    gateway = await startReferenceGateway();
  });

  afterEach(async () => {
    await gateway.setClockOffset(0);
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it("answers 401 token_expired once the TTL has passed", async () => {
    // Prepare
    const weekly = await createToken(gateway.url, gateway.adminToken, { name: "weekly", scopes: ["read:agents"], expiresInSeconds: 7 * 86_400 });
    const fresh = await call(gateway.url, "GET", "/v1/agents", { token: weekly.token });

    // Act
    await gateway.setClockOffset(8 * DAY_MS);
    const expired = await call(gateway.url, "GET", "/v1/agents", { token: weekly.token });
    const metadata = await call(gateway.url, "GET", `/v1/admin/tokens/${weekly.id}`, { token: gateway.adminToken });

    // Assess
    expect(fresh.status).toBe(200);
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual({ error: { code: "token_expired", message: "token expired" } });
    expect(metadata.body.status).toBe("expired");
  });

  it("keeps a token valid until its expiresAt", async () => {
    // Prepare
    const expiresAt = new Date(Date.now() + 30 * DAY_MS).toISOString();
    const monthly = await createToken(gateway.url, gateway.adminToken, { name: "monthly", scopes: ["read:agents"], expiresAt });

    // Act
    await gateway.setClockOffset(29 * DAY_MS);
    const before = await call(gateway.url, "GET", "/v1/auth/whoami", { token: monthly.token });
    await gateway.setClockOffset(31 * DAY_MS);
    const after = await call(gateway.url, "GET", "/v1/auth/whoami", { token: monthly.token });

    // Assess
    expect(before.status).toBe(200);
    expect(before.body.expiresAt).toBe(expiresAt);
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe("token_expired");
  });

  it("reports a revoked token that has also expired as invalid, not expired", async () => {
    // Prepare
    const short = await createToken(gateway.url, gateway.adminToken, { name: "short", scopes: ["read:agents"], expiresInSeconds: 3600 });
    await call(gateway.url, "POST", `/v1/admin/tokens/${short.id}/revoke`, { token: gateway.adminToken });

    // Act
    await gateway.setClockOffset(2 * DAY_MS);
    const res = await call(gateway.url, "GET", "/v1/auth/whoami", { token: short.token });

    // Assess
    expect(res.body.error.code).toBe("invalid_token");
  });

  it("checks new expiries against the shifted clock", async () => {
    // Prepare: a year ahead, "now + 1 day" in real time is in the gateway's past
    await gateway.setClockOffset(365 * DAY_MS);

    // Act
    const res = await call(gateway.url, "POST", "/v1/admin/tokens", {
      token: gateway.adminToken,
      body: { name: "late", scopes: ["read:agents"], expiresAt: new Date(Date.now() + DAY_MS).toISOString() },
    });

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain("expiresAt: must be in the future");
  });
});

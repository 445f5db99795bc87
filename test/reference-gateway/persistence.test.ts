import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startReferenceGateway, type ReferenceGateway } from "../support/reference-gateway";
import { call, createToken } from "./http";

describe("reference gateway: state dir", () => {
  let gateway: ReferenceGateway;

  beforeAll(async () => {
    gateway = await startReferenceGateway();
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it("keeps tokens, revocations and the request log across a restart", async () => {
    // Prepare
    const kept = await createToken(gateway.url, gateway.adminToken, { name: "kept", scopes: ["read:agents"] });
    const gone = await createToken(gateway.url, gateway.adminToken, { name: "gone", scopes: ["read:agents"] });
    await call(gateway.url, "GET", "/v1/agents", { token: kept.token, userAgent: "before-restart" });
    await call(gateway.url, "POST", `/v1/admin/tokens/${gone.id}/revoke`, { token: gateway.adminToken });
    const pidBefore = gateway.pid;

    // Act
    await gateway.restart();
    const keptAnswer = await call(gateway.url, "GET", "/v1/agents", { token: kept.token });
    const goneAnswer = await call(gateway.url, "GET", "/v1/agents", { token: gone.token });
    const log = await call(gateway.url, "GET", `/v1/admin/tokens/${kept.id}/requests`, { token: gateway.adminToken });
    const metadata = await call(gateway.url, "GET", `/v1/admin/tokens/${kept.id}`, { token: gateway.adminToken });

    // Assess
    expect(gateway.pid).not.toBe(pidBefore);
    expect(keptAnswer.status).toBe(200);
    expect(goneAnswer.status).toBe(401);
    expect(log.body.requests[0]).toMatchObject({ path: "/v1/agents", status: 200, userAgent: "before-restart" });
    expect(log.body.requests).toHaveLength(2);
    expect(metadata.body.lastUsedAt).toBe(log.body.requests[1].at);
  });

  it("keeps the clock offset across a restart, so expired tokens stay expired", async () => {
    // Prepare
    const daily = await createToken(gateway.url, gateway.adminToken, { name: "daily", scopes: ["read:agents"], expiresInSeconds: 86_400 });
    await gateway.setClockOffset(2 * 86_400_000);

    // Act
    await gateway.restart();
    const res = await call(gateway.url, "GET", "/v1/agents", { token: daily.token });
    await gateway.setClockOffset(0);

    // Assess
    expect(res.body.error.code).toBe("token_expired");
  });

  it("never writes a token value, only its hash, to files readable by the owner alone", async () => {
    // Prepare
    const secret = await createToken(gateway.url, gateway.adminToken, { name: "secret", scopes: ["read:agents"] });
    await call(gateway.url, "GET", "/v1/agents", { token: secret.token });
    await sleep(50); // request-log appends are asynchronous

    // Act
    const tokensFile = await readFile(join(gateway.stateDir, "tokens.json"), "utf8");
    const requestsFile = await readFile(join(gateway.stateDir, "requests.jsonl"), "utf8");
    const mode = (await stat(join(gateway.stateDir, "tokens.json"))).mode & 0o777;

    // Assess
    const secretPart = secret.token.slice(-32);
    for (const content of [tokensFile, requestsFile]) {
      expect(content).not.toContain(secret.token);
      expect(content).not.toContain(gateway.adminToken);
      expect(content).not.toContain(secretPart);
    }
    expect(JSON.parse(tokensFile)).toMatchObject({ version: 1, environment: "dev" });
    expect(tokensFile).toContain(secret.id);
    expect(requestsFile).toContain(secret.id);
    expect(mode).toBe(0o600);
  });
});

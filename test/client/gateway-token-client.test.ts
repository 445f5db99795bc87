/** The consumer client (openclaw-token-ops/client) against moto's Secrets Manager and the reference gateway. */
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GatewayTokenClient } from "../../src/client";
import { RotationHarness } from "../support/rotation-harness";

jest.setTimeout(60_000);

describe("GatewayTokenClient", () => {
  let h: RotationHarness;

  beforeAll(async () => {
    h = await RotationHarness.start();
  });
  afterAll(() => h?.stop());
  beforeEach(() => h.reset());

  const listAgents = (client: GatewayTokenClient) => client.fetch("/v1/agents").then(async (res) => (await res.arrayBuffer(), res.status));

  it("calls the gateway with the secret's AWSCURRENT token, reading the secret once per cache period", async () => {
    await h.declare({ name: "dashboard", scopes: ["read:agents"] });
    const secretsManager = new SecretsManagerClient({});
    let reads = 0;
    secretsManager.middlewareStack.add((next) => (args) => (reads++, next(args)), { step: "initialize" });
    const client = new GatewayTokenClient({ secretName: h.secretName("dashboard"), userAgent: "dashboard-ui/3.0", secretsManager });

    const current = await client.current();
    expect(current.tokenId).toBe((await h.admin.whoami(await h.current("dashboard"))).id);
    expect(current.gatewayUrl).toBe(h.gateway.url);
    expect(String(current.token)).toBe("[REDACTED]");
    expect(await listAgents(client)).toBe(200);
    expect(await listAgents(client)).toBe(200);
    expect(reads).toBe(1);
    client.invalidate();
    await client.current();
    expect(reads).toBe(2);
    secretsManager.destroy();
    // The gateway's request log names the consumer by the client's User-Agent.
    const log = await h.admin.traffic(current.tokenId, new Date(0));
    expect(log.map((e) => e.userAgent)).toContain("dashboard-ui/3.0");
  });

  it("after its cached token is revoked, reads the secret again on the 401 and carries on with the new token", async () => {
    await h.declare({ name: "dashboard", scopes: ["read:agents"] });
    const client = new GatewayTokenClient({ secretName: h.secretName("dashboard"), cacheTtlMs: 3_600_000 });
    const before = await client.current();

    // An emergency revocation: the cached token is refused from now on, and the secret holds a new one.
    await h.engine().emergencyRevoke(h.secretName("dashboard"));

    expect(await listAgents(client)).toBe(200);
    expect((await client.current()).tokenId).not.toBe(before.tokenId);
  });

  it("returns the 401 when the secret has nothing newer (a token revoked out of band)", async () => {
    await h.declare({ name: "dashboard", scopes: ["read:agents"] });
    const client = new GatewayTokenClient({ secretName: h.secretName("dashboard") });
    await h.admin.revoke((await client.current()).tokenId);

    expect(await listAgents(client)).toBe(401);
  });
});

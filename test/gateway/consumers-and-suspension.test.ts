import { Sensitive } from "../../src/domain/sensitive";
import { ownUserAgent, TokenStatus } from "../../src/gateway/backend";
import { DocumentedApiGateway } from "../../src/gateway/documented-api";
import { GatewayRequestError, InvalidTokenError, TokenSuspendedError } from "../../src/gateway/errors";
import { OpenClawDevicesGateway } from "../../src/gateway/openclaw/openclaw-devices";
import { startReferenceGateway, type ReferenceGateway } from "../support/reference-gateway";

/** The rotator's documented-API client against the real reference gateway: consumers, suspend, reinstate. */
describe("DocumentedApiGateway: consumers and suspension", () => {
  let gateway: ReferenceGateway;
  let client: DocumentedApiGateway;

  beforeAll(async () => {
    gateway = await startReferenceGateway();
    client = new DocumentedApiGateway({ url: gateway.url, environment: "dev", adminToken: new Sensitive(gateway.adminToken), userAgent: ownUserAgent("rotator") });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const callAs = async (token: Sensitive, consumer: string) => {
    const res = await fetch(`${gateway.url}/v1/agents`, { headers: { authorization: `Bearer ${token.reveal()}`, "x-openclaw-consumer": consumer, "user-agent": "svc/1" } });
    await res.arrayBuffer();
    return res.status;
  };

  it("answers each consumer with first/last seen, count and last status, its own calls left out", async () => {
    const issued = await client.mint({ name: "consumers-a", scopes: ["read:agents"], expiresAt: new Date(Date.now() + 86_400_000) });
    const before = new Date();
    await callAs(issued.value, "orders-1");
    await callAs(issued.value, "orders-1");
    await callAs(issued.value, "billing-2");
    await client.whoami(issued.value); // the rotator's own call

    const seen = await client.consumers(issued.metadata.id, new Date(before.getTime() - 60_000));
    expect(seen.map((c) => [c.consumer, c.source, c.requests, c.lastStatus]).sort()).toEqual([
      ["billing-2", "header", 1, 200],
      ["orders-1", "header", 2, 200],
    ]);
    expect(seen[0].lastSeenAt).toBeInstanceOf(Date);
    expect(seen[0].lastSeenAt.getTime()).toBeGreaterThanOrEqual(seen[0].firstSeenAt.getTime());
    await expect(client.consumers("tok_0000000000000000")).rejects.toBeInstanceOf(GatewayRequestError);
  });

  it("suspends (401 token_suspended, recorded as the consumer's last status) and reinstates with ID and expiry unchanged", async () => {
    const issued = await client.mint({ name: "consumers-b", scopes: ["read:agents"], expiresAt: new Date(Date.now() + 86_400_000) });
    expect(client.supportsSuspension).toBe(true);

    const suspended = await client.suspend(issued.metadata.id);
    expect(suspended.status).toBe(TokenStatus.Suspended);
    expect(suspended.suspendedAt).toBeInstanceOf(Date);
    expect((await client.describe(issued.metadata.id))?.status).toBe(TokenStatus.Suspended);
    const refused = await client.whoami(issued.value).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TokenSuspendedError);
    expect(refused).not.toBeInstanceOf(InvalidTokenError);
    expect((refused as TokenSuspendedError).code).toBe("token_suspended");
    expect(await callAs(issued.value, "late-service")).toBe(401);
    expect((await client.consumers(issued.metadata.id)).find((c) => c.consumer === "late-service")?.lastStatus).toBe(401);

    const again = await client.suspend(issued.metadata.id);
    expect(again.suspendedAt?.getTime()).toBe(suspended.suspendedAt?.getTime());

    const back = await client.reinstate(issued.metadata.id);
    expect(back.status).toBe(TokenStatus.Active);
    expect(back.suspendedAt).toBeUndefined();
    expect(back.id).toBe(issued.metadata.id);
    expect(back.expiresAt?.getTime()).toBe(issued.metadata.expiresAt?.getTime());
    expect(await callAs(issued.value, "late-service")).toBe(200);

    await client.revoke(issued.metadata.id);
    await expect(client.suspend(issued.metadata.id)).rejects.toMatchObject({ status: 409 });
  });

  it("the openclaw-devices backend has no suspension: the flag is false and the calls refuse without a request", async () => {
    const devices = new OpenClawDevicesGateway({
      url: "http://127.0.0.1:1",
      environment: "dev",
      adminToken: new Sensitive("shared-admin-secret-0123456789"),
      userAgent: ownUserAgent("rotator"),
      fetch: (() => Promise.reject(new Error("no request expected"))) as typeof fetch,
    });
    expect(devices.supportsSuspension).toBe(false);
    await expect(devices.suspend("dev_1")).rejects.toMatchObject({ code: "unsupported" });
    await expect(devices.reinstate("dev_1")).rejects.toMatchObject({ code: "unsupported" });
  });
});

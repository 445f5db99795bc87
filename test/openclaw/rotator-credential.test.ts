import { randomBytes } from "node:crypto";
import { Sensitive } from "../../src/domain/sensitive";
import { gatewayTokenName, IssuedToken, ownUserAgent } from "../../src/gateway/backend";
import { GatewayRequestError, InsufficientScopeError, InvalidTokenError } from "../../src/gateway/errors";
import { AdminRpcClient } from "../../src/gateway/openclaw/admin-rpc";
import { OpenClawConnection } from "../../src/gateway/openclaw/connection";
import { DeviceIdentity } from "../../src/gateway/openclaw/device-identity";
import { HandshakeRefusedError } from "../../src/gateway/openclaw/errors";
import { OpenClawDevicesGateway } from "../../src/gateway/openclaw/openclaw-devices";
import { OperatorScope } from "../../src/gateway/openclaw/scopes";
import { RpcMethod, WirePairList } from "../../src/gateway/openclaw/wire";
import { OpenClawGateway, startOpenClawGateway } from "../support/openclaw-gateway";

/**
 * What the REAL OpenClaw gateway (npm openclaw 2026.9.6) allows a least-privilege rotator credential on the
 * openclaw-devices backend (docs/gateway-api.md, "Rotator credential on openclaw-devices"): which operator scope on
 * a paired device's token can manage other devices, whether a device can rotate its own token, and that minting a
 * device needs the shared secret. Each test pins one statement of that section.
 */
describe("a least-privilege rotator credential on the real OpenClaw gateway", () => {
  let gateway: OpenClawGateway;
  let backend: OpenClawDevicesGateway;
  /** The shared-secret admin RPC, to look at pairing state from outside. */
  let shared: AdminRpcClient;

  const mint = (scopes: readonly OperatorScope[], name: string): Promise<IssuedToken> =>
    backend.mint({ name: gatewayTokenName(name, new Date(), randomBytes(3).toString("hex")), scopes, expiresAt: new Date(Date.now() + 3600_000) });
  const deviceTokenOf = (issued: IssuedToken): Sensitive => new Sensitive((JSON.parse(issued.value.reveal()) as { deviceToken: string }).deviceToken);
  /** The credential with its device token replaced: what a device that rotated itself must store. */
  const withDeviceToken = (issued: IssuedToken, token: string): Sensitive =>
    new Sensitive(JSON.stringify({ ...(JSON.parse(issued.value.reveal()) as object), deviceToken: token }));
  const pairing = (): Promise<WirePairList> => shared.call<WirePairList>({ method: RpcMethod.PairList, params: {}, idempotent: true });
  const isStillValid = async (issued: IssuedToken): Promise<boolean> => backend.whoami(issued.value).then(() => true, (e: unknown) => (e instanceof InvalidTokenError ? false : Promise.reject(e)));

  beforeAll(async () => {
    gateway = await startOpenClawGateway();
    const adminToken = new Sensitive(gateway.sharedToken);
    backend = new OpenClawDevicesGateway({ url: gateway.url, environment: "dev", adminToken, userAgent: ownUserAgent("rotator"), retry: { baseDelayMs: 50 } });
    shared = new AdminRpcClient({ gatewayUrl: gateway.url, adminToken, userAgent: ownUserAgent("rotator"), sleep: async () => undefined });
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
  }, 30_000);

  it("a device token is no credential for the admin HTTP RPC: 401, even with operator.pairing", async () => {
    const device = await mint([OperatorScope.Pairing], "pairing-http");
    const viaDevice = new AdminRpcClient({ gatewayUrl: gateway.url, adminToken: deviceTokenOf(device), userAgent: ownUserAgent("rotator"), sleep: async () => undefined });

    const listed = await viaDevice.call({ method: RpcMethod.PairList, params: {}, idempotent: true }).catch((e: unknown) => e);

    expect(listed).toBeInstanceOf(InvalidTokenError);
    expect((listed as InvalidTokenError).message).toMatch(/answered 401/);
  }, 60_000);

  it("operator.pairing on a device token is self-scoped: it sees only its own device and may not remove, rotate or revoke another", async () => {
    // Prepare
    const consumer = await mint([OperatorScope.Read], "consumer");
    const rotator = await mint([OperatorScope.Pairing], "pairing-only");
    const session = await backend.connect(rotator.value);
    try {
      // Act
      const listed = await session.request<WirePairList>(RpcMethod.PairList, {});
      const refusals = await Promise.all([
        session.request(RpcMethod.PairRemove, { deviceId: consumer.metadata.id }).catch((e: unknown) => e),
        session.request("device.token.rotate", { deviceId: consumer.metadata.id, role: "operator" }).catch((e: unknown) => e),
        session.request("device.token.revoke", { deviceId: consumer.metadata.id, role: "operator" }).catch((e: unknown) => e),
      ]);

      // Assess
      expect(listed.paired.map((d) => d.deviceId)).toEqual([rotator.metadata.id]);
      expect((await pairing()).paired.map((d) => d.deviceId)).toEqual(expect.arrayContaining([consumer.metadata.id, rotator.metadata.id]));
      expect(refusals.map((e) => [e instanceof GatewayRequestError, (e as Error).message.replace(/^.*INVALID_REQUEST: /, "")])).toEqual([
        [true, "device pairing removal denied"],
        [true, "device token rotation denied"],
        [true, "device token revocation denied"],
      ]);
      expect(await isStillValid(consumer)).toBe(true);
    } finally {
      await session.close();
    }
  }, 60_000);

  it("a device holding operator.pairing rotates its own token: delivered in band, the old one refused at once", async () => {
    // Prepare
    const rotator = await mint([OperatorScope.Pairing], "self-rotating");
    const session = await backend.connect(rotator.value);

    // Act
    const rotated = await session.request<{ token?: string; tokenDelivery: string; scopes: string[] }>("device.token.rotate", { deviceId: rotator.metadata.id, role: "operator" });
    await session.close();

    // Assess: no dual-active window, unlike the documented API's mint-then-revoke.
    expect(rotated).toMatchObject({ tokenDelivery: "in-band", scopes: [OperatorScope.Pairing], token: expect.any(String) });
    expect(await isStillValid(rotator)).toBe(false);
    const successor = await backend.whoami(withDeviceToken(rotator, rotated.token as string));
    expect(successor.scopes).toEqual([OperatorScope.Pairing]);
  }, 60_000);

  it("a device without operator.pairing cannot rotate even its own token", async () => {
    const consumer = await mint([OperatorScope.Read, OperatorScope.Write], "consumer-rw");
    const session = await backend.connect(consumer.value);
    try {
      const refused = await session.request("device.token.rotate", { deviceId: consumer.metadata.id, role: "operator" }).catch((e: unknown) => e);

      expect(refused).toBeInstanceOf(InsufficientScopeError);
      expect((refused as InsufficientScopeError).requiredScope).toBe(OperatorScope.Pairing);
    } finally {
      await session.close();
    }
    expect(await isStillValid(consumer)).toBe(true);
  }, 60_000);

  it("operator.admin is the narrowest device scope that manages other devices; rotating another device withholds its new token and kills the old one", async () => {
    // Prepare
    const consumer = await mint([OperatorScope.Read], "consumer-2");
    const other = await mint([OperatorScope.Read], "consumer-3");
    const admin = await mint([OperatorScope.Admin], "admin-device");
    const session = await backend.connect(admin.value);
    try {
      // Act
      const listed = await session.request<WirePairList>(RpcMethod.PairList, {});
      const rotated = await session.request<{ token?: string; tokenDelivery: string }>("device.token.rotate", { deviceId: consumer.metadata.id, role: "operator" });
      await session.request(RpcMethod.PairRemove, { deviceId: other.metadata.id });

      // Assess
      expect(listed.paired.map((d) => d.deviceId)).toEqual(expect.arrayContaining([consumer.metadata.id, other.metadata.id, admin.metadata.id]));
      expect(rotated.tokenDelivery).toBe("withheld-cross-device");
      expect(rotated.token).toBeUndefined();
      expect(await isStillValid(consumer)).toBe(false);
      expect((await pairing()).paired.map((d) => d.deviceId)).not.toContain(other.metadata.id);
    } finally {
      await session.close();
    }
  }, 60_000);

  it("a new device cannot even ask to be paired without the shared secret: minting needs gateway.auth.token", async () => {
    // Prepare: a fresh keypair presenting an admin device's token (bound to that device) or none at all.
    const admin = await mint([OperatorScope.Admin], "admin-device-2");
    const connectAs = (token: Sensitive) => {
      const identity = DeviceIdentity.generate();
      const attempt = OpenClawConnection.open({
        wsUrl: gateway.url.replace(/^http/, "ws"),
        context: { method: "WS", endpoint: "/ connect", gatewayUrl: gateway.url },
        identity,
        token,
        isDeviceToken: false,
        role: "operator",
        scopes: [OperatorScope.Read],
        client: { id: "cli", mode: "cli", platform: "linux", displayName: "unpaired", version: "0.1.0" },
        userAgent: ownUserAgent("rotator"),
      });
      return { deviceId: identity.deviceId, outcome: attempt.then(async (c) => { await c.close(); return c; }, (e: unknown) => e) };
    };

    // Act
    const withAdminDeviceToken = connectAs(deviceTokenOf(admin));
    const withNothing = connectAs(new Sensitive(""));

    // Assess
    for (const attempt of [withAdminDeviceToken, withNothing]) {
      const outcome = await attempt.outcome;
      expect(outcome).toBeInstanceOf(HandshakeRefusedError);
      // Refused as an authentication failure (AUTH_TOKEN_MISMATCH/_MISSING), not PAIRING_REQUIRED: no request is opened.
      expect((outcome as HandshakeRefusedError).detailCode).toMatch(/^AUTH_TOKEN_(MISMATCH|MISSING)$/);
    }
    const state = await pairing();
    const ids = [...state.pending.map((p) => p.deviceId), ...state.paired.map((d) => d.deviceId)];
    expect(ids).not.toContain(withAdminDeviceToken.deviceId);
    expect(ids).not.toContain(withNothing.deviceId);
  }, 60_000);
});

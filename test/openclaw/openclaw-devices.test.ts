import { randomBytes } from "node:crypto";
import { ValidationError } from "../../src/domain/errors";
import { Sensitive } from "../../src/domain/sensitive";
import { BackendKind, gatewayTokenName, IssuedToken, ownUserAgent, TokenStatus } from "../../src/gateway/backend";
import { InsufficientScopeError, InvalidTokenError, TokenExpiredError } from "../../src/gateway/errors";
import { createBackend } from "../../src/gateway/factory";
import { parseCredential } from "../../src/gateway/openclaw/credential";
import { ConnectionLostError } from "../../src/gateway/openclaw/errors";
import { OpenClawDevicesGateway, OpenClawDevicesOptions } from "../../src/gateway/openclaw/openclaw-devices";
import { OperatorScope } from "../../src/gateway/openclaw/scopes";
import { OpenClawGateway, startOpenClawGateway } from "../support/openclaw-gateway";

/**
 * The openclaw-devices backend against the REAL OpenClaw gateway (npm openclaw 2026.9.6, installed by
 * scripts/setup-openclaw.sh), started once for the suite with autoApproveLocal off: every mint goes through the
 * pending request + device.pair.approve path that a remote gateway takes. The last block turns autoApproveLocal
 * on (a hot reload) for the silent path that a loopback gateway with default settings takes.
 */
describe("OpenClawDevicesGateway (real gateway)", () => {
  let gateway: OpenClawGateway;
  let backend: OpenClawDevicesGateway;
  const HOUR = 3600_000;

  const options = (overrides: Partial<OpenClawDevicesOptions> = {}): OpenClawDevicesOptions => ({
    url: gateway.url,
    environment: "dev",
    adminToken: new Sensitive(gateway.sharedToken),
    userAgent: ownUserAgent("rotator"),
    retry: { baseDelayMs: 50 },
    ...overrides,
  });

  const mint = (scopes: readonly string[], declaredName = "svc"): Promise<IssuedToken> =>
    backend.mint({
      name: gatewayTokenName(declaredName, new Date(), randomBytes(3).toString("hex")),
      scopes,
      expiresAt: new Date(Date.now() + HOUR),
    });

  /** Every secret a credential holds plus the gateway's shared token: none may appear in any error message. */
  const secretsOf = (issued: IssuedToken): string[] => {
    const json = JSON.parse(issued.value.reveal()) as { deviceToken: string; privateKey: string };
    return [json.deviceToken, json.privateKey, gateway.sharedToken];
  };
  const expectNoSecret = (error: unknown, secrets: readonly string[]): void => {
    const text = `${String(error)} ${(error as Error).stack ?? ""} ${JSON.stringify(error)}`;
    for (const secret of secrets) expect(text).not.toContain(secret);
  };

  beforeAll(async () => {
    gateway = await startOpenClawGateway();
    backend = new OpenClawDevicesGateway(options());
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
  }, 30_000);

  describe("createBackend", () => {
    it("builds this backend for kind openclaw-devices", () => {
      // Act
      const built = createBackend({
        kind: BackendKind.OpenClawDevices,
        url: gateway.url,
        environment: "dev",
        adminToken: new Sensitive(gateway.sharedToken),
        userAgent: ownUserAgent("provider"),
      });

      // Assess
      expect(built).toBeInstanceOf(OpenClawDevicesGateway);
      expect(built.kind).toBe("openclaw-devices");
    });
  });

  describe("mint", () => {
    it("pairs an operator device with exactly the requested scopes, named after the mint", async () => {
      // Act
      const issued = await mint([OperatorScope.Write, OperatorScope.Read]);

      // Assess
      const { metadata } = issued;
      expect(metadata.id).toMatch(/^[0-9a-f]{64}$/);
      expect(metadata.scopes).toEqual([OperatorScope.Read, OperatorScope.Write]);
      expect(metadata.status).toBe(TokenStatus.Active);
      expect(metadata.lastUsedAt).toBeUndefined();
      const credential = parseCredential(issued.value);
      expect(credential.deviceId).toBe(metadata.id);
      expect(credential.expiresAt).toEqual(metadata.expiresAt);
      expect(String(issued.value)).toBe("[REDACTED]");
      expect(JSON.stringify(issued)).not.toContain(credential.deviceToken.reveal());

      const described = await backend.describe(metadata.id);
      expect(described).toMatchObject({ id: metadata.id, name: metadata.name, status: TokenStatus.Active });
      expect([...(described?.scopes ?? [])].sort()).toEqual([OperatorScope.Read, OperatorScope.Write]);
    });

    it("refuses scopes outside the closed operator set before pairing anything", async () => {
      // Prepare
      const before = (await listDevices()).length;

      // Act
      const attempt = mint(["operator.read", "read:agents", "operator.bogus"]);

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(ValidationError);
      await expect(attempt).rejects.toThrow(/"read:agents" is not an operator scope/);
      expect(await listDevices()).toHaveLength(before);
    });

    it("fails with InvalidTokenError, and no secret in the message, when the shared token is wrong", async () => {
      // Prepare
      const wrong = randomBytes(24).toString("base64url");
      const misconfigured = new OpenClawDevicesGateway(options({ adminToken: new Sensitive(wrong) }));

      // Act
      const error = await misconfigured.mint({ name: "svc-wrong-admin", scopes: [OperatorScope.Read], expiresAt: new Date(Date.now() + HOUR) }).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(InvalidTokenError);
      expect(String(error)).toMatch(/shared token/);
      expectNoSecret(error, [wrong, gateway.sharedToken]);
      await expect(misconfigured.findByName("svc-wrong-admin")).rejects.toBeInstanceOf(InvalidTokenError);
    });
  });

  describe("whoami", () => {
    it("answers with the device's ID, name, requested scopes and the expiry this project tracks", async () => {
      // Prepare
      const issued = await mint([OperatorScope.Read]);

      // Act
      const who = await backend.whoami(issued.value);

      // Assess
      expect(who).toEqual({
        id: issued.metadata.id,
        name: issued.metadata.name,
        scopes: [OperatorScope.Read],
        expiresAt: issued.metadata.expiresAt,
      });
    });

    it("throws TokenExpiredError once the credential's expiresAt has passed, without contacting the gateway", async () => {
      // Prepare
      const issued = await mint([OperatorScope.Read]);
      const contacted: string[] = [];
      const later = new OpenClawDevicesGateway(
        options({
          clock: { now: () => new Date(Date.now() + 2 * HOUR) },
          WebSocket: class {
            constructor(url: string) {
              contacted.push(url);
              throw new Error("must not connect");
            }
          } as unknown as typeof WebSocket,
          fetch: (async (input: string | URL | Request) => {
            contacted.push(String(input));
            throw new Error("must not fetch");
          }) as typeof fetch,
        }),
      );

      // Act
      const error = await later.whoami(issued.value).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(TokenExpiredError);
      expect((error as TokenExpiredError).context.tokenId).toBe(issued.metadata.id);
      expect(contacted).toEqual([]);
      expect((await backend.describe(issued.metadata.id))?.lastUsedAt).toBeUndefined();
    });

    it("throws InvalidTokenError for a value that is not a device credential, without echoing it", async () => {
      // Prepare
      const value = `{"kind":"openclaw-device","deviceToken":"${randomBytes(16).toString("hex")}"`;

      // Act
      const error = await backend.whoami(new Sensitive(value)).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(InvalidTokenError);
      expect(String(error)).toMatch(/not an openclaw-devices credential/);
      expectNoSecret(error, [value, value.slice(-32)]);
    });
  });

  describe("dual-active", () => {
    it("keeps two devices of one consumer live at once, and revoking one leaves the other", async () => {
      // Prepare
      const old = await mint([OperatorScope.Read], "ci-runner");
      const next = await mint([OperatorScope.Read], "ci-runner");

      // Act
      const [whoOld, whoNext] = await Promise.all([backend.whoami(old.value), backend.whoami(next.value)]);
      await backend.revoke(old.metadata.id);

      // Assess
      expect(whoOld.id).toBe(old.metadata.id);
      expect(whoNext.id).toBe(next.metadata.id);
      expect(whoNext.id).not.toBe(whoOld.id);
      await expect(backend.whoami(old.value)).rejects.toBeInstanceOf(InvalidTokenError);
      await expect(backend.whoami(next.value)).resolves.toMatchObject({ id: next.metadata.id });
    });
  });

  describe("findByName", () => {
    it("finds exactly the device minted under a name, and nothing under an unknown name", async () => {
      // Prepare
      const issued = await mint([OperatorScope.Read], "dashboard");

      // Act
      const found = await backend.findByName(issued.metadata.name);
      const none = await backend.findByName(`${issued.metadata.name}-nope`);

      // Assess
      expect(found.map((t) => t.id)).toEqual([issued.metadata.id]);
      expect(none).toEqual([]);
    });
  });

  describe("describe and traffic", () => {
    it("reports lastUsedAt advancing with each use, and one synthetic traffic entry after it", async () => {
      // Prepare
      const issued = await mint([OperatorScope.Read]);
      const mintedAt = new Date();

      // Act
      await backend.whoami(issued.value);
      const first = await backend.describe(issued.metadata.id);
      await new Promise((r) => setTimeout(r, 20));
      await backend.whoami(issued.value);
      const second = await backend.describe(issued.metadata.id);

      // Assess
      expect(first?.lastUsedAt).toBeInstanceOf(Date);
      expect(second?.lastUsedAt?.getTime()).toBeGreaterThan(first?.lastUsedAt?.getTime() ?? Infinity);
      // This instance's own whoami is reported under its own User-Agent, which the rotator does not count as a consumer.
      expect(await backend.traffic(issued.metadata.id, new Date(mintedAt.getTime() - 1000))).toEqual([
        { at: second?.lastUsedAt, method: "WS", path: "device", status: 200, userAgent: ownUserAgent("rotator") },
      ]);
      expect(await backend.traffic(issued.metadata.id, second?.lastUsedAt as Date)).toEqual([]);
    });

    it("reports a use by anyone else (another process: a consumer) as unknown, i.e. consumer traffic", async () => {
      // Prepare
      const issued = await mint([OperatorScope.Read]);
      await backend.whoami(issued.value);
      const consumer = new OpenClawDevicesGateway(options({ userAgent: "consumer-service/1.0" }));

      // Act
      await new Promise((r) => setTimeout(r, 200));
      await consumer.whoami(issued.value);
      const described = await backend.describe(issued.metadata.id);
      const traffic = await backend.traffic(issued.metadata.id, new Date(0));

      // Assess
      expect(traffic).toEqual([{ at: described?.lastUsedAt, method: "WS", path: "device", status: 200, userAgent: "unknown" }]);
    });

    it("answers undefined for a device the gateway does not know", async () => {
      await expect(backend.describe("0".repeat(64))).resolves.toBeUndefined();
      await expect(backend.traffic("0".repeat(64), new Date(0))).resolves.toEqual([]);
    });
  });

  describe("revoke", () => {
    it("removes the device: its credential is refused and the gateway no longer lists it", async () => {
      // Prepare
      const issued = await mint([OperatorScope.Read]);
      await backend.whoami(issued.value);

      // Act
      await backend.revoke(issued.metadata.id);

      // Assess
      const error = await backend.whoami(issued.value).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidTokenError);
      expect(String(error)).toMatch(/AUTH_DEVICE_TOKEN_MISMATCH/);
      expectNoSecret(error, secretsOf(issued));
      await expect(backend.describe(issued.metadata.id)).resolves.toBeUndefined();
      await expect(backend.findByName(issued.metadata.name)).resolves.toEqual([]);
    });

    it("also ends the device's live sessions", async () => {
      // Prepare
      const issued = await mint([OperatorScope.Read]);
      const session = await backend.connect(issued.value);
      await expect(session.request("status")).resolves.toEqual(expect.any(Object));

      // Act
      await backend.revoke(issued.metadata.id);
      await new Promise((r) => setTimeout(r, 200));
      const after = await session.request("status").catch((e: unknown) => e);
      await session.close();

      // Assess
      expect(after).toBeInstanceOf(ConnectionLostError);
    });

    it("is idempotent: a second revoke and a revoke of an unknown ID succeed", async () => {
      // Prepare
      const issued = await mint([OperatorScope.Read]);
      await backend.revoke(issued.metadata.id);

      // Act / Assess
      await expect(backend.revoke(issued.metadata.id)).resolves.toBeUndefined();
      await expect(backend.revoke("f".repeat(64))).resolves.toBeUndefined();
    });

    it("shows a token revoked out of band (device.token.revoke) as revoked, and refused", async () => {
      // Prepare: an admin device revokes another device's operator token over the WebSocket.
      const target = await mint([OperatorScope.Read]);
      const admin = await mint([OperatorScope.Admin]);
      const session = await backend.connect(admin.value);
      try {
        await session.request("device.token.revoke", { deviceId: target.metadata.id, role: "operator" });
      } finally {
        await session.close();
      }

      // Act
      const described = await backend.describe(target.metadata.id);

      // Assess
      expect(described?.status).toBe(TokenStatus.Revoked);
      await expect(backend.whoami(target.value)).rejects.toBeInstanceOf(InvalidTokenError);
    });
  });

  describe("scopes", () => {
    it("are enforced by the gateway: an operator.read device cannot call write or admin methods", async () => {
      // Prepare
      const reader = await mint([OperatorScope.Read]);
      const session = await backend.connect(reader.value);

      try {
        // Act
        const status = await session.request<Record<string, unknown>>("status");
        const write = await session.request("sessions.create", {}).catch((e: unknown) => e);
        const admin = await session.request("update.status", {}).catch((e: unknown) => e);

        // Assess
        expect(status).toEqual(expect.any(Object));
        expect(write).toBeInstanceOf(InsufficientScopeError);
        expect((write as InsufficientScopeError).requiredScope).toBe(OperatorScope.Write);
        expect(admin).toBeInstanceOf(InsufficientScopeError);
        expect((admin as InsufficientScopeError).requiredScope).toBe(OperatorScope.Admin);
        expectNoSecret(admin, secretsOf(reader));
      } finally {
        await session.close();
      }
    });

    it("an operator.admin device may call the admin method the read device may not", async () => {
      // Prepare
      const admin = await mint([OperatorScope.Admin]);
      const session = await backend.connect(admin.value);

      try {
        // Act / Assess
        await expect(session.request("update.status", {})).resolves.toEqual(expect.any(Object));
      } finally {
        await session.close();
      }
    });
  });

  describe("with silent local pairing (autoApproveLocal on)", () => {
    beforeAll(async () => {
      await gateway.reconfigure((config) => {
        config.gateway.nodes.pairing.autoApproveLocal = true;
      });
    }, 30_000);

    it("mints without an approval step and keeps two generations of one token live at once", async () => {
      // The gateway retires older *silent* pairings of the same client cluster (clientId, clientMode, displayName)
      // when it silently approves a new one; unique mint names keep generations out of each other's cluster.

      // Act
      const old = await mint([OperatorScope.Read], "ci-runner");
      await backend.whoami(old.value);
      const next = await mint([OperatorScope.Read], "ci-runner");
      const [whoOld, whoNext] = await Promise.all([backend.whoami(old.value), backend.whoami(next.value)]);

      // Assess
      const devices = await listDevices();
      expect(devices.find((d) => d.deviceId === old.metadata.id)?.approvedVia).toBe("silent");
      expect(devices.find((d) => d.deviceId === next.metadata.id)?.approvedVia).toBe("silent");
      expect([whoOld.id, whoNext.id]).toEqual([old.metadata.id, next.metadata.id]);
      await backend.revoke(old.metadata.id);
      await expect(backend.whoami(old.value)).rejects.toBeInstanceOf(InvalidTokenError);
      await expect(backend.whoami(next.value)).resolves.toMatchObject({ id: next.metadata.id, scopes: [OperatorScope.Read] });
    });
  });

  /** The gateway's own device list, through its admin HTTP RPC route. */
  async function listDevices(): Promise<Array<{ deviceId: string; approvedVia?: string }>> {
    const res = await fetch(`${gateway.url}/api/v1/admin/rpc`, {
      method: "POST",
      headers: { Authorization: `Bearer ${gateway.sharedToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ method: "device.pair.list", params: {} }),
    });
    const body = (await res.json()) as { payload: { paired: Array<{ deviceId: string; approvedVia?: string }> } };
    return body.payload.paired;
  }
});

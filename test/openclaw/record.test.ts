import { Sensitive } from "../../src/domain/sensitive";
import { BackendKind } from "../../src/gateway/backend";
import { DeviceCredential, serializeCredential } from "../../src/gateway/openclaw/credential";
import { DeviceIdentity } from "../../src/gateway/openclaw/device-identity";
import { OperatorScope } from "../../src/gateway/openclaw/scopes";
import { CorruptRecordError, parseRecord, serialiseRecord, TokenRecord } from "../../src/store/record";

/**
 * A secret version holding an openclaw-devices token, as the store reads it back: the value must be a device
 * credential of the record's environment and device, the counterpart of the documented API's prefix check.
 */
describe("parseRecord of an openclaw-devices token", () => {
  const DEVICE_TOKEN = "dt_" + "s".repeat(40);

  function credential(overrides: Partial<DeviceCredential> = {}): DeviceCredential {
    const identity = DeviceIdentity.generate();
    return {
      deviceId: identity.deviceId,
      deviceToken: new Sensitive(DEVICE_TOKEN),
      identity,
      role: "operator",
      scopes: [OperatorScope.Read],
      name: "ops-agent-20261121t120000z-abcdef",
      expiresAt: new Date("2026-12-21T12:00:00.000Z"),
      environment: "dev",
      client: { id: "cli", mode: "cli", platform: "linux" },
      ...overrides,
    };
  }

  function record(value: Sensitive, tokenId: string, overrides: Partial<TokenRecord> = {}): TokenRecord {
    return {
      token: value,
      tokenId,
      gatewayTokenName: "ops-agent-20261121t120000z-abcdef",
      name: "ops-agent",
      environment: "dev",
      gatewayUrl: "http://127.0.0.1:18789",
      backend: BackendKind.OpenClawDevices,
      scopes: [OperatorScope.Read],
      issuedAt: new Date("2026-11-21T12:00:00.000Z"),
      expiresAt: new Date("2026-12-21T12:00:00.000Z"),
      ...overrides,
    };
  }

  const parse = (r: TokenRecord) => parseRecord(serialiseRecord(r), "openclaw/dev/ops-agent", "v1");

  it("reads back a device credential of the record's environment and device", () => {
    // Prepare
    const device = credential();
    const written = record(serializeCredential(device), device.deviceId);

    // Act
    const read = parse(written);

    // Assess
    expect(read.token.reveal()).toBe(written.token.reveal());
    expect(read).toMatchObject({ tokenId: device.deviceId, backend: "openclaw-devices", scopes: [OperatorScope.Read] });
  });

  it.each([
    ["a credential of another environment", () => {
      const device = credential({ environment: "prod" });
      return record(serializeCredential(device), device.deviceId);
    }, /the token is a prod device credential, not a dev one/],
    ["the credential of another device", () => {
      const device = credential();
      return record(serializeCredential(device), "f".repeat(64));
    }, /the token is the credential of device [0-9a-f]{64}, not of f{64}/],
    ["a documented-API token", () => record(new Sensitive(`openclaw_gw_dev_${DEVICE_TOKEN}`), "tok_1"), /the token is not an openclaw-devices credential \(the value is not JSON\)/],
  ])("refuses %s, without quoting the value", (_what, build, expected) => {
    // Act
    const error = (() => {
      try {
        parse(build());
      } catch (e) {
        return e;
      }
      return undefined;
    })();

    // Assess
    expect(error).toBeInstanceOf(CorruptRecordError);
    expect(String(error)).toMatch(expected);
    expect(String(error)).not.toContain(DEVICE_TOKEN);
  });

  it("keeps the prefix rule for documented-API tokens", () => {
    // Prepare
    const device = credential();

    // Act / Assess: a device credential stored under the documented API has no environment prefix.
    expect(() => parse(record(serializeCredential(device), device.deviceId, { backend: BackendKind.DocumentedApi }))).toThrow(
      /the token does not carry the dev prefix/,
    );
  });
});

import { createHash, createPublicKey, verify } from "node:crypto";
import { inspect } from "node:util";
import { Sensitive } from "../../src/domain/sensitive";
import { CredentialFormatError, DeviceCredential, parseCredential, serializeCredential } from "../../src/gateway/openclaw/credential";
import { DeviceIdentity, deviceAuthPayloadV3, deviceIdOf } from "../../src/gateway/openclaw/device-identity";
import {
  ALL_OPERATOR_SCOPES,
  canonicalOperatorScopes,
  isOperatorScope,
  OperatorScope,
  operatorScopeSatisfies,
  sameScopeSet,
} from "../../src/gateway/openclaw/scopes";

/** Unit tests of the device identity, credential and scope code: no gateway needed. */

function sampleCredential(overrides: Partial<DeviceCredential> = {}): DeviceCredential {
  const identity = DeviceIdentity.generate();
  return {
    deviceId: identity.deviceId,
    deviceToken: new Sensitive("dt_" + "x".repeat(40)),
    identity,
    role: "operator",
    scopes: [OperatorScope.Read, OperatorScope.Write],
    name: "ci-runner-20261121t120000z-abcdef",
    expiresAt: new Date("2026-12-21T12:00:00.000Z"),
    environment: "dev",
    client: { id: "cli", mode: "cli", platform: "linux" },
    ...overrides,
  };
}

/** A credential's JSON with one field changed, as a Sensitive value. */
function tampered(credential: DeviceCredential, change: (json: Record<string, unknown>) => void): Sensitive {
  const json = JSON.parse(serializeCredential(credential).reveal()) as Record<string, unknown>;
  change(json);
  return new Sensitive(JSON.stringify(json));
}

describe("DeviceIdentity", () => {
  it("derives the device ID as the SHA-256 hex of the raw 32-byte public key", () => {
    // Act
    const identity = DeviceIdentity.generate();

    // Assess
    const raw = Buffer.from(identity.publicKey, "base64url");
    expect(raw).toHaveLength(32);
    expect(identity.deviceId).toBe(createHash("sha256").update(raw).digest("hex"));
    expect(identity.deviceId).toBe(deviceIdOf(identity.publicKey));
    expect(identity.deviceId).toMatch(/^[0-9a-f]{64}$/);
  });

  it("signs payloads with Ed25519, base64url, verifiable with the raw public key", () => {
    // Prepare
    const identity = DeviceIdentity.generate();
    const publicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: identity.publicKey }, format: "jwk" });

    // Act
    const signature = identity.sign("v3|payload");

    // Assess
    expect(signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(verify(null, Buffer.from("v3|payload"), publicKey, Buffer.from(signature, "base64url"))).toBe(true);
    expect(verify(null, Buffer.from("v3|other"), publicKey, Buffer.from(signature, "base64url"))).toBe(false);
  });

  it("round-trips through its PKCS#8 export", () => {
    // Prepare
    const identity = DeviceIdentity.generate();

    // Act
    const restored = DeviceIdentity.fromPkcs8(identity.exportPrivateKey());

    // Assess
    expect(restored.deviceId).toBe(identity.deviceId);
    expect(restored.publicKey).toBe(identity.publicKey);
  });

  it("never shows its private key when logged or serialised", () => {
    // Prepare
    const identity = DeviceIdentity.generate();
    const privateKey = identity.exportPrivateKey();

    // Act
    const shown = `${inspect(identity)} ${JSON.stringify(identity)} ${inspect({ identity }, { depth: 5 })}`;

    // Assess
    expect(shown).toContain(identity.deviceId);
    expect(shown).not.toContain(privateKey);
  });
});

describe("deviceAuthPayloadV3", () => {
  it("joins the v3 fields with '|', scopes with ',', and lower-cases platform and deviceFamily", () => {
    // Act
    const payload = deviceAuthPayloadV3({
      deviceId: "abc",
      clientId: "cli",
      clientMode: "cli",
      role: "operator",
      scopes: ["operator.read", "operator.write"],
      signedAtMs: 1737264000000,
      token: "tok",
      nonce: "n0nce",
      platform: " Linux ",
      deviceFamily: "Server",
    });

    // Assess
    expect(payload).toBe("v3|abc|cli|cli|operator|operator.read,operator.write|1737264000000|tok|n0nce|linux|server");
  });

  it("leaves an absent deviceFamily empty", () => {
    const payload = deviceAuthPayloadV3({
      deviceId: "abc",
      clientId: "cli",
      clientMode: "cli",
      role: "operator",
      scopes: [],
      signedAtMs: 1,
      token: "",
      nonce: "n",
      platform: "linux",
    });
    expect(payload).toBe("v3|abc|cli|cli|operator||1||n|linux|");
  });
});

describe("credential", () => {
  describe("serializeCredential / parseCredential", () => {
    it("round-trip every field, keeping the secrets inside Sensitive", () => {
      // Prepare
      const credential = sampleCredential();

      // Act
      const value = serializeCredential(credential);
      const parsed = parseCredential(value);

      // Assess
      expect(parsed.deviceId).toBe(credential.deviceId);
      expect(parsed.deviceToken).toBeInstanceOf(Sensitive);
      expect(parsed.deviceToken.reveal()).toBe(credential.deviceToken.reveal());
      expect(parsed.identity.publicKey).toBe(credential.identity.publicKey);
      expect(parsed).toMatchObject({
        role: "operator",
        scopes: credential.scopes,
        name: credential.name,
        expiresAt: credential.expiresAt,
        environment: "dev",
        client: credential.client,
      });
    });

    it("store the documented JSON shape", () => {
      // Prepare
      const credential = sampleCredential();

      // Act
      const json = JSON.parse(serializeCredential(credential).reveal()) as Record<string, unknown>;

      // Assess
      expect(Object.keys(json).sort()).toEqual(
        ["client", "deviceId", "deviceToken", "environment", "expiresAt", "kind", "name", "privateKey", "publicKey", "role", "scopes", "version"].sort(),
      );
      expect(json).toMatchObject({
        kind: "openclaw-device",
        version: 1,
        deviceId: credential.deviceId,
        publicKey: credential.identity.publicKey,
        expiresAt: "2026-12-21T12:00:00.000Z",
      });
    });

    it("print [REDACTED] wherever the value or the parsed token could leak", () => {
      // Prepare
      const credential = sampleCredential();
      const value = serializeCredential(credential);
      const parsed = parseCredential(value);

      // Act
      const shown = [`${value}`, JSON.stringify({ value }), inspect(value), inspect(parsed, { depth: 5 }), JSON.stringify(parsed)].join(" ");

      // Assess
      expect(shown).not.toContain(credential.deviceToken.reveal());
      expect(shown).not.toContain(credential.identity.exportPrivateKey());
    });
  });

  describe("parseCredential refuses", () => {
    const cases: Array<[string, (json: Record<string, unknown>) => void, RegExp]> = [
      ["a deviceId that is not the public key's fingerprint", (j) => (j.deviceId = "0".repeat(64)), /deviceId is not the fingerprint/],
      ["a public key of another keypair", (j) => (j.publicKey = DeviceIdentity.generate().publicKey), /publicKey does not belong to privateKey/],
      ["a private key that is not Ed25519 PKCS#8", (j) => (j.privateKey = "bm90IGEga2V5"), /privateKey is not an Ed25519 PKCS#8 key/],
      ["a scope outside the operator set", (j) => (j.scopes = ["operator.read", "admin:*"]), /scopes\[1\] is not an operator scope/],
      ["an empty scope list", (j) => (j.scopes = []), /scopes must be a non-empty array/],
      ["another kind", (j) => (j.kind = "documented-api"), /kind must be "openclaw-device"/],
      ["a missing device token", (j) => delete j.deviceToken, /deviceToken must be a non-empty string/],
      ["an unparseable expiry", (j) => (j.expiresAt = "soon"), /expiresAt must be an ISO 8601 date/],
      ["an unknown environment", (j) => (j.environment = "qa"), /environment must be dev, stage or prod/],
      ["a client without platform", (j) => (j.client = { id: "cli", mode: "cli" }), /client.platform must be a non-empty string/],
    ];

    it.each(cases)("%s", (_what, change, message) => {
      // Prepare
      const credential = sampleCredential();
      const value = tampered(credential, change);

      // Act
      const error = (() => {
        try {
          parseCredential(value);
        } catch (e) {
          return e;
        }
      })();

      // Assess
      expect(error).toBeInstanceOf(CredentialFormatError);
      expect(String(error)).toMatch(message);
      expect(String(error)).not.toContain(credential.deviceToken.reveal());
    });

    it("a value that is not JSON, without quoting it (JSON.parse's own message would)", () => {
      // Prepare
      const secret = "openclaw_gw_live_" + "s".repeat(30);

      // Act
      const error = (() => {
        try {
          parseCredential(new Sensitive(`{"deviceToken": "${secret}"`));
        } catch (e) {
          return e;
        }
      })();

      // Assess
      expect(error).toBeInstanceOf(CredentialFormatError);
      expect(String(error)).toMatch(/not JSON/);
      expect(`${String(error)} ${(error as Error).stack}`).not.toContain(secret);
      expect((error as Error).cause).toBeUndefined();
    });
  });
});

describe("operator scopes", () => {
  it("are the gateway's closed set of ten", () => {
    expect([...ALL_OPERATOR_SCOPES].sort()).toEqual(
      [
        "operator.admin",
        "operator.approvals",
        "operator.pairing",
        "operator.questions",
        "operator.read",
        "operator.sessions.read",
        "operator.sessions.write",
        "operator.talk",
        "operator.talk.secrets",
        "operator.write",
      ].sort(),
    );
    expect(isOperatorScope("operator.read")).toBe(true);
    expect(isOperatorScope("operator.bogus")).toBe(false);
    expect(isOperatorScope("read:agents")).toBe(false);
  });

  it.each([
    [["operator.admin"], OperatorScope.Pairing, true],
    [["operator.admin"], OperatorScope.TalkSecrets, true],
    [["operator.write"], OperatorScope.Read, true],
    [["operator.write"], OperatorScope.Talk, true],
    [["operator.write"], OperatorScope.SessionsWrite, true],
    [["operator.write"], OperatorScope.Admin, false],
    [["operator.write"], OperatorScope.Pairing, false],
    [["operator.read"], OperatorScope.SessionsRead, true],
    [["operator.read"], OperatorScope.Write, false],
    [["operator.sessions.write"], OperatorScope.SessionsRead, true],
    [["operator.pairing"], OperatorScope.Approvals, false],
  ] as Array<[string[], OperatorScope, boolean]>)("held %j satisfies %s: %s", (held, required, expected) => {
    expect(operatorScopeSatisfies(held, required)).toBe(expected);
  });

  it("canonicalise to one order without duplicates, and compare as sets", () => {
    expect(canonicalOperatorScopes([OperatorScope.Write, OperatorScope.Read, OperatorScope.Write])).toEqual([OperatorScope.Read, OperatorScope.Write]);
    expect(sameScopeSet(["operator.write", "operator.read"], ["operator.read", "operator.write"])).toBe(true);
    expect(sameScopeSet(["operator.read"], ["operator.read", "operator.write"])).toBe(false);
  });
});

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, sign } from "node:crypto";
import { inspect } from "node:util";

/**
 * An Ed25519 device keypair, the way the gateway identifies a paired device (docs/gateway/protocol/auth.md,
 * "Device identity and pairing"): the device ID is the SHA-256 hex of the raw 32-byte public key, the public key
 * travels as raw base64url, and signatures are base64url.
 *
 * The private key stays a KeyObject (util.inspect shows no key material) and leaves this class only through
 * `exportPrivateKey()`, which the credential serialiser calls.
 */
export class DeviceIdentity {
  /** sha256(raw public key), lower-case hex: the gateway's `deviceId`. */
  readonly deviceId: string;
  /** The raw 32-byte Ed25519 public key, base64url: the `device.publicKey` of a connect. */
  readonly publicKey: string;
  readonly #privateKey: KeyObject;

  private constructor(privateKey: KeyObject) {
    if (privateKey.asymmetricKeyType !== "ed25519") {
      throw new TypeError(`a device key must be Ed25519, not ${privateKey.asymmetricKeyType ?? "unknown"}`);
    }
    this.#privateKey = privateKey;
    this.publicKey = rawPublicKeyOf(privateKey);
    this.deviceId = deviceIdOf(this.publicKey);
  }

  /** A fresh keypair: one per minted device. */
  static generate(): DeviceIdentity {
    return new DeviceIdentity(generateKeyPairSync("ed25519").privateKey);
  }

  /** The identity whose private key is this PKCS#8 DER, base64url-encoded (as stored in a credential). */
  static fromPkcs8(privateKeyBase64Url: string): DeviceIdentity {
    const key = createPrivateKey({ key: Buffer.from(privateKeyBase64Url, "base64url"), format: "der", type: "pkcs8" });
    return new DeviceIdentity(key);
  }

  /** Ed25519 signature of a UTF-8 payload, base64url: the `device.signature` of a connect. */
  sign(payload: string): string {
    return sign(null, Buffer.from(payload, "utf8"), this.#privateKey).toString("base64url");
  }

  /** The private key as PKCS#8 DER, base64url. Only the credential serialiser should need this. */
  exportPrivateKey(): string {
    return this.#privateKey.export({ format: "der", type: "pkcs8" }).toString("base64url");
  }

  toJSON(): { deviceId: string; publicKey: string } {
    return { deviceId: this.deviceId, publicKey: this.publicKey };
  }

  [inspect.custom](): string {
    return `DeviceIdentity(${this.deviceId})`;
  }
}

/** The gateway's device ID for a raw public key given as base64url. */
export function deviceIdOf(publicKeyBase64Url: string): string {
  return createHash("sha256").update(Buffer.from(publicKeyBase64Url, "base64url")).digest("hex");
}

function rawPublicKeyOf(privateKey: KeyObject): string {
  // An Ed25519 JWK's `x` is exactly the raw public key, base64url.
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  if (typeof jwk.x !== "string") throw new TypeError("could not derive the Ed25519 public key");
  return jwk.x;
}

/** Client metadata of a connect. The v3 signature binds platform and deviceFamily, so they must stay stable. */
export interface DeviceAuthFields {
  readonly deviceId: string;
  readonly clientId: string;
  readonly clientMode: string;
  readonly role: string;
  readonly scopes: readonly string[];
  /** The `ts` of the server's connect.challenge, echoed as `device.signedAt`. */
  readonly signedAtMs: number;
  /** The credential sent in `auth.token` (shared token when pairing, device token afterwards). */
  readonly token: string;
  /** The `nonce` of the server's connect.challenge. */
  readonly nonce: string;
  readonly platform: string;
  readonly deviceFamily?: string;
}

/**
 * The `v3|...` string a device signs in its connect (`buildDeviceAuthPayloadV3` of @openclaw/gateway-client):
 * `v3|deviceId|clientId|clientMode|role|scopes,comma,joined|signedAtMs|token|nonce|platform|deviceFamily`, with
 * platform and deviceFamily trimmed and lower-cased.
 */
export function deviceAuthPayloadV3(fields: DeviceAuthFields): string {
  return [
    "v3",
    fields.deviceId,
    fields.clientId,
    fields.clientMode,
    fields.role,
    fields.scopes.join(","),
    String(fields.signedAtMs),
    fields.token,
    fields.nonce,
    normaliseMetadata(fields.platform),
    normaliseMetadata(fields.deviceFamily),
  ].join("|");
}

function normaliseMetadata(value: string | undefined): string {
  return (value ?? "").trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
}

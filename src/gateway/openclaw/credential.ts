import { Environment, isEnvironment } from "../../domain/environments";
import { TokenOpsError } from "../../domain/errors";
import { Sensitive } from "../../domain/sensitive";
import { DeviceIdentity, deviceIdOf } from "./device-identity";
import { isOperatorScope, OPERATOR_ROLE, OperatorScope } from "./scopes";

/**
 * What an openclaw-devices "token" is: everything a consumer needs to connect as the paired operator device. The
 * stored token value is this object as a JSON string (always inside Sensitive); it holds two secrets, the device
 * token and the Ed25519 private key, and the metadata this project tracks because the gateway does not (expiry).
 *
 *   {
 *     "kind": "openclaw-device", "version": 1,
 *     "deviceId": "<sha256 hex of the raw public key>",
 *     "deviceToken": "<hello-ok.auth.deviceToken>",                 secret
 *     "privateKey": "<Ed25519 PKCS#8 DER, base64url>",               secret
 *     "publicKey": "<raw 32-byte Ed25519 public key, base64url>",
 *     "role": "operator", "scopes": ["operator.read", ...],
 *     "name": "<gateway name of this mint>", "expiresAt": "<ISO 8601>", "environment": "dev",
 *     "client": {"id": "cli", "mode": "cli", "platform": "linux"}
 *   }
 *
 * A consumer connects with `auth.token = deviceToken`, the same role and scopes, and exactly the recorded client
 * id/mode/platform/deviceFamily: the v3 signature binds platform and deviceFamily, and a remote gateway asks for
 * re-approval (PAIRING_REQUIRED, metadata-upgrade) when a paired device shows up with another platform.
 */
export interface DeviceCredential {
  readonly deviceId: string;
  readonly deviceToken: Sensitive;
  readonly identity: DeviceIdentity;
  readonly role: typeof OPERATOR_ROLE;
  readonly scopes: readonly OperatorScope[];
  /** The device's name on the gateway (its pairing displayName): the unique gateway name of the mint. */
  readonly name: string;
  /** Enforced by this project: the gateway has no expiry for device tokens. */
  readonly expiresAt: Date;
  readonly environment: Environment;
  readonly client: PairingClient;
}

/** The client metadata a device was paired with; consumers must present the same. */
export interface PairingClient {
  /** A canonical gateway client ID. @default "cli" */
  readonly id: string;
  /** A gateway client mode. @default "cli" */
  readonly mode: string;
  /** @default "linux" */
  readonly platform: string;
  readonly deviceFamily?: string;
}

export const CREDENTIAL_KIND = "openclaw-device";
export const CREDENTIAL_VERSION = 1;

interface CredentialJson {
  kind: typeof CREDENTIAL_KIND;
  version: typeof CREDENTIAL_VERSION;
  deviceId: string;
  deviceToken: string;
  privateKey: string;
  publicKey: string;
  role: typeof OPERATOR_ROLE;
  scopes: OperatorScope[];
  name: string;
  expiresAt: string;
  environment: Environment;
  client: PairingClient;
}

/** A stored value that is not a well-formed openclaw-devices credential. Names the fields at fault, never values. */
export class CredentialFormatError extends TokenOpsError {
  override name = "CredentialFormatError";
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super("invalid_credential", `not an openclaw-devices credential: ${problems.join("; ")}`, {
      hint: "the secret was edited by hand or belongs to another backend; run pulumi up to mint a new device",
    });
    this.problems = problems;
  }
}

/** The credential as the token value to store. */
export function serializeCredential(credential: DeviceCredential): Sensitive {
  const json: CredentialJson = {
    kind: CREDENTIAL_KIND,
    version: CREDENTIAL_VERSION,
    deviceId: credential.deviceId,
    deviceToken: credential.deviceToken.reveal(),
    privateKey: credential.identity.exportPrivateKey(),
    publicKey: credential.identity.publicKey,
    role: credential.role,
    scopes: [...credential.scopes],
    name: credential.name,
    expiresAt: credential.expiresAt.toISOString(),
    environment: credential.environment,
    client: { ...credential.client },
  };
  return new Sensitive(JSON.stringify(json));
}

/**
 * The credential a stored value holds, checked in full: the keypair must be Ed25519 and consistent, and the device
 * ID must be the fingerprint of its public key. Throws CredentialFormatError; the message never quotes the value
 * (JSON.parse's own message would, so it is not passed on).
 */
export function parseCredential(value: Sensitive): DeviceCredential {
  let raw: unknown;
  try {
    raw = JSON.parse(value.reveal());
  } catch {
    throw new CredentialFormatError(["the value is not JSON"]);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new CredentialFormatError(["the value is not a JSON object"]);
  const json = raw as Partial<Record<keyof CredentialJson, unknown>>;
  const problems: string[] = [];
  const str = (field: keyof CredentialJson): string => {
    const v = json[field];
    if (typeof v !== "string" || v.length === 0) {
      problems.push(`${field} must be a non-empty string`);
      return "";
    }
    return v;
  };

  if (json.kind !== CREDENTIAL_KIND) problems.push(`kind must be "${CREDENTIAL_KIND}"`);
  if (json.version !== CREDENTIAL_VERSION) problems.push(`version must be ${CREDENTIAL_VERSION}`);
  const deviceId = str("deviceId");
  const deviceToken = str("deviceToken");
  const privateKey = str("privateKey");
  const publicKey = str("publicKey");
  const name = str("name");
  if (json.role !== OPERATOR_ROLE) problems.push(`role must be "${OPERATOR_ROLE}"`);
  const scopes = Array.isArray(json.scopes) ? json.scopes : [];
  if (!Array.isArray(json.scopes) || scopes.length === 0) problems.push("scopes must be a non-empty array");
  scopes.forEach((s, i) => isOperatorScope(s) || problems.push(`scopes[${i}] is not an operator scope`));
  const expiresAt = new Date(typeof json.expiresAt === "string" ? json.expiresAt : NaN);
  if (Number.isNaN(expiresAt.getTime())) problems.push("expiresAt must be an ISO 8601 date");
  if (!isEnvironment(json.environment)) problems.push("environment must be dev, stage or prod");
  const client = parseClient(json.client, problems);

  let identity: DeviceIdentity | undefined;
  if (privateKey) {
    try {
      identity = DeviceIdentity.fromPkcs8(privateKey);
    } catch {
      problems.push("privateKey is not an Ed25519 PKCS#8 key");
    }
  }
  if (identity && publicKey && identity.publicKey !== publicKey) problems.push("publicKey does not belong to privateKey");
  if (publicKey && deviceId && deviceIdOf(publicKey) !== deviceId) problems.push("deviceId is not the fingerprint of publicKey");

  if (problems.length > 0 || !identity || !client) throw new CredentialFormatError(problems);
  return {
    deviceId,
    deviceToken: new Sensitive(deviceToken),
    identity,
    role: OPERATOR_ROLE,
    scopes: scopes as OperatorScope[],
    name,
    expiresAt,
    environment: json.environment as Environment,
    client,
  };
}

function parseClient(value: unknown, problems: string[]): PairingClient | undefined {
  if (typeof value !== "object" || value === null) {
    problems.push("client must be an object");
    return undefined;
  }
  const c = value as Record<string, unknown>;
  const before = problems.length;
  for (const field of ["id", "mode", "platform"] as const) {
    if (typeof c[field] !== "string" || c[field] === "") problems.push(`client.${field} must be a non-empty string`);
  }
  if (c.deviceFamily !== undefined && typeof c.deviceFamily !== "string") problems.push("client.deviceFamily must be a string");
  if (problems.length > before) return undefined;
  return {
    id: c.id as string,
    mode: c.mode as string,
    platform: c.platform as string,
    ...(typeof c.deviceFamily === "string" ? { deviceFamily: c.deviceFamily } : {}),
  };
}

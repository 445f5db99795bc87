import { Environment, environmentOfToken, isEnvironment } from "../domain/environments";
import { TokenOpsError } from "../domain/errors";
import { Sensitive } from "../domain/sensitive";
import { BackendKind } from "../gateway/backend";
import { CredentialFormatError, parseCredential } from "../gateway/openclaw/credential";

/**
 * One token as one version of its secret. AWSCURRENT's record is what consumers use; AWSPREVIOUS and AWSPENDING
 * hold the token being retired and the token being introduced. Consumers read `token`; the rest says what it is.
 */
export interface TokenRecord {
  readonly token: Sensitive;
  readonly tokenId: string;
  /** The token's name on the gateway (declared name plus mint stamp). */
  readonly gatewayTokenName: string;
  readonly name: string;
  readonly environment: Environment;
  readonly gatewayUrl: string;
  readonly backend: string;
  readonly scopes: readonly string[];
  readonly issuedAt: Date;
  readonly expiresAt: Date;
}

const SCHEMA_VERSION = 1;

/** Raised when a secret's value is not a record this project wrote (edited by hand, truncated, foreign). */
export class CorruptRecordError extends TokenOpsError {
  override name = "CorruptRecordError";
  constructor(secretName: string, versionId: string, detail: string) {
    super("corrupt_record", `secret ${secretName} version ${versionId} is not a valid token record: ${detail}`, {
      hint:
        "restore the version from AWSPREVIOUS or run `pulumi up` to re-mint the token; do not edit managed secrets by hand",
    });
  }
}

export function serialiseRecord(record: TokenRecord): string {
  return JSON.stringify({
    schema: SCHEMA_VERSION,
    token: record.token.reveal(),
    tokenId: record.tokenId,
    gatewayTokenName: record.gatewayTokenName,
    name: record.name,
    environment: record.environment,
    gatewayUrl: record.gatewayUrl,
    backend: record.backend,
    scopes: record.scopes,
    issuedAt: record.issuedAt.toISOString(),
    expiresAt: record.expiresAt.toISOString(),
  });
}

export function parseRecord(text: string, secretName: string, versionId: string): TokenRecord {
  const fail = (detail: string): never => {
    throw new CorruptRecordError(secretName, versionId, detail);
  };
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return fail("the value is not JSON");
  }
  if (typeof raw !== "object" || raw === null) return fail("the value is not a JSON object");
  if (raw.schema !== SCHEMA_VERSION) fail(`schema is ${String(raw.schema)}, expected ${SCHEMA_VERSION}`);
  const str = (key: string): string =>
    typeof raw[key] === "string" && raw[key] !== "" ? (raw[key] as string) : fail(`field "${key}" is missing`);
  const date = (key: string): Date => {
    const d = new Date(str(key));
    return Number.isNaN(d.getTime()) ? fail(`field "${key}" is not a timestamp`) : d;
  };
  const token = str("token");
  const environment = str("environment");
  if (!isEnvironment(environment)) fail(`environment "${environment}" is unknown`);
  if (!Array.isArray(raw.scopes) || !raw.scopes.every((s) => typeof s === "string")) fail(`field "scopes" is not a list`);
  const valueProblem = valueProblemOf(raw.backend, token, environment as Environment, raw.tokenId);
  if (valueProblem) fail(valueProblem);
  return {
    token: new Sensitive(token),
    tokenId: str("tokenId"),
    gatewayTokenName: str("gatewayTokenName"),
    name: str("name"),
    environment: environment as Environment,
    gatewayUrl: str("gatewayUrl"),
    backend: str("backend"),
    scopes: raw.scopes as string[],
    issuedAt: date("issuedAt"),
    expiresAt: date("expiresAt"),
  };
}

/**
 * Whether a token value belongs to the record's environment (and token), as far as its backend lets one tell from the
 * value alone: a documented-API token carries the environment's prefix; an openclaw-devices value is a device
 * credential (src/gateway/openclaw/credential.ts) that names its environment and device. Never quotes the value.
 */
function valueProblemOf(backend: unknown, token: string, environment: Environment, tokenId: unknown): string | undefined {
  switch (backend) {
    case BackendKind.DocumentedApi:
      return environmentOfToken(token) === environment ? undefined : `the token does not carry the ${environment} prefix`;
    case BackendKind.OpenClawDevices: {
      let credential;
      try {
        credential = parseCredential(new Sensitive(token));
      } catch (error) {
        if (error instanceof CredentialFormatError) return `the token is not an openclaw-devices credential (${error.problems.join("; ")})`;
        throw error;
      }
      if (credential.environment !== environment) return `the token is a ${credential.environment} device credential, not a ${environment} one`;
      if (credential.deviceId !== tokenId) return `the token is the credential of device ${credential.deviceId}, not of ${String(tokenId)}`;
      return undefined;
    }
    default:
      // A backend this version does not know: its values cannot be judged here; the backend field is kept as read.
      return undefined;
  }
}

import { randomBytes } from "node:crypto";
import { Environment, TOKEN_PREFIX } from "../../src/domain/environments";
import { Sensitive } from "../../src/domain/sensitive";
import { TokenRecord } from "../../src/store/record";

/** A well-formed record for store tests; the token is random, shaped like a real one of `environment`. */
export function sampleRecord(overrides: Partial<TokenRecord> & { environment?: Environment } = {}): TokenRecord {
  const environment = overrides.environment ?? "dev";
  const issuedAt = overrides.issuedAt ?? new Date("2026-11-01T00:00:00Z");
  return {
    token: new Sensitive(TOKEN_PREFIX[environment] + randomBytes(24).toString("base64url")),
    tokenId: `tok_${randomBytes(8).toString("hex")}`,
    gatewayTokenName: "ci-runner-20261101t000000z-abcdef",
    name: "ci-runner",
    environment,
    gatewayUrl: "http://127.0.0.1:1",
    backend: "documented-api",
    scopes: ["run:jobs"],
    issuedAt,
    expiresAt: new Date(issuedAt.getTime() + 30 * 86400_000),
    ...overrides,
  };
}


import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { TOKEN_PREFIX, type Environment } from "../src/domain/environments";
import { Sensitive } from "../src/domain/sensitive";

/**
 * Token values: `<prefix><lookup id><secret>`.
 *
 * - prefix: TOKEN_PREFIX[environment], so a value names the environment that minted it;
 * - lookup id: 12 base64url chars (9 random bytes), stored in clear so a record is found without a scan;
 * - secret: 43 base64url chars (32 random bytes); only sha256(value) is ever stored.
 */
export const LOOKUP_ID_LENGTH = 12;
export const MIN_SECRET_LENGTH = 32;
const SECRET_BYTES = 32;
const LOOKUP_ID_BYTES = 9;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export interface MintedValue {
  readonly value: Sensitive;
  readonly lookupId: string;
  readonly sha256: string;
}

export function mintTokenValue(environment: Environment): MintedValue {
  const lookupId = randomBytes(LOOKUP_ID_BYTES).toString("base64url");
  const secret = randomBytes(SECRET_BYTES).toString("base64url");
  const value = `${TOKEN_PREFIX[environment]}${lookupId}${secret}`;
  return { value: new Sensitive(value), lookupId, sha256: hashTokenValue(value) };
}

/** Token IDs are random and independent of the value, so an ID in a log reveals nothing about the secret. */
export function newTokenId(): string {
  return `tok_${randomBytes(8).toString("hex")}`;
}

export function hashTokenValue(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

/**
 * The lookup id of a value minted for `environment`, or undefined when the value cannot be one of ours
 * (another environment's prefix, too short, characters outside base64url).
 */
export function lookupIdOf(value: string, environment: Environment): string | undefined {
  const prefix = TOKEN_PREFIX[environment];
  if (!value.startsWith(prefix)) return undefined;
  const rest = value.slice(prefix.length);
  if (rest.length < LOOKUP_ID_LENGTH + MIN_SECRET_LENGTH || !BASE64URL.test(rest)) return undefined;
  return rest.slice(0, LOOKUP_ID_LENGTH);
}

/** Whether `value` hashes to `sha256Hex`, compared in constant time so response timing leaks nothing. */
export function valueMatchesHash(value: string, sha256Hex: string): boolean {
  const presented = createHash("sha256").update(value, "utf8").digest();
  const stored = Buffer.from(sha256Hex, "hex");
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}

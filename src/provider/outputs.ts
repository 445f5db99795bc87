import { GatewayTokenInputs } from "./inputs";

/**
 * What a GatewayToken keeps in Pulumi state: its checked inputs (the admin token as a Pulumi secret) and where the
 * token lives. Never the token value. `tokenId` and `expiresAt` are those of the token the last Pulumi operation
 * minted; the rotator moves on from there without touching state, so that neither `up` nor `refresh` shows a
 * rotation as a change. The current token's ID and expiry are in the ledger (`openclaw-tokens status`).
 */
export interface GatewayTokenOutputs extends GatewayTokenInputs {
  readonly secretArn: string;
  readonly tokenId: string;
  readonly expiresAt: string;
  /** What refresh found: anything but "active" is drift that the next `pulumi up` repairs by minting anew. */
  readonly tokenStatus: TokenHealth;
}

export const TokenHealth = {
  Active: "active",
  Revoked: "revoked",
  Expired: "expired",
  /** AWSCURRENT no longer holds the value the ledger recorded (moved or overwritten by someone else). */
  Mismatch: "mismatch",
} as const;
export type TokenHealth = (typeof TokenHealth)[keyof typeof TokenHealth];

/** Inputs whose change means a different token in a different place: the old one is destroyed. */
export const REPLACE_ON_CHANGE = ["name", "environment", "gatewayUrl", "secretName", "backend", "awsRegion", "ledgerTable"] as const;

/** Inputs changed in place (scopes through a dual-active swap; the rest are metadata). */
export const UPDATE_IN_PLACE = [
  "scopes",
  "ttl",
  "rotationFraction",
  "allowAdminScope",
  "recoveryWindowDays",
  "adminToken",
  "consumerCacheTtl",
] as const;

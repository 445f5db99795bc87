import { createHash } from "node:crypto";
import { Sensitive } from "../domain/sensitive";

/**
 * SHA-256 of a token value, hex. The ledger keeps it beside each token's Secrets Manager version, so that a value read
 * back is used only if it is the one that was stored (a value is as sensitive as a password; a digest of a
 * high-entropy random token reveals nothing usable, as the gateway's own hashed storage relies on).
 */
export function fingerprint(value: Sensitive): string {
  return createHash("sha256").update(value.reveal()).digest("hex");
}

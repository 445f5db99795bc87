import { randomBytes } from "node:crypto";
import { TokenOpsError } from "../domain/errors";
import { GatewayBackend, gatewayTokenName, IssuedToken } from "./backend";
import { AmbiguousOutcomeError } from "./errors";

/**
 * Mints a token under a fresh unique gateway name. If the gateway's answer is lost (timeout, reset, 5xx), whatever
 * it may have minted under that name is found and revoked before the error is returned: no orphan tokens.
 */
export async function mintUnique(
  backend: GatewayBackend,
  request: { declaredName: string; scopes: readonly string[]; expiresAt: Date; now: Date },
): Promise<IssuedToken> {
  const name = gatewayTokenName(request.declaredName, request.now, randomBytes(3).toString("hex"));
  try {
    return await backend.mint({ name, scopes: request.scopes, expiresAt: request.expiresAt });
  } catch (error) {
    if (error instanceof AmbiguousOutcomeError) await revokeAllNamed(backend, name, error);
    throw error;
  }
}

/** Revokes every token under `name`; used to clean up after a mint whose outcome is unknown. */
export async function revokeAllNamed(backend: GatewayBackend, name: string, cause: unknown): Promise<void> {
  try {
    for (const token of await backend.findByName(name)) await backend.revoke(token.id);
  } catch (cleanupError) {
    throw new TokenOpsError(
      "orphan_risk",
      `a mint of "${name}" failed with an unknown outcome and the clean-up failed too`,
      {
        hint: `revoke any token named "${name}" on ${backend.url} by hand; clean-up error: ${String(cleanupError)}`,
        cause,
      },
    );
  }
}

/**
 * Runs `use` with a token just minted; if it throws, the token is revoked before the error goes on, so that a
 * token that was never stored is never left live.
 */
export async function revokeOnFailure<T>(backend: GatewayBackend, tokenId: string, use: () => Promise<T>): Promise<T> {
  try {
    return await use();
  } catch (error) {
    try {
      await backend.revoke(tokenId);
    } catch (revokeError) {
      throw new TokenOpsError("orphan_risk", `token ${tokenId} was minted but could not be stored or revoked`, {
        hint: `revoke token ${tokenId} on ${backend.url} by hand (store error: ${String(error)}; revoke error: ${String(revokeError)})`,
        cause: error,
      });
    }
    throw error;
  }
}

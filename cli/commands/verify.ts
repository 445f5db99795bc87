import { formatDuration } from "../../src/domain/duration";
import { GatewayError } from "../../src/gateway/errors";
import { deriveState, Phase } from "../../src/rotation/state";
import { shortDate } from "../../src/status/table";
import { Stage, StoredSecret } from "../../src/store/token-store";
import { CliContext } from "../context";
import { CommandFailedError } from "../errors";
import { ExitCode } from "../output";

/** `verify NAME`: whoami with the token consumers read (AWSCURRENT), checked against what the record says. */
export async function verify(ctx: CliContext, name: string): Promise<ExitCode> {
  const secret = await ctx.findToken(name);
  const record = await ctx.store.read(secret.name, Stage.Current);
  if (!record) {
    throw new CommandFailedError("no_current_version", `${secret.name} has no AWSCURRENT version`, {
      hint: "restore AWSCURRENT from AWSPREVIOUS, or run pulumi up to re-create the token",
    });
  }
  const backend = await ctx.backend();
  if (record.gatewayUrl.replace(/\/+$/, "") !== backend.url) {
    // A credential goes only to the gateway that issued it.
    throw new CommandFailedError("gateway_mismatch", `${name}'s token belongs to ${record.gatewayUrl}; refusing to send it to ${backend.url}`, {
      hint: "drop --gateway-url (or OPENCLAW_GATEWAY_URL), or point it at the token's own gateway",
    });
  }
  refuseFakeTraffic(backend.trafficShowsCaller, secret, name);

  const who = await backend.whoami(record.token).catch((error: unknown) => {
    if (!(error instanceof GatewayError) || error.status === undefined || error.status >= 500) throw error;
    // The guide's failure mode (invalid, expired, scope) with its fix; the value itself is never part of it.
    throw new CommandFailedError(error.code, `${name}: the gateway refused the stored token ${record.tokenId} (AWSCURRENT of ${secret.name}): ${error.message.replace(/\. Fix: .*$/s, "")}`, {
      hint: error.hint,
      cause: error,
    });
  });

  const problems: string[] = [];
  if (who.id !== record.tokenId) problems.push(`it answers as token ${who.id}, but the record says ${record.tokenId}`);
  const sorted = (s: readonly string[]) => [...s].sort().join(",");
  if (sorted(who.scopes) !== sorted(record.scopes)) problems.push(`it has scopes ${sorted(who.scopes)}, but the record says ${sorted(record.scopes)}`);
  if (problems.length) {
    throw new CommandFailedError("verify_mismatch", `${name}: the gateway accepts the stored token, but ${problems.join("; ")}`, {
      hint: "the secret no longer matches the gateway; run `openclaw-tokens rotate " + name + "` to issue a token that does",
    });
  }

  const now = ctx.clock.now();
  const remainingSeconds = who.expiresAt ? Math.max(0, Math.round((who.expiresAt.getTime() - now.getTime()) / 1000)) : null;
  const ttlSeconds = Math.round((record.expiresAt.getTime() - record.issuedAt.getTime()) / 1000);
  ctx.output.data({
    name,
    secretName: secret.name,
    ok: true,
    tokenId: who.id,
    gatewayTokenName: who.name,
    scopes: who.scopes,
    expiresAt: who.expiresAt?.toISOString() ?? null,
    remainingSeconds,
  });
  ctx.output.text(
    [
      `${name}: OK, the gateway accepts the stored token.`,
      `  token ID   ${who.id} (${who.name})`,
      `  scopes     ${who.scopes.join(", ")}`,
      `  expires    ${who.expiresAt ? shortDate(who.expiresAt) : "never"}`,
      `  remaining  ${remainingSeconds === null ? "no expiry" : `${formatDuration(remainingSeconds)} of ${formatDuration(ttlSeconds)} TTL`}`,
    ].join("\n"),
  );
  return ExitCode.Ok;
}

/**
 * A real OpenClaw gateway keeps no request log: the rotator takes any use of the new token after promotion as
 * consumers having moved. A whoami (a device connect) while the token drains would be taken for that, and the old
 * token revoked under consumers still using it. The documented API tells this CLI's calls apart by User-Agent.
 */
function refuseFakeTraffic(trafficShowsCaller: boolean, secret: StoredSecret, name: string): void {
  const meta = secret.metadata;
  if (trafficShowsCaller || "problems" in meta || deriveState(secret, meta).phase !== Phase.Draining) return;
  throw new CommandFailedError(
    "verify_would_fake_traffic",
    `${name} is draining, and on an OpenClaw gateway a connect with the new token counts as a consumer's: verifying now could get the old token ${meta.retiringTokenId} revoked before consumers have moved`,
    { hint: "wait until `openclaw-tokens status` no longer shows it draining, or check from a consumer's own logs that the new token works" },
  );
}

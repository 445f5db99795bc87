import { formatDuration } from "../../src/domain/duration";
import { GatewayError } from "../../src/gateway/errors";
import { fingerprint } from "../../src/ledger/fingerprint";
import { LedgerEntry, LedgerPhase } from "../../src/ledger/ledger";
import { shortDate } from "../../src/status/table";
import { Stage } from "../../src/store/token-store";
import { CliContext } from "../context";
import { CommandFailedError } from "../errors";
import { ExitCode } from "../output";

/**
 * `verify NAME`: whoami with the token consumers read (AWSCURRENT), checked against the ledger: the value must be the
 * one recorded, and the gateway must answer with the recorded ID and the declared scopes.
 */
export async function verify(ctx: CliContext, name: string): Promise<ExitCode> {
  const entry = await ctx.findToken(name);
  const secret = { name: entry.declaration.secretName };
  const expected = entry.state.current;
  const record = await ctx.store.read(secret.name, Stage.Current);
  if (!record || !expected) {
    throw new CommandFailedError("no_current_version", `${secret.name} has no AWSCURRENT version${expected ? "" : " recorded in the ledger"}`, {
      hint: "run `openclaw-tokens rotate " + name + "` (or pulumi up) to issue a token",
    });
  }
  const backend = await ctx.backend();
  if (entry.declaration.gatewayUrl.replace(/\/+$/, "") !== backend.url) {
    // A credential goes only to the gateway its declaration names.
    throw new CommandFailedError("gateway_mismatch", `${name}'s token belongs to ${entry.declaration.gatewayUrl}; refusing to send it to ${backend.url}`, {
      hint: "drop --gateway-url (or OPENCLAW_GATEWAY_URL), or point it at the token's own gateway",
    });
  }
  if (fingerprint(record.token) !== expected.valueSha256) {
    // A value someone else wrote is not sent anywhere: it may be another credential altogether.
    throw new CommandFailedError("verify_mismatch", `${name}: AWSCURRENT of ${secret.name} does not hold the value the ledger recorded for token ${expected.tokenId}`, {
      hint: "someone wrote the secret outside this tool; run `openclaw-tokens rotate " + name + "` (or pulumi up) to issue a token, and find out who wrote it",
    });
  }
  refuseFakeTraffic(backend.trafficShowsCaller, entry, name);

  const who = await backend.whoami(record.token).catch((error: unknown) => {
    if (!(error instanceof GatewayError) || error.status === undefined || error.status >= 500) throw error;
    // The guide's failure mode (invalid, expired, scope) with its fix; the value itself is never part of it.
    throw new CommandFailedError(error.code, `${name}: the gateway refused the stored token ${record.tokenId} (AWSCURRENT of ${secret.name}): ${error.message.replace(/\. Fix: .*$/s, "")}`, {
      hint: error.hint,
      cause: error,
    });
  });

  const problems: string[] = [];
  if (who.id !== expected.tokenId) problems.push(`it answers as token ${who.id}, but the ledger says ${expected.tokenId}`);
  const sorted = (s: readonly string[]) => [...s].sort().join(",");
  if (sorted(who.scopes) !== sorted(entry.declaration.scopes)) problems.push(`it has scopes ${sorted(who.scopes)}, but the declaration says ${sorted(entry.declaration.scopes)}`);
  if (problems.length) {
    throw new CommandFailedError("verify_mismatch", `${name}: the gateway accepts the stored token, but ${problems.join("; ")}`, {
      hint: "the secret no longer matches the gateway; run `openclaw-tokens rotate " + name + "` to issue a token that does",
    });
  }

  const now = ctx.clock.now();
  const remainingSeconds = who.expiresAt ? Math.max(0, Math.round((who.expiresAt.getTime() - now.getTime()) / 1000)) : null;
  const ttlSeconds = Math.round((expected.expiresAt.getTime() - expected.issuedAt.getTime()) / 1000);
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
function refuseFakeTraffic(trafficShowsCaller: boolean, entry: LedgerEntry, name: string): void {
  if (trafficShowsCaller || entry.state.phase !== LedgerPhase.Draining) return;
  throw new CommandFailedError(
    "verify_would_fake_traffic",
    `${name} is draining, and on an OpenClaw gateway a connect with the new token counts as a consumer's: verifying now could get the old token ${entry.state.retiring?.tokenId} revoked before consumers have moved`,
    { hint: "wait until `openclaw-tokens status` no longer shows it draining, or check from a consumer's own logs that the new token works" },
  );
}

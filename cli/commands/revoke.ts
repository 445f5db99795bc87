import { CliContext } from "../context";
import { ExitCode } from "../output";

/**
 * `revoke NAME --emergency`: the leak response. Every live token of the secret is revoked at once and confirmed
 * refused, then a replacement becomes AWSCURRENT. Consumers fail until they read the new value.
 */
export async function revokeEmergency(ctx: CliContext, name: string): Promise<ExitCode> {
  const secret = { name: (await ctx.findToken(name)).declaration.secretName };
  const engine = await ctx.engine();

  const result = await engine.emergencyRevoke(secret.name);

  const seconds = (result.elapsedMs / 1000).toFixed(2);
  ctx.output.data({ name, secretName: secret.name, ...result });
  ctx.output.text(
    [
      `${name}: emergency revocation done in ${seconds}s.`,
      `Revoked:   ${result.revokedTokenIds.join(", ")} (the gateway refuses ${result.revokedTokenIds.length > 1 ? "them" : "it"} from now on)`,
      `New token: ${result.newTokenId} (AWSCURRENT of ${secret.name})`,
      `Next: consumers are refused until they read the new value from ${secret.name}; restart or reload them now, ` +
        "then find out how the token leaked.",
    ].join("\n"),
  );
  return ExitCode.Ok;
}

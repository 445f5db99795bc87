import { Scope } from "../../src/domain/scopes";
import { TokenOpsError } from "../../src/domain/errors";
import { BackendKind } from "../../src/gateway/backend";
import { InvalidTokenError, TokenExpiredError } from "../../src/gateway/errors";
import { isLeaseFree, LedgerPhase } from "../../src/ledger/ledger";
import { Environment } from "../../src/domain/environments";
import { checkInputs, GatewayTokenInputs } from "../../src/provider/inputs";
import { createProviderRuntime, defaultDependencies } from "../../src/provider/runtime";
import { ROTATOR_CREDENTIAL_NAME, rotatorCredentialSecretName } from "../../src/store/metadata";
import { readRotatorCredential } from "../../src/store/rotator-credential";
import { CliContext } from "../context";
import { CommandFailedError } from "../errors";
import { ExitCode } from "../output";

/**
 * The rotator credential's declaration: token management alone, a week's TTL (rotated at 80%, so about every 5.6
 * days), and a consumer cache TTL that covers the rotator's own hold on it (each invocation reads it afresh, and a run
 * lasts at most the function's 15-minute limit; a pulumi or CLI operation reads it once): the drain revokes the old
 * one only after that has passed.
 */
export const ROTATOR_CREDENTIAL_DECLARATION = { scopes: [Scope.AdminTokens], ttl: "7d", consumerCacheTtl: "1h", rotationFraction: 0.8 } as const;

/**
 * `bootstrap-rotator`: creates the environment's rotator credential (openclaw-admin/<env>/rotator and its ledger
 * entry) with the break-glass token given for this command, or replaces it when it no longer works. The rotator then
 * rotates it like any other token; the break-glass token stays with the human who ran this.
 */
export async function bootstrapRotator(ctx: CliContext): Promise<ExitCode> {
  const { environment, breakGlassToken, ledgerTable } = ctx.options;
  if (!breakGlassToken) {
    throw new CommandFailedError("break_glass_required", "bootstrap-rotator mints with the break-glass admin token, and none was given", {
      hint: "export OPENCLAW_ADMIN_TOKEN with the gateway's admin:* token for this command (read it from your password manager; never pass it as a flag)",
    });
  }
  const gateway = await ctx.gateway();
  if (gateway.kind !== BackendKind.DocumentedApi) {
    throw new CommandFailedError("bootstrap_unsupported", `the ${gateway.kind} backend has no token-management scope to give the rotator`, {
      hint: "an openclaw-devices rotator keeps OpenClaw's shared token in openclaw-admin/<env>/gateway (docs/gateway-api.md, \"Rotator credential on openclaw-devices\")",
    });
  }
  const secretName = rotatorCredentialSecretName(environment);
  const existing = await ctx.ledger.get(secretName);
  // Nothing else serialises two bootstraps (pulumi up has its stack lock): one whose lease is live is still running.
  if (existing?.state.phase === LedgerPhase.Creating && !isLeaseFree(existing.lease, "", ctx.clock.now())) {
    throw new CommandFailedError("bootstrap_busy", `another bootstrap-rotator is creating ${secretName} right now (${existing.lease?.owner})`, {
      hint: "wait for it to finish, then run bootstrap-rotator again to check the credential; if it died, run again after its lease expires (25 minutes)",
    });
  }
  // No entry, or one left by a bootstrap that died mid-way (the provider's create resumes it, revoking its mint).
  if (!existing || existing.state.phase === LedgerPhase.Creating) {
    const inputs = rotatorCredentialInputs({ environment, gatewayUrl: gateway.url, ledgerTable, breakGlassToken: breakGlassToken.reveal() });
    await createProviderRuntime({ ...defaultDependencies, clock: ctx.clock }).create(inputs);
    return report(ctx, "created");
  }
  const working = await credentialWorks(ctx);
  if (working === true) return report(ctx, "in-place");
  ctx.output.warn(`the rotator credential does not work (${working}); issuing a new one with the break-glass token`);
  const outcome = await (await ctx.engine()).rotateNow(secretName);
  if (outcome !== "waiting" && outcome !== "completed") {
    throw new CommandFailedError(`bootstrap_${outcome}`, `replacing the rotator credential ended ${outcome} (see the error above)`, {
      hint: "fix the cause named above and run bootstrap-rotator again",
    });
  }
  return report(ctx, "replaced");
}

/** The credential's declaration as the provider takes it, minted with the break-glass token. */
export function rotatorCredentialInputs(args: { environment: Environment; gatewayUrl: string; ledgerTable: string; breakGlassToken: string }): GatewayTokenInputs {
  const checked = checkInputs({
    ...ROTATOR_CREDENTIAL_DECLARATION,
    scopes: [...ROTATOR_CREDENTIAL_DECLARATION.scopes],
    name: ROTATOR_CREDENTIAL_NAME,
    environment: args.environment,
    gatewayUrl: args.gatewayUrl,
    backend: BackendKind.DocumentedApi,
    adminToken: args.breakGlassToken,
    secretName: rotatorCredentialSecretName(args.environment),
    allowAdminScope: true,
    ledgerTable: args.ledgerTable,
    recoveryWindowDays: 7,
  });
  if (!checked.ok) throw new CommandFailedError("bootstrap_invalid", checked.problems.map((p) => `${p.field}: ${p.message}`).join("; "));
  return checked.inputs;
}

/** True when the credential's AWSCURRENT is the recorded token and the gateway accepts it; else why not. */
async function credentialWorks(ctx: CliContext): Promise<true | string> {
  try {
    const credential = await readRotatorCredential(ctx.secretsManager, ctx.ledger, ctx.options.environment);
    await (await ctx.backend()).whoami(credential);
    return true;
  } catch (error) {
    if (error instanceof InvalidTokenError || error instanceof TokenExpiredError) return "the gateway refuses it";
    if (error instanceof TokenOpsError && error.code === "rotator_credential_mismatch") return "its secret holds a value the ledger does not record";
    throw error;
  }
}

/** Proves the credential with whoami (token management alone) and says what happens next. */
async function report(ctx: CliContext, outcome: "created" | "in-place" | "replaced"): Promise<ExitCode> {
  const secretName = rotatorCredentialSecretName(ctx.options.environment);
  const credential = await readRotatorCredential(ctx.secretsManager, ctx.ledger, ctx.options.environment);
  const who = await (await ctx.backend()).whoami(credential);
  if (who.scopes.length !== 1 || who.scopes[0] !== Scope.AdminTokens) {
    throw new CommandFailedError("bootstrap_scopes", `the rotator credential ${who.id} has scopes ${who.scopes.join(", ")}, not ${Scope.AdminTokens} alone`, {
      hint: "revoke it with the break-glass token and run bootstrap-rotator again",
    });
  }
  ctx.output.data({ outcome, secretName, tokenId: who.id, scopes: who.scopes, expiresAt: who.expiresAt?.toISOString() ?? null });
  const what = { created: "created", "in-place": "already in place and working", replaced: "replaced" }[outcome];
  ctx.output.text(
    [
      `The rotator credential ${secretName} is ${what}: token ${who.id}, ${Scope.AdminTokens} only, expires ${who.expiresAt?.toISOString() ?? "never"}.`,
      "The rotator rotates it itself from now on. Put the break-glass token back where it is kept; nothing stored it.",
    ].join("\n"),
  );
  return ExitCode.Ok;
}

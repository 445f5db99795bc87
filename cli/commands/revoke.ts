import { EmergencyResult } from "../../src/rotation/engine";
import { CliContext } from "../context";
import { ExitCode } from "../output";

/**
 * `revoke NAME --emergency`: the leak response. Every live token of the secret is revoked at once and confirmed
 * refused, then a replacement becomes AWSCURRENT. Consumers fail until they read the new value. It ends with the
 * guide's leak checklist: what this command did, and what remains for the operator.
 */
export async function revokeEmergency(ctx: CliContext, name: string): Promise<ExitCode> {
  const secret = { name: (await ctx.findToken(name)).declaration.secretName };
  const engine = await ctx.engine();
  const startedAt = ctx.clock.now();

  const result = await engine.emergencyRevoke(secret.name);

  const seconds = (result.elapsedMs / 1000).toFixed(2);
  const checklist = leakChecklist({ name, secretName: secret.name, environment: ctx.options.environment, startedAt, result });
  ctx.output.data({ name, secretName: secret.name, ...result, checklist });
  ctx.output.text(
    [
      `${name}: emergency revocation done in ${seconds}s.`,
      `Revoked:   ${result.revokedTokenIds.join(", ")} (the gateway refuses ${result.revokedTokenIds.length > 1 ? "them" : "it"} from now on)`,
      `New token: ${result.newTokenId} (AWSCURRENT of ${secret.name})`,
      `Next: consumers are refused until they read the new value from ${secret.name}; restart or reload them now, ` +
        "then find out how the token leaked.",
      "",
      "Leak checklist (the gateway-token guide's \"What to Do When a Token Leaks\"):",
      ...checklist.map((item, i) => `  ${item.done ? "[done]" : "[todo]"} ${i + 1}. ${item.step}: ${item.detail}`),
    ].join("\n"),
  );
  return ExitCode.Ok;
}

export interface ChecklistItem {
  readonly step: string;
  readonly done: boolean;
  readonly detail: string;
}

interface LeakFacts {
  readonly name: string;
  readonly secretName: string;
  readonly environment: string;
  /** When this command started: the audit window should reach back before the leak, at least to here. */
  readonly startedAt: Date;
  readonly result: EmergencyResult;
}

/** The guide's seven steps, each marked done by this command or left to the operator with the command to run. */
export function leakChecklist({ name, secretName, environment, startedAt, result }: LeakFacts): ChecklistItem[] {
  const revoked = result.revokedTokenIds.join(", ");
  const tokenIds = result.revokedTokenIds.map((id) => ` --token-id ${id}`).join("");
  const audit = `openclaw-tokens audit ${name} --environment ${environment} --since 7d --new-after <when it leaked>${result.revokedTokenIds.length === 1 ? tokenIds : ""}`;
  return [
    { step: "Revoke immediately", done: true, detail: `${revoked} revoked at ${startedAt.toISOString()}, ${(result.elapsedMs / 1000).toFixed(2)}s in all` },
    { step: "Confirm revocation", done: true, detail: `whoami with ${result.revokedTokenIds.length > 1 ? "each revoked token" : "the revoked token"} answers 401` },
    { step: "Audit recent activity", done: false, detail: `check the request log for calls you did not make: ${audit}` },
    { step: "Generate a replacement", done: true, detail: `${result.newTokenId}, same scopes, a new name on the gateway` },
    { step: "Deploy the replacement", done: false, detail: `consumers are refused until they reload ${secretName} (AWSCURRENT): restart or reload them now` },
    { step: "Rotate dependent secrets", done: false, detail: "anything the token could read (provider keys, admin configs) is to be rotated too" },
    { step: "Post-mortem", done: false, detail: "how did it leak (source control, a log file, a chat message)? Close that path" },
  ];
}

import { formatDuration } from "../../src/domain/duration";
import { TokenOutcome } from "../../src/rotation/engine";
import { LedgerEntry } from "../../src/ledger/ledger";
import { CliContext } from "../context";
import { CommandFailedError } from "../errors";
import { ExitCode } from "../output";

/**
 * `rotate NAME`: the rotator's own steps, run here and now. A token at rest gets a new token as AWSCURRENT while
 * the old one stays valid; a token already draining has its old token revoked if consumers have moved.
 */
export async function rotate(ctx: CliContext, name: string): Promise<ExitCode> {
  const entry = await ctx.findToken(name);
  const secret = { name: entry.declaration.secretName };
  const before = view(entry);
  const engine = await ctx.engine();

  const outcome = await engine.rotateNow(secret.name);

  const failure = FAILURES[outcome];
  if (failure) throw new CommandFailedError(`rotate_${outcome}`, `${name}: ${failure.message}`, { hint: failure.hint });
  const afterEntry = await ctx.ledger.get(secret.name);
  const after = afterEntry ? view(afterEntry) : undefined;
  const phase = afterEntry?.state.phase;
  const quiet = formatDuration(ctx.options.quietPeriodMs / 1000);

  ctx.output.data({
    name,
    secretName: secret.name,
    outcome,
    phase: phase ?? null,
    previousTokenId: before?.tokenId ?? null,
    tokenId: after?.tokenId ?? null,
    retiringTokenId: after?.retiringTokenId ?? null,
  });
  if (outcome === "consumers-still-on-old-token") {
    ctx.output.warn(`${name}: consumers still used the old token at its deadline; they are refused until they read the new value from ${secret.name}`);
  }
  const lines = explain({ name, secretName: secret.name, outcome, before, after, quiet });
  ctx.output.text(lines.join("\n"));
  return ExitCode.Ok;
}

interface Explained {
  readonly name: string;
  readonly secretName: string;
  readonly outcome: TokenOutcome;
  readonly before: TokenView | undefined;
  readonly after: TokenView | undefined;
  readonly quiet: string;
}

/** What happened, and what happens next, in a few sentences. */
function explain({ name, secretName, outcome, before, after, quiet }: Explained): string[] {
  const minted = after !== undefined && after.tokenId !== before?.tokenId;
  const lines = minted ? [`${name}: new token ${after.tokenId} is now AWSCURRENT of ${secretName}.`] : [];
  if (outcome === "waiting" && after?.retiringTokenId) {
    if (!minted) lines.push(`${name}: a rotation is already under way; ${after.tokenId} is AWSCURRENT.`);
    return [
      ...lines,
      `The old token ${after.retiringTokenId} stays valid (AWSPREVIOUS) so that consumers keep working.`,
      `Next: consumers pick up the new value when they next read the secret. A later scheduled run revokes ` +
        `${after.retiringTokenId} once traffic shows up under ${after.tokenId} and the old token has gone unused for the ` +
        `rotator's quiet period (and in any case before it expires). Follow it with \`openclaw-tokens status\`, or run ` +
        `\`openclaw-tokens rotate ${name}\` again to revoke it yourself once consumers have moved (quiet period: ${quiet}).`,
    ];
  }
  if (outcome === "completed" || outcome === "consumers-still-on-old-token") {
    const revoked = before?.retiringTokenId && !after?.retiringTokenId ? ` the old token ${before.retiringTokenId} is revoked, and` : "";
    return [...lines, `${name}: rotation complete;${revoked} ${after?.tokenId} is the only valid token.`];
  }
  return minted ? lines : [`${name}: ${outcome}; nothing changed.`];
}

/** Outcomes in which the rotation did not happen, with what to do about each. */
const FAILURES: Partial<Record<TokenOutcome, { readonly message: string; readonly hint: string }>> = {
  busy: {
    message: "another rotator run is working on this token right now",
    hint: "wait a few minutes and run the command again (a run's lease expires after 10m)",
  },
  failed: {
    message: "the rotation did not complete (see the error above); what it did is recorded, and the next run (scheduled, or this command again) resumes from there",
    hint: "fix the cause named above and run the command again",
  },
  "bad-state": {
    message: "the token's secret is in a state this project did not leave it in (see the error above); the rotator will not touch it",
    hint: "repair it as the error above says, then run the command again",
  },
};

interface TokenView {
  readonly tokenId: string | undefined;
  readonly retiringTokenId: string | undefined;
}

function view(entry: LedgerEntry): TokenView {
  return { tokenId: entry.state.current?.tokenId, retiringTokenId: entry.state.retiring?.tokenId };
}

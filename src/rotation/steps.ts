/**
 * The rotation's steps, one function per ledger phase, in execution order. Each step reads only the ledger (the
 * declaration and the rotation state) and what the gateway says; Secrets Manager is where values are written for
 * consumers, and a value read back is used only if its digest is the one the ledger recorded. Every ledger write is
 * conditional on the version this actor last wrote (FencedEntry), so an actor that lost the token stops at its next
 * write. Every step is safe to run again after a crash at any point inside it.
 *
 *   idle      --due-->  intent: rotation ID, unique mint name, new version ID          [intent-recorded]
 *   minting   ------->  (resumed: revoke what the old name minted; new name and version)
 *                       mint with the DECLARED scopes; store as AWSPENDING; ledger: staged [minted] [staged]
 *   staged    ------->  whoami(new) = recorded ID, name, declared scopes, future expiry;
 *                       AWSCURRENT -> new; ledger: draining (old token retiring)        [verified] [promoted] [draining-recorded]
 *   draining  --moved-> gateway's record of the old token is this rotation's; ledger: revoking
 *   revoking  ------->  revoke old; gateway confirms; ledger: idle                       [old-revoked] [revocation-confirmed] [completed]
 */
import { randomBytes, randomUUID } from "node:crypto";
import { ConsumerSeen, GatewayBackend, gatewayTokenName, isRevocable, IssuedToken, sameGatewayName, TokenStatus } from "../gateway/backend";
import { AmbiguousOutcomeError, GatewayError, InvalidTokenError, TokenExpiredError } from "../gateway/errors";
import { revokeAllNamed, revokeOnFailure } from "../gateway/minting";
import { FencedEntry } from "../ledger/fenced-entry";
import { fingerprint } from "../ledger/fingerprint";
import { Declaration, dueAt, idleState, LedgerPhase, LedgerToken, MAX_CLOCK_SKEW_MS, RotationIntent, RotationState, TokenRef } from "../ledger/ledger";
import { isRotatorCredential } from "../store/metadata";
import { CorruptRecordError, TokenRecord } from "../store/record";
import { Stage, TokenStore } from "../store/token-store";
import { ConsumerVerdict, DrainEvidence, EvidenceSettings, judgeConsumers, oldConsumersSince, SILENCE_MARGIN_MS } from "./consumer-evidence";
import { BadStateError } from "./errors";
import { mintPolicyProblems } from "./mint-policy";
import { Boundary, EventSink, Metric, MetricsSink, RotationLogger, RotationMilestone, TokenMetric } from "./observability";
import { RotatorSettings } from "./settings";

export interface StepContext {
  readonly fence: FencedEntry;
  readonly store: TokenStore;
  readonly backend: GatewayBackend;
  readonly settings: RotatorSettings;
  readonly log: RotationLogger;
  readonly metrics: MetricsSink;
  /** Milestone events (the provider's context has none). */
  readonly events?: EventSink;
  now(): Date;
  checkpoint(boundary: Boundary): Promise<void>;
  /** Start a rotation even if the token is not due (operator's `rotate`). */
  readonly force: boolean;
  /** Intents this actor recorded itself: nothing can have been minted under their names by anyone else. */
  readonly freshIntents: Set<string>;
}

/**
 * Values a run staged itself, by version ID, keyed by the run's set of fresh intents: verified without reading them
 * back, since a Secrets Manager version's value cannot change once written. A resumed run reads the version.
 */
const stagedByRun = new WeakMap<Set<string>, Map<string, TokenRecord>>();

export type StepOutcome =
  | { readonly kind: "advanced" }
  | { readonly kind: "waiting"; readonly reason: string; readonly recheckAt: Date; readonly consumersOnOldToken?: readonly string[] }
  | { readonly kind: "not-due" }
  | { readonly kind: "completed"; readonly consumersMoved: boolean };

type Step = (ctx: StepContext) => Promise<StepOutcome>;

export const STEPS: Readonly<Record<Exclude<LedgerPhase, "creating">, Step>> = {
  [LedgerPhase.Idle]: startRotation,
  [LedgerPhase.Minting]: mintAndStage,
  [LedgerPhase.Staged]: verifyAndPromote,
  [LedgerPhase.Draining]: drain,
  [LedgerPhase.Suspended]: holdSuspended,
  [LedgerPhase.Revoking]: revokeRetiring,
};

/** idle: if due, record the intent before anything is minted, so that a crash leaves a trail. */
async function startRotation(ctx: StepContext): Promise<StepOutcome> {
  const { declaration } = ctx.fence.entry;
  const state = ctx.fence.state;
  if (!state.current) throw new BadStateError(declaration.secretName, "the ledger records no current token", "run pulumi up to create the token again");
  const due = ctx.force || state.replaceNow || ctx.now().getTime() >= dueAt(state.current, declaration, ctx.settings.expiryMarginMs).getTime();
  if (!due) return { kind: "not-due" };
  const intent = newIntent(declaration.name, ctx.now(), ctx.force ? "operator" : "schedule");
  await ctx.fence.write({ ...state, phase: LedgerPhase.Minting, rotation: intent, nextCheckAt: ctx.now(), lastError: undefined });
  ctx.freshIntents.add(intent.id);
  ctx.metrics.add(Metric.RotationsStarted);
  ctx.log.info("start: rotation intent recorded", { token: declaration.name, tokenId: state.current.tokenId, step: "start", rotationId: intent.id });
  await ctx.checkpoint(Boundary.IntentRecorded);
  return { kind: "advanced" };
}

/** minting: mint under the intent's name with the declared scopes; store it as AWSPENDING under the intent's version. */
export async function mintAndStage(ctx: StepContext, options: { fixedVersionId?: string } = {}): Promise<StepOutcome> {
  const { declaration } = ctx.fence.entry;
  let intent = ctx.fence.state.rotation as RotationIntent;
  if (!ctx.freshIntents.has(intent.id)) {
    // An actor died here before: whatever it minted was never recorded. Revoke it and mint under a new name, into a
    // new version (a Secrets Manager version is immutable: a retry must not reuse one that may hold another value).
    // The old name stays listed for sweeping: a mint under it may still be in flight (its actor only looked dead).
    await revokeAllNamed(ctx.backend, intent.mintName, undefined);
    const fresh = newIntent(declaration.name, ctx.now(), intent.origin);
    const abandonedMints = [...ctx.fence.state.abandonedMints, { mintName: intent.mintName, at: ctx.now() }];
    intent = { ...intent, mintName: fresh.mintName, versionId: options.fixedVersionId ?? fresh.versionId };
    await ctx.fence.write({ ...ctx.fence.state, rotation: intent, abandonedMints });
    ctx.freshIntents.add(intent.id);
    ctx.log.warn("mint: resumed a rotation; leftovers of the earlier attempt revoked", { token: declaration.name, step: "mint" });
  }
  const problems = mintPolicyProblems(declaration);
  if (problems.length) {
    await abandonRotation(ctx, undefined);
    throw new BadStateError(declaration.secretName, `the declaration may not be minted: ${problems.join("; ")}`, "fix the token's declaration and run pulumi up");
  }
  await ctx.fence.check(); // a mint cannot be undone but by revoking: not after a take-over
  const now = ctx.now();
  let issued: IssuedToken;
  try {
    issued = await ctx.backend.mint({ name: intent.mintName, scopes: declaration.scopes, expiresAt: new Date(now.getTime() + declaration.ttlSeconds * 1000) });
  } catch (error) {
    if (error instanceof AmbiguousOutcomeError) await revokeAllNamed(ctx.backend, intent.mintName, error);
    throw error;
  }
  await ctx.checkpoint(Boundary.Minted);
  const record = recordFor(declaration, issued, now);
  const pending = ledgerToken(record, intent.versionId);
  await revokeOnFailure(ctx.backend, record.tokenId, async () => {
    await ctx.store.putVersion(declaration.secretName, intent.versionId, record, [Stage.Pending]);
    await ctx.fence.write({ ...ctx.fence.state, phase: LedgerPhase.Staged, pending });
    stagedByRun.set(ctx.freshIntents, new Map([...(stagedByRun.get(ctx.freshIntents) ?? []), [intent.versionId, record]]));
  });
  ctx.log.info("mint: new token staged as AWSPENDING", { token: declaration.name, tokenId: record.tokenId, step: "mint" });
  await ctx.checkpoint(Boundary.Staged);
  return { kind: "advanced" };
}

/** staged: prove the new token is what the ledger recorded and the declaration asks for, then make it AWSCURRENT. */
export async function verifyAndPromote(ctx: StepContext): Promise<StepOutcome> {
  const { declaration } = ctx.fence.entry;
  const pending = await verifyPending(ctx);
  await ctx.checkpoint(Boundary.Verified);
  // A compare-and-swap: AWSCURRENT moves only from the version the ledger records as current. If another actor promoted
  // something since (one that took this token over while this one was paused), the move fails instead of putting back
  // a token that actor has revoked. No describe first: the ledger says where the stage should be.
  const from = ctx.fence.state.current?.versionId;
  const moved = from
    ? await ctx.store.moveStage(declaration.secretName, Stage.Current, pending.versionId, from).then(
        () => true,
        (error: unknown) => (isStageMismatch(error) ? false : Promise.reject(error)),
      )
    : false;
  if (!moved) {
    // Still this actor's (the fence holds)? Then the stage is already ours (a resumed promotion), or an outsider moved
    // it: take it from wherever it is.
    await ctx.fence.renew();
    const secret = await ctx.store.describe(declaration.secretName);
    if (!secret) throw new BadStateError(declaration.secretName, "the secret does not exist", "run pulumi up to create it again");
    if (secret.stages.AWSCURRENT !== pending.versionId) {
      if (from) ctx.log.warn("promote: AWSCURRENT was moved outside this tool; moving it to the new token", { token: declaration.name, step: "promote" });
      await ctx.store.moveStage(declaration.secretName, Stage.Current, pending.versionId, secret.stages.AWSCURRENT);
    }
  }
  // AWSPENDING was put on this version by the mint; a resumed run may have removed it already.
  await ctx.store.removeStage(declaration.secretName, Stage.Pending, pending.versionId).catch((error: unknown) => {
    if (!isStageMismatch(error)) throw error;
  });
  ctx.log.info("promote: new token is AWSCURRENT; old token stays valid as AWSPREVIOUS", { token: declaration.name, tokenId: pending.tokenId, step: "promote" });
  await ctx.checkpoint(Boundary.Promoted);
  const state = ctx.fence.state;
  const now = ctx.now();
  // A current token that is gone (revoked by the leak response, forgotten by the gateway) is not kept as retiring; a
  // token still retiring then stays so.
  const retiring = state.replaceNow ? state.retiring : state.current && state.current.tokenId !== pending.tokenId ? state.current : undefined;
  await ctx.fence.write({
    ...state,
    phase: retiring ? LedgerPhase.Draining : LedgerPhase.Idle,
    current: pending,
    pending: undefined,
    retiring,
    rotation: undefined,
    replaceNow: undefined,
    promotedAt: retiring ? (state.replaceNow ? (state.promotedAt ?? now) : now) : undefined,
    lastRotatedAt: retiring ? state.lastRotatedAt : now,
    nextCheckAt: retiring ? new Date(now.getTime() + ctx.settings.quietPeriodMs) : dueAt(pending, declaration, ctx.settings.expiryMarginMs),
  });
  await ctx.checkpoint(Boundary.DrainingRecorded);
  await ctx.events?.publish({ milestone: RotationMilestone.Promoted, environment: declaration.environment, token: declaration.name, secretName: declaration.secretName, tokenId: pending.tokenId, oldTokenId: retiring?.tokenId });
  return retiring ? { kind: "advanced" } : { kind: "completed", consumersMoved: true };
}

/**
 * whoami with the staged value must answer with the recorded ID and name, the declared scopes and a future expiry, and
 * the value must be the one stored. A staged token that fails is revoked and the rotation starts over; the current
 * token is never touched.
 */
export async function verifyPending(ctx: StepContext): Promise<LedgerToken> {
  const { declaration } = ctx.fence.entry;
  const pending = ctx.fence.state.pending as LedgerToken;
  // A version that is missing or holds no valid record abandons the attempt; any other failure (throttling) is retried.
  const record = stagedByRun.get(ctx.freshIntents)?.get(pending.versionId) ?? await ctx.store.read(declaration.secretName, { versionId: pending.versionId }).catch((error: unknown) => {
    if (error instanceof CorruptRecordError || (error as { name?: string }).name === "EnvironmentMismatchError") return undefined;
    throw error;
  });
  let problem: string | undefined;
  if (!record) problem = `is missing from version ${pending.versionId}`;
  else if (fingerprint(record.token) !== pending.valueSha256) problem = "was replaced in Secrets Manager by another value";
  else {
    problem = await ctx.backend.whoami(record.token).then(
      (who) => {
        if (who.id !== pending.tokenId) return `answers as ${who.id}, expected ${pending.tokenId}`;
        if (!sameGatewayName(ctx.backend, who.name, pending.gatewayName)) return `is named ${who.name} on the gateway, expected ${pending.gatewayName}`;
        if (!sameScopes(who.scopes, declaration.scopes)) return `has scopes ${who.scopes.join(",")}, the declaration says ${declaration.scopes.join(",")}`;
        if (who.expiresAt && who.expiresAt.getTime() <= ctx.now().getTime()) return "is already expired";
        return undefined;
      },
      (error) => {
        if (error instanceof InvalidTokenError || error instanceof TokenExpiredError) return `is refused by the gateway (${error.code})`;
        throw error;
      },
    );
  }
  if (problem) {
    await abandonRotation(ctx, pending);
    throw new BadStateError(declaration.secretName, `the staged token ${pending.tokenId} ${problem}; it was revoked`, "the rotation starts over on the next run");
  }
  return pending;
}

/**
 * draining: the old token is retired on per-consumer evidence (consumer-evidence.ts): some consumer uses the new token,
 * and every consumer seen on the old one since the promotion (or a cache TTL before it) moved to the new one or has
 * been silent longer than the declared consumerCacheTtl plus a margin. Whatever the evidence, the old token goes just
 * before it would expire, and the report names who will break.
 */
async function drain(ctx: StepContext): Promise<StepOutcome> {
  const { declaration } = ctx.fence.entry;
  const state = ctx.fence.state;
  const retiring = state.retiring as LedgerToken;
  const current = state.current as LedgerToken;
  const promotedAt = state.promotedAt ?? state.nextCheckAt;
  const now = ctx.now();
  const name = declaration.name;
  const deadline = retiring.expiresAt.getTime() - ctx.settings.expiryMarginMs;
  const forced = now.getTime() >= deadline;
  // An actor whose clock may be off (an operator's laptop) judges the evidence as of the skew bound earlier: the gateway
  // stamps the traffic, so silence is only trusted once it is long enough on any clock within the bound.
  const evidenceSettings = {
    now: new Date(now.getTime() - (ctx.settings.clockSkewMs ?? 0)),
    consumerCacheTtlMs: declaration.consumerCacheTtlSeconds * 1000,
    settleMs: ctx.settings.quietPeriodMs,
  };
  const recheck = async (reason: string, stillOnOld?: readonly ConsumerVerdict[]): Promise<StepOutcome> => {
    if (stillOnOld?.length) {
      // Before the deadline: the named consumers still have time to re-read the secret.
      await ctx.events?.publish({ milestone: RotationMilestone.Stalled, environment: declaration.environment, token: name, secretName: declaration.secretName, tokenId: current.tokenId, oldTokenId: retiring.tokenId, consumersOnOldToken: stillOnOld.map((v) => v.consumer) });
    }
    ctx.log.info(`drain: waiting, ${reason}`, { token: name, tokenId: retiring.tokenId, step: "drain", ...(stillOnOld && { consumersOnOldToken: stillOnOld.map((v) => v.consumer) }) });
    const at = Math.min(now.getTime() + Math.max(60_000, ctx.settings.quietPeriodMs / 2), deadline);
    return { kind: "waiting", reason, recheckAt: new Date(Math.max(at, now.getTime() + 60_000)), ...(stillOnOld && { consumersOnOldToken: stillOnOld.map((v) => v.consumer) }) };
  };
  if (isRotatorCredential(declaration) && !forced) {
    // The rotator's own credential: a dead current one fails every run, and the repair (bootstrap-rotator with the
    // break-glass token) must not wait for the quiet period or the runs' hold on the old one, which may be over an hour.
    const live = await ctx.backend.describe(current.tokenId);
    if (!live || live.status === TokenStatus.Revoked || live.status === TokenStatus.Expired) {
      return replaceCurrent(ctx, `the current token ${current.tokenId} is ${live ? live.status : "unknown to the gateway"}`);
    }
  }
  if (!forced && now.getTime() - promotedAt.getTime() < ctx.settings.quietPeriodMs) {
    // No consumer can have settled on the new token yet, whatever the traffic says: nothing to ask.
    return recheck(`promoted ${Math.round((now.getTime() - promotedAt.getTime()) / 1000)}s ago, quiet period not over`);
  }
  let evidence: DrainEvidence;
  if (isRotatorCredential(declaration)) {
    // The rotator's own credential: its consumers are this project's runs (left out of the consumers aggregate).
    const own = await ownRunsEvidence(ctx, retiring, promotedAt, evidenceSettings);
    if (own === "unknown-token") return finishWithoutRevoking(ctx, "the gateway no longer knows the old token; nothing to revoke");
    if (!forced && own.heldUntil) {
      // Not a stall: the runs' hold on the old credential ends at a known time, when the next check is due.
      const reason = `the rotator's own runs may hold the old credential until ${own.heldUntil.toISOString()}`;
      ctx.log.info(`drain: waiting, ${reason}`, { token: name, tokenId: retiring.tokenId, step: "drain" });
      return { kind: "waiting", reason, recheckAt: new Date(Math.max(now.getTime() + 60_000, Math.min(own.heldUntil.getTime(), deadline))) };
    }
    evidence = own.evidence;
  } else {
    const [onNew, onOld] = await Promise.all([
      consumersOf(ctx.backend, current.tokenId, promotedAt),
      consumersOf(ctx.backend, retiring.tokenId, oldConsumersSince(promotedAt, evidenceSettings.consumerCacheTtlMs)),
    ]);
    if (onNew === "unknown-token") return replaceCurrent(ctx, "the gateway no longer knows the current token");
    if (onOld === "unknown-token") {
      // The gateway no longer knows the old token (purged, restored from a backup): nothing is left to revoke.
      return finishWithoutRevoking(ctx, "the gateway no longer knows the old token; nothing to revoke");
    }
    evidence = judgeConsumers(onOld, onNew, evidenceSettings);
  }
  const moved = evidence.anyOnNew && evidence.stillOnOld.length === 0;
  ctx.metrics.addForToken?.(TokenMetric.ConsumersOnOldToken, name, evidence.stillOnOld.length);
  if (!forced && !moved) {
    if (!evidence.anyOnNew) {
      // Nobody uses the new token yet: make sure it is still there to be used (revoked or forgotten behind our back, it
      // would leave consumers that moved with nothing valid until the deadline).
      const live = await ctx.backend.describe(current.tokenId);
      if (!live || live.status === TokenStatus.Revoked || live.status === TokenStatus.Expired) {
        return replaceCurrent(ctx, `the current token ${current.tokenId} is ${live ? live.status : "unknown to the gateway"}`);
      }
    }
    return recheck(!evidence.anyOnNew ? "no consumer traffic under the new token yet" : describeStillOnOld(evidence.stillOnOld, now), evidence.stillOnOld);
  }
  // Never revoke what may be the only valid token: the current one must be live on the gateway, and its record ours.
  // Even at the deadline the old token is kept while the current one is not valid; once the old one's own expiry has
  // passed it goes (for a backend without native expiry, this revocation is the expiry).
  const live = await ctx.backend.describe(current.tokenId);
  const expired = now.getTime() >= retiring.expiresAt.getTime();
  if (!live || live.status === TokenStatus.Revoked || live.status === TokenStatus.Expired) {
    // Consumers that moved have no valid token: issue another now, keeping the old one (still valid) retiring.
    return replaceCurrent(ctx, `the current token ${current.tokenId} is ${live ? live.status : "unknown to the gateway"}`);
  }
  if (!sameGatewayName(ctx.backend, live.name, current.gatewayName) && !expired) {
    throw new BadStateError(
      declaration.secretName,
      `the current token ${current.tokenId} is ${live ? (!sameGatewayName(ctx.backend, live.name, current.gatewayName) ? `named ${live.name} on the gateway` : live.status) : "unknown to the gateway"}; the old token ${retiring.tokenId} is kept`,
      "run `openclaw-tokens rotate` (or pulumi up) to issue a valid token",
    );
  }
  const stillUsed = !moved;
  if (stillUsed) {
    const who = evidence.stillOnOld.map((v) => v.consumer);
    // No evidence at all (nobody on the new token) counts as one unknown consumer: the alarm must fire either way.
    ctx.metrics.add(Metric.ConsumersStillOnOldToken, Math.max(1, who.length));
    ctx.log.error(`drain: consumers still on the old token at its deadline; revoking it anyway${who.length ? `; these will break: ${who.join(", ")}` : ""}`, {
      token: name,
      tokenId: retiring.tokenId,
      step: "drain",
      consumersOnOldToken: who,
      anyOnNew: evidence.anyOnNew,
    });
  }
  if (!stillUsed && ctx.backend.supportsSuspension && ctx.settings.suspensionWindowMs > 0) {
    // Suspend first: reversible, so that a consumer the evidence missed gets its token back at the next check.
    await ctx.fence.write({ ...state, phase: LedgerPhase.Suspended, suspendedAt: undefined, consumersOnOldToken: undefined, lastError: undefined, nextCheckAt: now });
    return { kind: "advanced" };
  }
  await ctx.fence.write({
    ...state,
    phase: LedgerPhase.Revoking,
    forcedRevocation: stillUsed || undefined,
    consumersOnOldToken: stillUsed ? evidence.stillOnOld.map((v) => v.consumer) : undefined,
    lastError: stillUsed ? "consumers still on the old token at its deadline" : undefined,
  });
  return { kind: "advanced" };
}

/** Who holds the rotator's credential: what the drain reports while its old token may still be in use. */
export const OWN_RUNS = "openclaw-token-ops runs (rotator, provider, CLI)";

/**
 * Whether the rotator's own runs are off its old credential. Every one of them reads the credential the ledger records
 * as current when it starts (every invocation afresh, and a run lasts at most the function's timeout; the provider and
 * the CLI read it per operation), so all are off the old token once the declared consumerCacheTtl plus the silence
 * margin has passed since the promotion; the gateway's request log must then also show no call with it for the settle
 * time.
 */
async function ownRunsEvidence(
  ctx: StepContext,
  retiring: LedgerToken,
  promotedAt: Date,
  settings: EvidenceSettings,
): Promise<{ readonly evidence: DrainEvidence; readonly heldUntil: Date | undefined } | "unknown-token"> {
  let calls;
  try {
    calls = await ctx.backend.traffic(retiring.tokenId, promotedAt);
  } catch (error) {
    if (error instanceof GatewayError && error.status === 404) return "unknown-token";
    throw error;
  }
  const lastCall = calls.reduce<Date | undefined>((last, c) => (!last || c.at > last ? c.at : last), undefined);
  const cachesExpireAt = promotedAt.getTime() + settings.consumerCacheTtlMs + SILENCE_MARGIN_MS + 1000;
  const settledAt = lastCall ? lastCall.getTime() + settings.settleMs : 0;
  const heldUntil = Math.max(cachesExpireAt, settledAt);
  const moved = settings.now.getTime() >= heldUntil;
  const verdict: ConsumerVerdict = { consumer: OWN_RUNS, lastSeenOnOld: lastCall ?? promotedAt, firstSeenOnNew: undefined, state: moved ? "moved" : "still-on-old" };
  return {
    evidence: { verdicts: [verdict], anyOnNew: true, stillOnOld: moved ? [] : [verdict] },
    // Judged on the skew-adjusted clock: the wait is that much longer on this one.
    heldUntil: moved ? undefined : new Date(heldUntil + (ctx.now().getTime() - settings.now.getTime())),
  };
}

/**
 * The current token is gone while the old one drains: a new token is minted at once (the old one stays retiring, the
 * gone one is listed for revocation), and the failure is reported: an alarm, not a silent wait until the deadline.
 */
async function replaceCurrent(ctx: StepContext, why: string): Promise<StepOutcome> {
  const { declaration } = ctx.fence.entry;
  const state = ctx.fence.state;
  const current = state.current as LedgerToken;
  ctx.metrics.add(Metric.BadState);
  ctx.log.error(`drain: ${why}; issuing a new token now, the old one stays valid`, { token: declaration.name, tokenId: current.tokenId, step: "drain" });
  const intent = newIntent(declaration.name, ctx.now(), "replacement");
  await ctx.fence.write({
    ...state,
    phase: LedgerPhase.Minting,
    rotation: intent,
    replaceNow: true,
    revokeNow: [...state.revokeNow, { tokenId: current.tokenId, gatewayName: current.gatewayName }],
    lastError: why,
    nextCheckAt: ctx.now(),
  });
  ctx.freshIntents.add(intent.id);
  return { kind: "advanced" };
}

function describeStillOnOld(stillOnOld: readonly ConsumerVerdict[], now: Date): string {
  const shown = stillOnOld.slice(0, 5).map((v) => `${v.consumer} (last seen ${Math.round((now.getTime() - v.lastSeenOnOld.getTime()) / 1000)}s ago)`);
  const more = stillOnOld.length > shown.length ? ` and ${stillOnOld.length - shown.length} more` : "";
  return `${stillOnOld.length} consumer(s) still on the old token: ${shown.join(", ")}${more}`;
}

/**
 * suspended: the decision to suspend is recorded. Suspend the old token on the gateway (once), then hold it for the grace
 * window: any consumer call made with it since the suspension (refused with 401 token_suspended, or accepted if someone
 * reinstated it) reinstates it at once, names the consumer and puts the drain back to waiting. A clean window, or the
 * old token's deadline, ends in revocation.
 */
async function holdSuspended(ctx: StepContext): Promise<StepOutcome> {
  const { declaration } = ctx.fence.entry;
  const state = ctx.fence.state;
  const retiring = state.retiring as LedgerToken;
  const name = declaration.name;
  const now = ctx.now();
  const deadline = retiring.expiresAt.getTime() - ctx.settings.expiryMarginMs;
  if (!state.suspendedAt) {
    await ctx.fence.check(); // not after a take-over: the other actor may have other plans for this token
    const suspended = await ctx.backend.suspend(retiring.tokenId).catch(async (error: unknown) => {
      if (error instanceof GatewayError && error.status === 404) return undefined;
      // Revoked already (a leak response, a revocation by hand): revocation is final, so nothing is left to hold
      // suspended; the revocation step confirms it (idempotent). Retrying the suspension would fail on every run.
      if (error instanceof GatewayError && error.status === 409 && (await ctx.backend.describe(retiring.tokenId))?.status === TokenStatus.Revoked) return "revoked" as const;
      throw error;
    });
    if (!suspended) return finishWithoutRevoking(ctx, "the gateway no longer knows the old token; nothing to suspend or revoke");
    if (suspended === "revoked") {
      ctx.log.warn("suspend: the old token is revoked already; confirming its revocation", { token: name, tokenId: retiring.tokenId, step: "suspend" });
      await ctx.fence.write({ ...state, phase: LedgerPhase.Revoking, nextCheckAt: now });
      return { kind: "advanced" };
    }
    // The gateway's time: the consumers aggregate that is compared with it is kept by the same clock.
    const suspendedAt = suspended.suspendedAt ?? now;
    await ctx.fence.write({ ...state, suspendedAt, nextCheckAt: new Date(now.getTime() + Math.min(ctx.settings.suspensionWindowMs, ctx.settings.quietPeriodMs)) });
    ctx.log.info("suspend: old token suspended for the grace window; a refused consumer call reinstates it", { token: name, tokenId: retiring.tokenId, step: "suspend" });
    await ctx.checkpoint(Boundary.OldSuspended);
    return recheckSuspended(ctx, now, deadline);
  }
  const suspendedAt = state.suspendedAt;
  const onOld = await consumersOf(ctx.backend, retiring.tokenId, suspendedAt);
  if (onOld === "unknown-token") return finishWithoutRevoking(ctx, "the gateway no longer knows the old token; nothing to revoke");
  const callers = onOld.filter((c) => c.lastSeenAt.getTime() >= suspendedAt.getTime());
  const forced = now.getTime() >= deadline;
  if (callers.length && !forced) {
    await ctx.fence.check();
    await ctx.backend.reinstate(retiring.tokenId);
    const who = callers.map((c) => c.consumer);
    ctx.metrics.add(Metric.ConsumersStillOnOldToken, who.length);
    ctx.log.error(`suspend: consumers still use the old token; reinstated it, the drain waits for them: ${who.join(", ")}`, {
      token: name,
      tokenId: retiring.tokenId,
      step: "suspend",
      consumersOnOldToken: who,
    });
    await ctx.fence.write({
      ...state,
      phase: LedgerPhase.Draining,
      suspendedAt: undefined,
      consumersOnOldToken: who,
      lastError: `consumers still on the old token during its suspension: ${who.join(", ")}`,
      nextCheckAt: now,
    });
    return { kind: "waiting", reason: `reinstated the old token for ${who.join(", ")}`, recheckAt: new Date(Math.min(now.getTime() + Math.max(60_000, ctx.settings.quietPeriodMs / 2), Math.max(deadline, now.getTime() + 60_000))), consumersOnOldToken: who };
  }
  if (!forced && now.getTime() - suspendedAt.getTime() < ctx.settings.suspensionWindowMs) return recheckSuspended(ctx, now, deadline);
  if (callers.length) {
    // At the deadline a caller breaks anyway: say who.
    const who = callers.map((c) => c.consumer);
    ctx.metrics.add(Metric.ConsumersStillOnOldToken, who.length);
    ctx.log.error(`suspend: consumers still on the old token at its deadline; revoking it anyway; these will break: ${who.join(", ")}`, { token: name, tokenId: retiring.tokenId, step: "suspend", consumersOnOldToken: who });
  }
  await ctx.fence.write({
    ...state,
    phase: LedgerPhase.Revoking,
    forcedRevocation: callers.length > 0 || undefined,
    consumersOnOldToken: callers.length ? callers.map((c) => c.consumer) : undefined,
    lastError: callers.length ? "consumers still on the old token at its deadline" : undefined,
  });
  return { kind: "advanced" };
}

function recheckSuspended(ctx: StepContext, now: Date, deadline: number): StepOutcome {
  const { declaration } = ctx.fence.entry;
  const suspendedAt = ctx.fence.state.suspendedAt ?? now;
  const windowEnd = suspendedAt.getTime() + ctx.settings.suspensionWindowMs;
  // Checked often during the window: a consumer refused by the suspension gets its token back within one check.
  const at = Math.min(now.getTime() + Math.max(60_000, Math.min(ctx.settings.quietPeriodMs, ctx.settings.suspensionWindowMs) / 2), windowEnd, deadline);
  const reason = `old token suspended ${Math.round((now.getTime() - suspendedAt.getTime()) / 1000)}s ago, grace window not over`;
  ctx.log.info(`suspend: waiting, ${reason}`, { token: declaration.name, tokenId: ctx.fence.state.retiring?.tokenId, step: "suspend" });
  return { kind: "waiting", reason, recheckAt: new Date(Math.max(at, now.getTime() + 60_000)) };
}

/** revoking: the decision is recorded; revoke the old token after checking the gateway's record is this rotation's. */
async function revokeRetiring(ctx: StepContext): Promise<StepOutcome> {
  const { declaration } = ctx.fence.entry;
  const state = ctx.fence.state;
  const retiring = state.retiring as LedgerToken;
  await ctx.fence.check(); // a revocation cannot be undone: not after a take-over
  const outcome = await revokeWitnessed(ctx.backend, retiring, declaration.secretName);
  await ctx.checkpoint(Boundary.OldRevoked);
  if (outcome === "still-active") {
    throw new BadStateError(declaration.secretName, `token ${retiring.tokenId} is still accepted after revocation`, "check the gateway; the next run revokes it again");
  }
  await ctx.checkpoint(Boundary.RevocationConfirmed);
  const consumersMoved = !state.forcedRevocation;
  await complete(ctx);
  ctx.log.info("revoke: old token revoked and confirmed; rotation complete", { token: declaration.name, tokenId: retiring.tokenId, step: "revoke" });
  return { kind: "completed", consumersMoved };
}

async function finishWithoutRevoking(ctx: StepContext, why: string): Promise<StepOutcome> {
  const { declaration } = ctx.fence.entry;
  ctx.log.warn(`drain: ${why}`, { token: declaration.name, tokenId: ctx.fence.state.retiring?.tokenId, step: "drain" });
  await complete(ctx);
  return { kind: "completed", consumersMoved: true };
}

async function complete(ctx: StepContext): Promise<void> {
  const { declaration } = ctx.fence.entry;
  const state = ctx.fence.state;
  await ctx.fence.write(
    idleState(state.current as LedgerToken, declaration, ctx.settings.expiryMarginMs, {
      lastRotatedAt: ctx.now(),
      abandonedMints: state.abandonedMints,
      revokeNow: state.revokeNow,
      lastError: undefined,
      forcedRevocation: undefined,
    }),
  );
  await ctx.checkpoint(Boundary.Completed);
  await ctx.events?.publish({ milestone: RotationMilestone.Completed, environment: declaration.environment, token: declaration.name, secretName: declaration.secretName, tokenId: state.current?.tokenId, oldTokenId: state.retiring?.tokenId });
}

/**
 * Revokes a token the ledger recorded, once the gateway's own record agrees it is that token (same name): a ledger
 * entry can be wrong only through a bug, but a revocation is not undone, so the gateway is asked as a second witness.
 * Returns "gone" when the gateway does not know it, "revoked" once it is refused, "still-active" if the revocation did
 * not take.
 */
export async function revokeWitnessed(backend: GatewayBackend, token: TokenRef, secretName: string): Promise<"gone" | "revoked" | "still-active"> {
  const before = await backend.describe(token.tokenId);
  if (!before) return "gone";
  if (!sameGatewayName(backend, before.name, token.gatewayName)) {
    throw new BadStateError(
      secretName,
      `the gateway's token ${token.tokenId} is named ${before.name}, not ${token.gatewayName} as recorded; it was not revoked`,
      "the ledger and the gateway disagree: check the gateway's token list before revoking by hand",
    );
  }
  if (isRevocable(before.status)) await backend.revoke(token.tokenId);
  else return "revoked";
  const after = await backend.describe(token.tokenId);
  return isRevocable(after?.status) ? "still-active" : "revoked";
}

/**
 * Ends a rotation that was not promoted: the ledger first (back to idle, the mint name kept for sweeping), so that a
 * failure after this write leaves nothing that wedges; then the staged token and AWSPENDING, best effort.
 */
export async function abandonRotation(ctx: Pick<StepContext, "fence" | "backend" | "store" | "log" | "now">, pending: LedgerToken | undefined): Promise<void> {
  const { declaration } = ctx.fence.entry;
  const state = ctx.fence.state;
  await ctx.fence.write(abandonedState(state, ctx.now()));
  try {
    if (pending) await revokeWitnessed(ctx.backend, pending, declaration.secretName);
    const secret = await ctx.store.describe(declaration.secretName);
    if (secret?.stages.AWSPENDING && secret.stages.AWSPENDING !== secret.stages.AWSCURRENT) {
      await ctx.store.removeStage(declaration.secretName, Stage.Pending, secret.stages.AWSPENDING);
    }
  } catch (error) {
    // The mint name stays in the ledger's sweep list: the next run revokes whatever this left.
    ctx.log.warn(`abort: clean-up left for the next run (${error instanceof Error ? error.message : String(error)})`, { token: declaration.name, step: "abort" });
  }
}

/** The state after abandoning the rotation under way: idle (or still draining), its mint name kept for sweeping. */
export function abandonedState(state: RotationState, now: Date): RotationState {
  const abandoned = state.rotation ? [{ mintName: state.rotation.mintName, at: now }] : [];
  return {
    ...state,
    phase: state.retiring ? LedgerPhase.Draining : LedgerPhase.Idle,
    pending: undefined,
    rotation: undefined,
    abandonedMints: [...state.abandonedMints, ...abandoned],
    revokeNow: state.pending ? [...state.revokeNow, { tokenId: state.pending.tokenId, gatewayName: state.pending.gatewayName }] : state.revokeNow,
    nextCheckAt: now,
  };
}

/**
 * Revokes what the ledger lists for revocation (abandoned mints, tokens the leak response could not finish with).
 * Mint names are kept until well past any mint still in flight when they were abandoned.
 */
export async function sweep(ctx: Pick<StepContext, "fence" | "backend" | "log" | "now" | "settings">): Promise<void> {
  const state = ctx.fence.state;
  if (!state.abandonedMints.length && !state.revokeNow.length) return;
  const { declaration } = ctx.fence.entry;
  for (const token of state.revokeNow) await revokeWitnessed(ctx.backend, token, declaration.secretName);
  for (const mint of state.abandonedMints) await revokeAllNamed(ctx.backend, mint.mintName, undefined);
  const keepUntil = (at: Date) => at.getTime() + ctx.settings.leaseTtlMs + MAX_CLOCK_SKEW_MS;
  const abandonedMints = state.abandonedMints.filter((m) => ctx.now().getTime() < keepUntil(m.at));
  const next = abandonedMints.length ? Math.min(...abandonedMints.map((m) => keepUntil(m.at))) : undefined;
  await ctx.fence.write({
    ...state,
    revokeNow: [],
    abandonedMints,
    nextCheckAt: next !== undefined && next < state.nextCheckAt.getTime() ? new Date(next) : state.nextCheckAt,
  });
  ctx.log.info("sweep: abandoned mints and listed tokens revoked", { token: declaration.name, step: "sweep" });
}

/** A token's consumers since `since` (the gateway leaves this project's own calls out), or "unknown-token". */
async function consumersOf(backend: GatewayBackend, tokenId: string, since: Date): Promise<ConsumerSeen[] | "unknown-token"> {
  try {
    return await backend.consumers(tokenId, since);
  } catch (error) {
    if (error instanceof GatewayError && error.status === 404) return "unknown-token";
    throw error;
  }
}

export function newIntent(tokenName: string, now: Date, origin: string, id: string = randomUUID()): RotationIntent {
  return { id, mintName: gatewayTokenName(tokenName, now, randomBytes(3).toString("hex")), versionId: randomUUID(), startedAt: now, origin };
}

/** The record consumers read, from the declaration and the gateway's answer (never from an earlier record). */
export function recordFor(declaration: Declaration, issued: IssuedToken, now: Date): TokenRecord {
  return {
    token: issued.value,
    tokenId: issued.metadata.id,
    gatewayTokenName: issued.metadata.name,
    name: declaration.name,
    environment: declaration.environment,
    gatewayUrl: declaration.gatewayUrl,
    backend: declaration.backend,
    scopes: [...issued.metadata.scopes],
    issuedAt: now,
    expiresAt: issued.metadata.expiresAt ?? new Date(now.getTime() + declaration.ttlSeconds * 1000),
  };
}

export function ledgerToken(record: TokenRecord, versionId: string): LedgerToken {
  return {
    tokenId: record.tokenId,
    gatewayName: record.gatewayTokenName,
    issuedAt: record.issuedAt,
    expiresAt: record.expiresAt,
    versionId,
    valueSha256: fingerprint(record.token),
  };
}

/** Secrets Manager's answer when RemoveFromVersionId does not hold the label: the compare-and-swap failed. */
function isStageMismatch(error: unknown): boolean {
  return (error as { code?: string }).code === "store_InvalidParameterException";
}

function sameScopes(a: readonly string[], b: readonly string[]): boolean {
  return [...a].sort().join(" ") === [...b].sort().join(" ");
}

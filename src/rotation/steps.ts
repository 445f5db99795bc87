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
import { GatewayBackend, gatewayTokenName, isRevocable, IssuedToken, OWN_USER_AGENT_PREFIX, TokenStatus } from "../gateway/backend";
import { AmbiguousOutcomeError, GatewayError, InvalidTokenError, TokenExpiredError } from "../gateway/errors";
import { revokeAllNamed, revokeOnFailure } from "../gateway/minting";
import { FencedEntry } from "../ledger/fenced-entry";
import { fingerprint } from "../ledger/fingerprint";
import { Declaration, dueAt, idleState, LedgerPhase, LedgerToken, MAX_CLOCK_SKEW_MS, RotationIntent, RotationState, TokenRef } from "../ledger/ledger";
import { TokenRecord } from "../store/record";
import { Stage, TokenStore } from "../store/token-store";
import { BadStateError } from "./errors";
import { mintPolicyProblems } from "./mint-policy";
import { Boundary, Metric, MetricsSink, RotationLogger } from "./observability";
import { RotatorSettings } from "./settings";

export interface StepContext {
  readonly fence: FencedEntry;
  readonly store: TokenStore;
  readonly backend: GatewayBackend;
  readonly settings: RotatorSettings;
  readonly log: RotationLogger;
  readonly metrics: MetricsSink;
  now(): Date;
  checkpoint(boundary: Boundary): Promise<void>;
  /** Start a rotation even if the token is not due (operator's `rotate`). */
  readonly force: boolean;
  /** Intents this actor recorded itself: nothing can have been minted under their names by anyone else. */
  readonly freshIntents: Set<string>;
}

export type StepOutcome =
  | { readonly kind: "advanced" }
  | { readonly kind: "waiting"; readonly reason: string; readonly recheckAt: Date }
  | { readonly kind: "not-due" }
  | { readonly kind: "completed"; readonly consumersMoved: boolean };

type Step = (ctx: StepContext) => Promise<StepOutcome>;

export const STEPS: Readonly<Record<Exclude<LedgerPhase, "creating">, Step>> = {
  [LedgerPhase.Idle]: startRotation,
  [LedgerPhase.Minting]: mintAndStage,
  [LedgerPhase.Staged]: verifyAndPromote,
  [LedgerPhase.Draining]: drain,
  [LedgerPhase.Revoking]: revokeRetiring,
};

/** idle: if due, record the intent before anything is minted, so that a crash leaves a trail. */
async function startRotation(ctx: StepContext): Promise<StepOutcome> {
  const { declaration } = ctx.fence.entry;
  const state = ctx.fence.state;
  if (!state.current) throw new BadStateError(declaration.secretName, "the ledger records no current token", "run pulumi up to create the token again");
  if (!ctx.force && ctx.now().getTime() < dueAt(state.current, declaration, ctx.settings.expiryMarginMs).getTime()) return { kind: "not-due" };
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
    await revokeAllNamed(ctx.backend, intent.mintName, undefined);
    const fresh = newIntent(declaration.name, ctx.now(), intent.origin);
    intent = { ...intent, mintName: fresh.mintName, versionId: options.fixedVersionId ?? fresh.versionId };
    await ctx.fence.write({ ...ctx.fence.state, rotation: intent });
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
  const retiring = state.current && state.current.tokenId !== pending.tokenId ? state.current : undefined;
  await ctx.fence.write({
    ...state,
    phase: retiring ? LedgerPhase.Draining : LedgerPhase.Idle,
    current: pending,
    pending: undefined,
    retiring,
    rotation: undefined,
    promotedAt: retiring ? now : undefined,
    lastRotatedAt: retiring ? state.lastRotatedAt : now,
    nextCheckAt: retiring ? new Date(now.getTime() + ctx.settings.quietPeriodMs) : dueAt(pending, declaration, ctx.settings.expiryMarginMs),
  });
  await ctx.checkpoint(Boundary.DrainingRecorded);
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
  const record = await ctx.store.read(declaration.secretName, { versionId: pending.versionId }).catch(() => undefined);
  let problem: string | undefined;
  if (!record) problem = `is missing from version ${pending.versionId}`;
  else if (fingerprint(record.token) !== pending.valueSha256) problem = "was replaced in Secrets Manager by another value";
  else {
    problem = await ctx.backend.whoami(record.token).then(
      (who) => {
        if (who.id !== pending.tokenId) return `answers as ${who.id}, expected ${pending.tokenId}`;
        if (who.name !== pending.gatewayName) return `is named ${who.name} on the gateway, expected ${pending.gatewayName}`;
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
 * draining: the old token is retired once consumers' traffic shows up under the new one and the old one has been quiet
 * for the quiet period; or, whatever the traffic, just before the old token would expire.
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
  const recheck = (reason: string): StepOutcome => {
    ctx.log.info(`drain: waiting, ${reason}`, { token: name, tokenId: retiring.tokenId, step: "drain" });
    const at = Math.min(now.getTime() + Math.max(60_000, ctx.settings.quietPeriodMs / 2), deadline);
    return { kind: "waiting", reason, recheckAt: new Date(Math.max(at, now.getTime() + 60_000)) };
  };
  if (!forced && now.getTime() - promotedAt.getTime() < ctx.settings.quietPeriodMs) {
    // The old token cannot have been quiet for the quiet period yet, whatever the traffic says: nothing to ask.
    return recheck(`promoted ${Math.round((now.getTime() - promotedAt.getTime()) / 1000)}s ago, quiet period not over`);
  }
  const [moved, lastOldUse] = await Promise.all([
    consumerTraffic(ctx.backend, current.tokenId, promotedAt).then((entries) => entries !== "unknown-token" && entries.length > 0),
    consumerTraffic(ctx.backend, retiring.tokenId, promotedAt).then((entries) => (entries === "unknown-token" ? "unknown-token" : entries.at(-1)?.at)),
  ]);
  if (lastOldUse === "unknown-token") {
    // The gateway no longer knows the old token (purged, restored from a backup): nothing is left to revoke.
    return finishWithoutRevoking(ctx, "the gateway no longer knows the old token; nothing to revoke");
  }
  const quietSince = lastOldUse && lastOldUse > promotedAt ? lastOldUse : promotedAt;
  const quiet = now.getTime() - quietSince.getTime() >= ctx.settings.quietPeriodMs;
  if (!forced && !(moved && quiet)) {
    return recheck(!moved ? "no consumer traffic under the new token yet" : `old token used ${Math.round((now.getTime() - quietSince.getTime()) / 1000)}s ago`);
  }
  // Never revoke what may be the only valid token: the current one must be live on the gateway, and its record ours.
  // Even at the deadline the old token is kept while the current one is not valid; once the old one's own expiry has
  // passed it goes (for a backend without native expiry, this revocation is the expiry).
  const live = await ctx.backend.describe(current.tokenId);
  const expired = now.getTime() >= retiring.expiresAt.getTime();
  if ((live?.status !== TokenStatus.Active || live.name !== current.gatewayName) && !expired) {
    throw new BadStateError(
      declaration.secretName,
      `the current token ${current.tokenId} is ${live ? (live.name !== current.gatewayName ? `named ${live.name} on the gateway` : live.status) : "unknown to the gateway"}; the old token ${retiring.tokenId} is kept`,
      "run `openclaw-tokens rotate` (or pulumi up) to issue a valid token",
    );
  }
  const stillUsed = !moved || !quiet;
  if (stillUsed) {
    ctx.metrics.add(Metric.ConsumersStillOnOldToken);
    ctx.log.error("drain: consumers still on the old token at its deadline; revoking it anyway", { token: name, tokenId: retiring.tokenId, step: "drain", moved, quiet });
  }
  await ctx.fence.write({ ...state, phase: LedgerPhase.Revoking, forcedRevocation: stillUsed || undefined, lastError: stillUsed ? "consumers still on the old token at its deadline" : undefined });
  return { kind: "advanced" };
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
  if (before.name !== token.gatewayName) {
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

/** Requests under a token since `since` by consumers: this project's own calls and refused requests do not count. */
async function consumerTraffic(backend: GatewayBackend, tokenId: string, since: Date) {
  try {
    return (await backend.traffic(tokenId, since)).filter((entry) => !entry.userAgent.startsWith(OWN_USER_AGENT_PREFIX) && entry.status !== 401);
  } catch (error) {
    if (error instanceof GatewayError && error.status === 404) return "unknown-token" as const;
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

/**
 * The rotation state machine: one function per phase, in execution order. Each step does the next durable thing
 * and returns; the engine then re-reads the secret and derives the next phase (state.ts). Every step is safe to
 * run again after a crash at any point inside it.
 *
 *   idle       --due-->  record intent (rotation ID, unique mint name)            [intent-recorded]
 *   minting    -------->  revoke leftovers of a crashed mint; mint; AWSPENDING     [minted] [staged]
 *   staged     -------->  whoami(new) = expected ID, scopes, future expiry;
 *                         AWSCURRENT -> new (old becomes AWSPREVIOUS)             [verified] [promoted]
 *   promoting  -------->  tags: new token current, old token retiring            [draining-recorded]
 *   draining   --moved-->  revoke old; whoami(old) = 401; tags: done             [old-revoked] [revocation-confirmed] [completed]
 */
import { randomBytes, randomUUID } from "node:crypto";
import { GatewayBackend, gatewayTokenName, OWN_USER_AGENT_PREFIX, TokenStatus } from "../gateway/backend";
import { AmbiguousOutcomeError, InvalidTokenError, TokenExpiredError } from "../gateway/errors";
import { revokeAllNamed, revokeOnFailure } from "../gateway/minting";
import { RotationIntent, TokenMetadata } from "../store/metadata";
import { TokenRecord } from "../store/record";
import { Stage, StoredSecret, TokenStore } from "../store/token-store";
import { BadStateError } from "./errors";
import { Boundary, Metric, MetricsSink, RotationLogger } from "./observability";
import { RotatorSettings } from "./settings";
import { isDue, Phase, RotationState } from "./state";

export interface StepContext {
  readonly secret: StoredSecret;
  readonly meta: TokenMetadata;
  readonly store: TokenStore;
  readonly backend: GatewayBackend;
  readonly settings: RotatorSettings;
  readonly log: RotationLogger;
  readonly metrics: MetricsSink;
  now(): Date;
  checkpoint(boundary: Boundary): Promise<void>;
  /** Start a rotation even if the token is not due (operator's `rotate`). */
  readonly force: boolean;
  /** Intents this run recorded itself: nothing can have been minted under their names yet. */
  readonly freshIntents: Set<string>;
}

export type StepOutcome =
  | { readonly kind: "advanced" }
  | { readonly kind: "waiting"; readonly reason: string }
  | { readonly kind: "not-due" }
  | { readonly kind: "completed"; readonly consumersMoved: boolean };

type Step<P extends RotationState["phase"]> = (ctx: StepContext, state: Extract<RotationState, { phase: P }>) => Promise<StepOutcome>;

export const STEPS: { readonly [P in RotationState["phase"]]: Step<P> } = {
  [Phase.Idle]: startRotation,
  [Phase.Minting]: mintAndStage,
  [Phase.Staged]: verifyAndPromote,
  [Phase.Promoting]: recordPromotion,
  [Phase.Draining]: drainAndRevoke,
};

/** idle: if due, record the intent before anything is minted, so that a crash leaves a trail. */
async function startRotation(ctx: StepContext): Promise<StepOutcome> {
  if (!ctx.force && !isDue(ctx.meta, ctx.now(), ctx.settings.expiryMarginMs)) return { kind: "not-due" };
  const intent = newIntent(ctx.meta.tokenName, ctx.now());
  await ctx.store.setMetadata(ctx.secret.name, { ...ctx.meta, rotation: intent }, ctx.secret);
  ctx.freshIntents.add(intent.id);
  ctx.metrics.add(Metric.RotationsStarted);
  ctx.log.info("start: rotation intent recorded", { token: ctx.meta.tokenName, tokenId: ctx.meta.tokenId, step: "start", rotationId: intent.id });
  await ctx.checkpoint(Boundary.IntentRecorded);
  return { kind: "advanced" };
}

/** minting: mint the new token under the intent's name and stage it as AWSPENDING (version ID = rotation ID). */
async function mintAndStage(ctx: StepContext, state: { intent: RotationIntent }): Promise<StepOutcome> {
  let intent = state.intent;
  if (!ctx.freshIntents.has(intent.id)) {
    // A run died here before: whatever it minted was never stored, so revoke it and mint under a new name.
    await revokeAllNamed(ctx.backend, intent.mintName, undefined);
    intent = { ...intent, mintName: newIntent(ctx.meta.tokenName, ctx.now()).mintName };
    await ctx.store.setMetadata(ctx.secret.name, { ...ctx.meta, rotation: intent }, ctx.secret);
    ctx.freshIntents.add(intent.id);
    ctx.log.warn("mint: resumed a rotation; leftovers of the earlier attempt revoked", { token: ctx.meta.tokenName, step: "mint" });
  }
  const current = await readCurrent(ctx);
  const now = ctx.now();
  let issued;
  try {
    issued = await ctx.backend.mint({
      name: intent.mintName,
      scopes: current.scopes,
      expiresAt: new Date(now.getTime() + ctx.meta.ttlSeconds * 1000),
    });
  } catch (error) {
    if (error instanceof AmbiguousOutcomeError) await revokeAllNamed(ctx.backend, intent.mintName, error);
    throw error;
  }
  await ctx.checkpoint(Boundary.Minted);
  const record: TokenRecord = {
    ...current,
    token: issued.value,
    tokenId: issued.metadata.id,
    gatewayTokenName: intent.mintName,
    issuedAt: now,
    expiresAt: issued.metadata.expiresAt ?? new Date(now.getTime() + ctx.meta.ttlSeconds * 1000),
  };
  await revokeOnFailure(ctx.backend, record.tokenId, () =>
    ctx.store.putVersion(ctx.secret.name, intent.id, record, [Stage.Pending]),
  );
  ctx.log.info("mint: new token staged as AWSPENDING", { token: ctx.meta.tokenName, tokenId: record.tokenId, step: "mint" });
  await ctx.checkpoint(Boundary.Staged);
  return { kind: "advanced" };
}

/** staged: prove the new token works as intended, then make it AWSCURRENT; the old one becomes AWSPREVIOUS. */
async function verifyAndPromote(ctx: StepContext, state: { intent: RotationIntent }): Promise<StepOutcome> {
  const pending = await verifyPending(ctx, state.intent);
  await ctx.checkpoint(Boundary.Verified);
  await ctx.store.moveStage(ctx.secret.name, Stage.Current, state.intent.id, ctx.secret.stages.AWSCURRENT);
  ctx.log.info("promote: new token is AWSCURRENT; old token stays valid as AWSPREVIOUS", {
    token: ctx.meta.tokenName,
    tokenId: pending.tokenId,
    step: "promote",
  });
  await ctx.checkpoint(Boundary.Promoted);
  return { kind: "advanced" };
}

/**
 * whoami with the staged token must answer with its ID, its scopes and an expiry in the future. A staged token
 * that fails is revoked and the rotation starts over; the current token is never touched.
 */
export async function verifyPending(ctx: StepContext, intent: RotationIntent): Promise<TokenRecord> {
  const pending = await ctx.store.read(ctx.secret.name, { versionId: intent.id });
  if (!pending) {
    throw new BadStateError(ctx.secret.name, `version ${intent.id} (AWSPENDING) is missing`, "the rotation will start over on the next run");
  }
  const problem = await ctx.backend.whoami(pending.token).then(
    (who) => {
      if (who.id !== pending.tokenId) return `answers as ${who.id}, expected ${pending.tokenId}`;
      if ([...who.scopes].sort().join(" ") !== [...pending.scopes].sort().join(" ")) return `has scopes ${who.scopes.join(",")}, expected ${pending.scopes.join(",")}`;
      if (who.expiresAt && who.expiresAt.getTime() <= ctx.now().getTime()) return "is already expired";
      return undefined;
    },
    (error) => {
      if (error instanceof InvalidTokenError || error instanceof TokenExpiredError) return `is refused by the gateway (${error.code})`;
      throw error;
    },
  );
  if (problem) {
    await abortRotation(ctx.store, ctx.backend, ctx.secret, ctx.meta);
    throw new BadStateError(ctx.secret.name, `the staged token ${pending.tokenId} ${problem}; it was revoked`, "the rotation starts over on the next run");
  }
  return pending;
}

/** promoting: the stages moved; now the tags say so (new token current, old one retiring). */
async function recordPromotion(ctx: StepContext, state: { intent: RotationIntent }): Promise<StepOutcome> {
  const [current, previous] = await Promise.all([readCurrent(ctx), ctx.store.read(ctx.secret.name, Stage.Previous)]);
  if (ctx.secret.stages.AWSPENDING === state.intent.id) {
    await ctx.store.removeStage(ctx.secret.name, Stage.Pending, state.intent.id);
  }
  const retiring = previous && previous.tokenId !== current.tokenId ? previous : undefined;
  await ctx.store.setMetadata(ctx.secret.name, {
    ...ctx.meta,
    tokenId: current.tokenId,
    issuedAt: current.issuedAt,
    expiresAt: current.expiresAt,
    retiringTokenId: retiring?.tokenId,
    retiringExpiresAt: retiring?.expiresAt,
    promotedAt: ctx.now(),
    rotation: undefined,
  }, ctx.secret);
  await ctx.checkpoint(Boundary.DrainingRecorded);
  return retiring ? { kind: "advanced" } : { kind: "completed", consumersMoved: true };
}

/**
 * draining: revoke the old token once consumers' traffic shows up under the new one and the old one has been
 * quiet for the quiet period; or, whatever the traffic, just before the old token would expire.
 */
async function drainAndRevoke(ctx: StepContext, state: { retiringTokenId: string; promotedAt: Date }): Promise<StepOutcome> {
  const now = ctx.now();
  const name = ctx.meta.tokenName;
  const deadline = ctx.meta.retiringExpiresAt ? ctx.meta.retiringExpiresAt.getTime() - ctx.settings.expiryMarginMs : Infinity;
  const forced = now.getTime() >= deadline;
  if (!forced && now.getTime() - state.promotedAt.getTime() < ctx.settings.quietPeriodMs) {
    // The old token cannot have been quiet for the quiet period yet, whatever the traffic says: nothing to ask.
    const reason = `promoted ${Math.round((now.getTime() - state.promotedAt.getTime()) / 1000)}s ago, quiet period not over`;
    ctx.log.info(`drain: waiting, ${reason}`, { token: name, tokenId: state.retiringTokenId, step: "drain" });
    return { kind: "waiting", reason };
  }
  const [moved, lastOldUse] = await Promise.all([
    consumerTraffic(ctx.backend, ctx.meta.tokenId, state.promotedAt).then((entries) => entries.length > 0),
    consumerTraffic(ctx.backend, state.retiringTokenId, state.promotedAt).then((entries) => entries.at(-1)?.at),
  ]);
  const quietSince = lastOldUse && lastOldUse > state.promotedAt ? lastOldUse : state.promotedAt;
  const quiet = now.getTime() - quietSince.getTime() >= ctx.settings.quietPeriodMs;
  if (!forced && !(moved && quiet)) {
    const reason = !moved ? "no consumer traffic under the new token yet" : `old token used ${Math.round((now.getTime() - quietSince.getTime()) / 1000)}s ago`;
    ctx.log.info(`drain: waiting, ${reason}`, { token: name, tokenId: state.retiringTokenId, step: "drain" });
    return { kind: "waiting", reason };
  }
  // Never revoke what may be the only valid token: the current one must be live on the gateway. Even at the
  // deadline the old token is kept while it is valid; once its own expiry has passed it goes (for a backend without
  // native expiry, this revocation is the expiry).
  const current = await ctx.backend.describe(ctx.meta.tokenId);
  const expired = ctx.meta.retiringExpiresAt !== undefined && now.getTime() >= ctx.meta.retiringExpiresAt.getTime();
  if (current?.status !== TokenStatus.Active && !expired) {
    throw new BadStateError(
      ctx.secret.name,
      `the current token ${ctx.meta.tokenId} is ${current ? current.status : "unknown to the gateway"}; the old token ${state.retiringTokenId} is kept`,
      "run `openclaw-tokens rotate` (or pulumi up) to issue a valid token",
    );
  }
  const stillUsed = !moved || !quiet;
  if (stillUsed) {
    ctx.metrics.add(Metric.ConsumersStillOnOldToken);
    ctx.log.error("drain: consumers still on the old token at its deadline; revoking it anyway", { token: name, tokenId: state.retiringTokenId, step: "drain", moved, quiet });
  }
  await ctx.backend.revoke(state.retiringTokenId);
  await ctx.checkpoint(Boundary.OldRevoked);
  await confirmRevoked(ctx, state.retiringTokenId);
  await ctx.checkpoint(Boundary.RevocationConfirmed);
  await ctx.store.setMetadata(ctx.secret.name, {
    ...ctx.meta,
    retiringTokenId: undefined,
    retiringExpiresAt: undefined,
    promotedAt: undefined,
    lastRotatedAt: now,
  }, ctx.secret);
  ctx.log.info("revoke: old token revoked and confirmed; rotation complete", { token: name, tokenId: state.retiringTokenId, step: "revoke" });
  await ctx.checkpoint(Boundary.Completed);
  return { kind: "completed", consumersMoved: !stillUsed };
}

/** Requests under a token since `since` by anyone but this project's own tools. */
async function consumerTraffic(backend: GatewayBackend, tokenId: string, since: Date) {
  return (await backend.traffic(tokenId, since)).filter((entry) => !entry.userAgent.startsWith(OWN_USER_AGENT_PREFIX));
}

/** whoami with the old value must now be refused; where the value is gone, the gateway's metadata must agree. */
async function confirmRevoked(ctx: StepContext, tokenId: string): Promise<void> {
  const previous = await ctx.store.read(ctx.secret.name, Stage.Previous);
  let accepted: boolean;
  if (previous?.tokenId === tokenId) {
    accepted = await ctx.backend.whoami(previous.token).then(
      () => true,
      (error) => (error instanceof InvalidTokenError || error instanceof TokenExpiredError ? false : Promise.reject(error)),
    );
  } else {
    accepted = (await ctx.backend.describe(tokenId))?.status === TokenStatus.Active;
  }
  if (accepted) {
    throw new BadStateError(ctx.secret.name, `token ${tokenId} is still accepted after revocation`, "check the gateway; the next run revokes it again");
  }
}

async function readCurrent(ctx: StepContext): Promise<TokenRecord> {
  const current = await ctx.store.read(ctx.secret.name, Stage.Current);
  if (!current) throw new BadStateError(ctx.secret.name, "there is no AWSCURRENT version", "restore AWSCURRENT or run pulumi up");
  if (current.tokenId !== ctx.meta.tokenId && !ctx.meta.rotation) {
    throw new BadStateError(
      ctx.secret.name,
      `AWSCURRENT holds token ${current.tokenId} but the tags say ${ctx.meta.tokenId}`,
      "the secret was edited by hand; restore the version the tags name, or run pulumi up",
    );
  }
  return current;
}

function newIntent(tokenName: string, now: Date): RotationIntent {
  return { id: randomUUID(), mintName: gatewayTokenName(tokenName, now, randomBytes(3).toString("hex")), startedAt: now };
}

/**
 * Undoes a rotation that has not been promoted: revokes whatever it minted, drops AWSPENDING, clears the intent.
 * Used when the staged token fails verification, and by the provider before it replaces a token itself.
 */
export async function abortRotation(store: TokenStore, backend: GatewayBackend, secret: StoredSecret, meta: TokenMetadata): Promise<void> {
  const intent = meta.rotation;
  if (!intent || secret.stages.AWSCURRENT === intent.id) return;
  await revokeAllNamed(backend, intent.mintName, undefined);
  if (secret.stages.AWSPENDING) {
    const pending = await store.read(secret.name, Stage.Pending).catch(() => undefined);
    if (pending) await backend.revoke(pending.tokenId);
    await store.removeStage(secret.name, Stage.Pending, secret.stages.AWSPENDING);
  }
  await store.setMetadata(secret.name, { ...meta, rotation: undefined }, secret);
}

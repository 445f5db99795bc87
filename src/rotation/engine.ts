import { randomUUID } from "node:crypto";
import { Clock } from "../domain/clock";
import { TokenOpsError } from "../domain/errors";
import { GatewayBackend } from "../gateway/backend";
import { mintUnique, revokeOnFailure } from "../gateway/minting";
import { InvalidTokenError, TokenExpiredError } from "../gateway/errors";
import { Lease, LeaseStore } from "../lease/lease-store";
import { TokenMetadata } from "../store/metadata";
import { CorruptRecordError, TokenRecord } from "../store/record";
import { writeAsCurrent } from "../store/promote";
import { Stage, StoredSecret, TokenStore } from "../store/token-store";
import { BadStateError } from "./errors";
import { Boundary, Metric, MetricsSink, RotationLogger, RotationObserver } from "./observability";
import { forEachLimited } from "./pool";
import { RotatorSettings } from "./settings";
import { deriveState, isDue, Phase, RotationState } from "./state";
import { abortRotation, StepContext, StepOutcome, STEPS, verifyPending } from "./steps";

export interface EngineDependencies {
  readonly store: TokenStore;
  readonly backend: GatewayBackend;
  readonly leases: LeaseStore;
  readonly clock: Clock;
  readonly settings: RotatorSettings;
  readonly log: RotationLogger;
  readonly metrics: MetricsSink;
  readonly observer?: RotationObserver;
}

/** What happened to one token in a run. */
export type TokenOutcome =
  | "not-due"
  | "busy"
  | "deferred"
  | "waiting"
  | "completed"
  | "consumers-still-on-old-token"
  | "failed"
  | "bad-state";

export interface RunSummary {
  readonly scanned: number;
  readonly due: number;
  readonly outcomes: Readonly<Record<string, TokenOutcome>>;
}

/** Secrets Manager's own rotation steps (RotateSecret, the console's "rotate now"). */
export const SecretsManagerStep = {
  CreateSecret: "createSecret",
  SetSecret: "setSecret",
  TestSecret: "testSecret",
  FinishSecret: "finishSecret",
} as const;
export type SecretsManagerStep = (typeof SecretsManagerStep)[keyof typeof SecretsManagerStep];

/** A replacement issued by the leak response; `tagsError` when it is AWSCURRENT but the tags could not follow. */
interface Replacement {
  readonly tokenId: string;
  readonly tagsError?: unknown;
}

export interface EmergencyResult {
  readonly revokedTokenIds: readonly string[];
  readonly newTokenId: string;
  readonly elapsedMs: number;
}

/** At most this many steps per token per run: a full rotation up to the drain needs five. */
const MAX_STEPS_PER_RUN = 8;
/**
 * The longest one step may take: up to three gateway calls of at most ~70 s each with every retry (4 attempts of
 * 10 s, backoff capped at 10 s) and a few Secrets Manager calls. The lease is renewed before every step, and no
 * step starts unless the lease has at least this long to run.
 */
const LEASE_SAFETY_MS = 4 * 60_000;

/**
 * Rotates one environment's tokens. Every decision is re-derived from the secret (state.ts), every step is
 * idempotent (steps.ts), and a per-token lease keeps overlapping runs from working on the same token.
 */
export class RotationEngine {
  /** Identifies this engine's leases; a crashed run's leases simply expire. */
  private readonly owner = `rotator-${randomUUID()}`;

  constructor(private readonly deps: EngineDependencies) {}

  /**
   * One scheduled run. Tokens that are neither due nor mid-rotation are decided from their tags alone: no value
   * is read and the gateway is not called for them. `remainingMs` is the Lambda's time left.
   */
  async runScheduled(remainingMs: () => number = () => Infinity): Promise<RunSummary> {
    const now = this.deps.clock.now();
    const outcomes: Record<string, TokenOutcome> = {};
    const work: StoredSecret[] = [];
    let scanned = 0;
    let due = 0;
    for await (const secret of this.deps.store.list()) {
      scanned++;
      const meta = this.checkedMetadata(secret);
      if (!meta) {
        outcomes[secret.name] = "bad-state";
        continue;
      }
      const state = deriveState(secret, meta);
      if (state.phase === Phase.Idle && !isDue(meta, now, this.deps.settings.expiryMarginMs)) {
        outcomes[secret.name] = "not-due";
        continue;
      }
      if (state.phase === Phase.Idle) due++;
      work.push(secret);
    }
    this.deps.metrics.add(Metric.TokensDue, due);
    this.deps.log.info(`scan: ${scanned} managed tokens, ${due} due, ${work.length - due} mid-rotation`, { step: "scan" });

    await forEachLimited(work, this.deps.settings.maxConcurrency, async (secret) => {
      if (remainingMs() < this.deps.settings.minRemainingMs) {
        outcomes[secret.name] = "deferred";
        return;
      }
      outcomes[secret.name] = await this.advance(secret.name, false);
    });
    const deferred = Object.values(outcomes).filter((o) => o === "deferred").length;
    if (deferred) this.deps.log.warn(`run: ${deferred} tokens left for the next run (Lambda time running out)`, { step: "run" });
    return { scanned, due, outcomes };
  }

  /** Starts (or continues) a rotation of one token now, due or not: the operator's `rotate`. */
  rotateNow(secretName: string): Promise<TokenOutcome> {
    return this.advance(secretName, true);
  }

  /**
   * The leak response: issue a replacement as AWSCURRENT, then revoke every live token the secret had (the
   * current one and any still retiring) and confirm the leaked one is refused. Consumers that reload get the
   * replacement; those holding the leaked value fail until they do, which is the price of a leak.
   */
  async emergencyRevoke(secretName: string): Promise<EmergencyResult> {
    const started = Date.now();
    // A leak waits for nothing: the lease is taken over from a scheduled run that holds it (which stops at its next
    // step, when it fails to renew it), and a lease table that cannot be reached is not waited for either.
    const lease = await this.deps.leases
      .takeOver(this.leaseKey(secretName), this.owner, this.deps.settings.leaseTtlMs, this.deps.clock.now())
      .catch((error: unknown) => {
        this.deps.log.warn(`emergency: the lease could not be taken (${String(error)}); proceeding without it`, { token: secretName, step: "emergency" });
        return undefined;
      });
    try {
      const secret = await this.describeOrThrow(secretName);
      const meta = this.metadataOrThrow(secret);
      const current = await this.deps.store.read(secretName, Stage.Current);
      const template = current ?? (await this.deps.store.read(secretName, Stage.Previous));
      // Every live token the secret knows of: the tags' current and retiring ones, and the version AWSCURRENT holds,
      // which is ahead of the tags when a rotation stopped between promoting and recording the promotion.
      const ids = new Set<string>([meta.tokenId, ...(meta.retiringTokenId ? [meta.retiringTokenId] : []), ...(current ? [current.tokenId] : [])]);
      await abortRotation(this.deps.store, this.deps.backend, secret, meta);
      // The replacement first: consumers that reload find a working token at once. The leaked tokens are revoked
      // in `finally`, so a replacement that cannot be issued delays their revocation by one failed call, no more.
      let replacement: Replacement | undefined;
      let failure: unknown;
      try {
        replacement = await this.issueReplacement(secretName, meta, template);
      } catch (error) {
        failure = error;
      } finally {
        for (const id of ids) await this.deps.backend.revoke(id);
        if (current && (await this.accepted(current.token))) {
          throw new TokenOpsError("revoke_unconfirmed", `${secretName}: token ${current.tokenId} is still accepted after revocation`, {
            hint: "revoke it on the gateway by hand now",
          });
        }
        this.deps.log.warn("emergency: leaked token revoked and confirmed refused", { token: meta.tokenName, tokenId: meta.tokenId, step: "emergency" });
      }
      if (replacement?.tagsError) {
        throw new TokenOpsError(
          "replacement_untagged",
          `${secretName}: the leaked token ${meta.tokenId} was revoked and the replacement ${replacement.tokenId} is AWSCURRENT and valid, but the secret's tags could not be updated: ${String(replacement.tagsError)}`,
          {
            hint: `rotations of this token stop with "bad state" until the tags match: run \`openclaw-tokens revoke ${meta.tokenName} --emergency\` again (it issues another replacement and writes the tags)`,
            cause: replacement.tagsError,
          },
        );
      }
      if (!replacement) {
        throw new TokenOpsError("replacement_failed", `${secretName}: the leaked token ${meta.tokenId} was revoked, but no replacement could be issued: ${String(failure)}`, {
          hint: `consumers have no valid token until one is issued: fix the cause, then run \`openclaw-tokens rotate ${meta.tokenName}\` or pulumi up`,
          cause: failure,
        });
      }
      this.deps.metrics.add(Metric.EmergencyRevocations);
      const elapsedMs = Date.now() - started;
      this.deps.log.warn("emergency: replacement is AWSCURRENT", { token: meta.tokenName, tokenId: replacement.tokenId, step: "emergency", elapsedMs });
      return { revokedTokenIds: [...ids], newTokenId: replacement.tokenId, elapsedMs };
    } finally {
      if (lease) await this.deps.leases.release(lease).catch(() => undefined);
    }
  }

  /**
   * Mints a token like the current one and makes it AWSCURRENT, with clean rotation tags. The new token is revoked
   * if it could not be stored, but never once it is AWSCURRENT: a failure to write the tags after that is returned
   * with it, so that the leak response never ends with a revoked token as the current one.
   */
  private async issueReplacement(secretName: string, meta: TokenMetadata, template: TokenRecord | undefined): Promise<Replacement> {
    if (!template) throw new BadStateError(secretName, "no version to take the token's scopes from", "run pulumi up to re-create the token");
    const now = this.deps.clock.now();
    const issued = await mintUnique(this.deps.backend, {
      declaredName: meta.tokenName,
      scopes: template.scopes,
      expiresAt: new Date(now.getTime() + meta.ttlSeconds * 1000),
      now,
    });
    const record: TokenRecord = {
      ...template,
      token: issued.value,
      tokenId: issued.metadata.id,
      gatewayTokenName: issued.metadata.name,
      issuedAt: now,
      expiresAt: issued.metadata.expiresAt ?? new Date(now.getTime() + meta.ttlSeconds * 1000),
    };
    const versionId = randomUUID();
    const before = await revokeOnFailure(this.deps.backend, issued.metadata.id, async () => {
      const before = await this.describeOrThrow(secretName);
      try {
        await writeAsCurrent(this.deps.store, secretName, versionId, record, before.stages.AWSCURRENT);
      } catch (error) {
        // Past the move of AWSCURRENT (only the AWSPENDING clean-up failed) the new token is what consumers read.
        const after = await this.deps.store.describe(secretName).catch(() => undefined);
        if (after?.stages.AWSCURRENT !== versionId) throw error;
      }
      return before;
    });
    try {
      await this.deps.store.setMetadata(secretName, {
        ...this.metadataOrThrow(before),
        tokenId: record.tokenId,
        issuedAt: now,
        expiresAt: record.expiresAt,
        retiringTokenId: undefined,
        retiringExpiresAt: undefined,
        promotedAt: undefined,
        rotation: undefined,
        lastRotatedAt: now,
      }, before);
    } catch (tagsError) {
      return { tokenId: issued.metadata.id, tagsError };
    }
    return { tokenId: issued.metadata.id };
  }

  /**
   * One step of Secrets Manager's rotation protocol, mapped onto the same durable phases. The drain and the
   * revocation of the old token happen on the schedule, as for any rotation.
   */
  async handleSecretsManagerStep(step: SecretsManagerStep, secretId: string, clientRequestToken: string): Promise<void> {
    await this.withLease(secretId, async () => {
      const secret = await this.describeOrThrow(secretId);
      const meta = this.metadataOrThrow(secret);
      const ctx = this.context(secret, meta, false);
      const log = (message: string) => this.deps.log.info(`${step}: ${message}`, { token: meta.tokenName, step, rotationId: clientRequestToken });
      switch (step) {
        case SecretsManagerStep.CreateSecret: {
          if (secret.stages.AWSPENDING === clientRequestToken) return log("AWSPENDING already staged");
          if (meta.rotation && meta.rotation.id !== clientRequestToken) {
            throw new TokenOpsError("rotation_in_progress", `${secret.name}: a scheduled rotation (${meta.rotation.id}) is in progress`, {
              hint: "wait for it to finish; the schedule completes it",
            });
          }
          // A second rotation now would push the draining token off AWSPREVIOUS and out of the tags, live and untracked.
          if (meta.retiringTokenId) {
            throw new TokenOpsError("rotation_in_progress", `${secret.name}: the previous rotation is still draining (old token ${meta.retiringTokenId})`, {
              hint: "wait until the schedule has revoked the old token, then rotate again",
            });
          }
          // Record the intent under Secrets Manager's token, then mint exactly as a scheduled rotation does.
          const intent = meta.rotation ?? { id: clientRequestToken, mintName: `${meta.tokenName}-sm-${clientRequestToken.slice(0, 8)}`.toLowerCase(), startedAt: ctx.now() };
          if (!meta.rotation) {
            await this.deps.store.setMetadata(secret.name, { ...meta, rotation: intent }, secret);
            this.deps.metrics.add(Metric.RotationsStarted);
          }
          const fresh = await this.describeOrThrow(secret.name);
          await STEPS[Phase.Minting](this.context(fresh, this.metadataOrThrow(fresh), false), { phase: Phase.Minting, intent });
          return log("new token staged as AWSPENDING");
        }
        case SecretsManagerStep.SetSecret:
          // The gateway minted the token already; there is nothing to push anywhere.
          return log("nothing to set: the gateway issued the token");
        case SecretsManagerStep.TestSecret: {
          if (!meta.rotation || meta.rotation.id !== clientRequestToken) {
            throw new BadStateError(secret.name, `no rotation ${clientRequestToken} is staged (AWSPENDING missing)`, "start the rotation again");
          }
          await verifyPending(ctx, meta.rotation);
          return log("AWSPENDING verified with whoami");
        }
        case SecretsManagerStep.FinishSecret: {
          if (secret.stages.AWSCURRENT === clientRequestToken && !meta.rotation) return log("already promoted");
          let current = secret;
          if (current.stages.AWSCURRENT !== clientRequestToken) {
            // Promote only this rotation's staged token, verified again: it may have been aborted (an emergency
            // revocation in between) since testSecret.
            if (meta.rotation?.id !== clientRequestToken || secret.stages.AWSPENDING !== clientRequestToken) {
              throw new BadStateError(secret.name, `rotation ${clientRequestToken} is no longer staged (aborted, or AWSPENDING moved)`, "start the rotation again");
            }
            await verifyPending(ctx, meta.rotation);
            await this.deps.store.moveStage(secret.name, Stage.Current, clientRequestToken, secret.stages.AWSCURRENT);
            current = await this.describeOrThrow(secret.name);
          }
          const currentMeta = this.metadataOrThrow(current);
          const state = deriveState(current, currentMeta);
          if (state.phase === Phase.Promoting) await STEPS[Phase.Promoting](this.context(current, currentMeta, false), state);
          return log("promoted; the old token is revoked once consumers have moved");
        }
      }
    });
  }

  /** Takes the token's lease and runs its steps until it has to wait, completes, or fails. */
  private async advance(secretName: string, force: boolean): Promise<TokenOutcome> {
    try {
      const outcome = await this.withLease(secretName, (lease) => this.runSteps(secretName, force, lease));
      return outcome ?? "busy";
    } catch (error) {
      return this.failed(secretName, error);
    }
  }

  private async runSteps(secretName: string, force: boolean, taken: Lease): Promise<TokenOutcome> {
    let lease = taken;
    const freshIntents = new Set<string>();
    for (let i = 0; i < MAX_STEPS_PER_RUN; i++) {
      if (i > 0) {
        const renewed = await this.deps.leases.acquire(lease.key, lease.owner, this.deps.settings.leaseTtlMs, this.deps.clock.now());
        if (!renewed) {
          this.deps.log.warn("lease: taken over (an emergency revocation?); this run stops here", { token: secretName, step: "lease" });
          return "busy";
        }
        lease = renewed;
      }
      // A step must finish inside the lease: past this point another run may take the token over.
      if (this.deps.clock.now().getTime() > lease.expiresAt.getTime() - LEASE_SAFETY_MS) {
        this.deps.log.warn("lease: close to expiry; the token is left in its phase for the next run", { token: secretName, step: "lease" });
        return "deferred";
      }
      // Re-read after every step: the state machine trusts only what is durable.
      const secret = await this.describeOrThrow(secretName);
      const meta = this.metadataOrThrow(secret);
      const state: RotationState = deriveState(secret, meta);
      const ctx = { ...this.context(secret, meta, force && i === 0), freshIntents };
      const outcome: StepOutcome = await (STEPS[state.phase] as (c: StepContext, s: RotationState) => Promise<StepOutcome>)(ctx, state);
      switch (outcome.kind) {
        case "advanced":
          continue;
        case "not-due":
          return "not-due";
        case "waiting":
          return "waiting";
        case "completed":
          if (outcome.consumersMoved) {
            this.deps.metrics.add(Metric.RotationsCompleted);
            return "completed";
          }
          this.deps.metrics.add(Metric.RotationsFailed);
          return "consumers-still-on-old-token";
      }
    }
    throw new TokenOpsError("too_many_steps", `${secretName}: rotation did not settle after ${MAX_STEPS_PER_RUN} steps`, {
      hint: "this is a bug; the token is left in a resumable phase",
    });
  }

  private failed(secretName: string, error: unknown): TokenOutcome {
    const bad = error instanceof BadStateError || error instanceof CorruptRecordError;
    this.deps.metrics.add(bad ? Metric.BadState : Metric.RotationsFailed);
    this.deps.log.error(`${bad ? "bad state" : "rotation failed"}: ${error instanceof Error ? error.message : String(error)}`, {
      token: secretName,
      step: "advance",
      code: (error as { code?: string }).code,
    });
    return bad ? "bad-state" : "failed";
  }

  private async withLease<T>(secretName: string, work: (lease: Lease) => Promise<T>): Promise<T | undefined> {
    const lease = await this.deps.leases.acquire(this.leaseKey(secretName), this.owner, this.deps.settings.leaseTtlMs, this.deps.clock.now());
    if (!lease) {
      this.deps.log.info("lease: another run is working on this token; skipped", { token: secretName, step: "lease" });
      return undefined;
    }
    try {
      return await work(lease);
    } finally {
      await this.deps.leases.release(lease);
    }
  }

  private context(secret: StoredSecret, meta: TokenMetadata, force: boolean): StepContext {
    const observer = this.deps.observer;
    return {
      secret,
      meta,
      store: this.deps.store,
      backend: this.deps.backend,
      settings: this.deps.settings,
      log: this.deps.log,
      metrics: this.deps.metrics,
      now: () => this.deps.clock.now(),
      checkpoint: async (boundary: Boundary) => {
        await observer?.checkpoint?.(boundary, meta.tokenName);
      },
      force,
      freshIntents: new Set(),
    };
  }

  /** The secret's metadata if it belongs to this rotator (environment, gateway, backend); otherwise reported. */
  private checkedMetadata(secret: StoredSecret): TokenMetadata | undefined {
    try {
      return this.metadataOrThrow(secret);
    } catch (error) {
      this.failed(secret.name, error);
      return undefined;
    }
  }

  private metadataOrThrow(secret: StoredSecret): TokenMetadata {
    const meta = secret.metadata;
    if ("problems" in meta) {
      throw new BadStateError(secret.name, `bad metadata tags: ${meta.problems.join("; ")}`, "restore the tags, or run pulumi up; do not edit managed secrets by hand");
    }
    const { settings } = this.deps;
    if (meta.environment !== settings.environment || meta.gatewayUrl !== settings.gatewayUrl || meta.backend !== settings.backend) {
      throw new BadStateError(
        secret.name,
        `belongs to ${meta.environment} at ${meta.gatewayUrl} (${meta.backend}), but this rotator serves ${settings.environment} at ${settings.gatewayUrl} (${settings.backend})`,
        "each environment's rotator manages only its own gateway's tokens; check the stack's gateway URL",
      );
    }
    return meta;
  }

  private async describeOrThrow(secretId: string): Promise<StoredSecret> {
    const secret = await this.deps.store.describe(secretId);
    if (!secret || secret.deletedAt) throw new BadStateError(secretId, "the secret does not exist", "check the name; pulumi up creates it");
    return secret;
  }

  private accepted(token: import("../domain/sensitive").Sensitive): Promise<boolean> {
    return this.deps.backend.whoami(token).then(
      () => true,
      (error) => (error instanceof InvalidTokenError || error instanceof TokenExpiredError ? false : Promise.reject(error)),
    );
  }

  private leaseKey(secretName: string): string {
    return `token#${secretName}`;
  }
}

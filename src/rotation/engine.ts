import { randomUUID } from "node:crypto";
import { Clock } from "../domain/clock";
import { TokenOpsError } from "../domain/errors";
import { Sensitive } from "../domain/sensitive";
import { GatewayBackend, isRevocable } from "../gateway/backend";
import { FencedEntry } from "../ledger/fenced-entry";
import { fingerprint } from "../ledger/fingerprint";
import { LedgerPhase, Ledger, LedgerConflictError, LedgerEntry, LedgerToken, RotationState, TokenRef, dueAt } from "../ledger/ledger";
import { isRotatorCredential } from "../store/metadata";
import { CorruptRecordError } from "../store/record";
import { TokenStore } from "../store/token-store";
import { BadStateError } from "./errors";
import { Boundary, EventSink, Metric, MetricsSink, noEvents, RotationLogger, RotationMilestone, RotationObserver } from "./observability";
import { forEachLimited } from "./pool";
import { RotatorSettings } from "./settings";
import { abandonedState, abandonRotation, mintAndStage, newIntent, STEPS, StepContext, StepOutcome, sweep, verifyAndPromote, verifyPending } from "./steps";

export interface EngineDependencies {
  readonly store: TokenStore;
  readonly backend: GatewayBackend;
  readonly ledger: Ledger;
  readonly clock: Clock;
  readonly settings: RotatorSettings;
  readonly log: RotationLogger;
  readonly metrics: MetricsSink;
  /** Milestone events. @default none */
  readonly events?: EventSink;
  readonly observer?: RotationObserver;
  /**
   * The same gateway with another admin credential: the leak response on the rotator's own credential finishes with
   * the replacement it just promoted, since the leaked one it may be acting with is revoked under it. @default none
   */
  readonly backendWith?: (adminToken: Sensitive) => GatewayBackend;
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
  /** Entries the run looked at: those due or mid-rotation (the ledger's due index), not every token. */
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

export interface EmergencyResult {
  readonly revokedTokenIds: readonly string[];
  readonly newTokenId: string;
  readonly elapsedMs: number;
}

/** At most this many steps per token per run: a full rotation up to the drain needs four. */
const MAX_STEPS_PER_RUN = 8;
/**
 * The longest one step may take: up to three gateway calls of at most ~70 s each with every retry (4 attempts of
 * 10 s, backoff capped at 10 s) and a few AWS calls. Every ledger write renews the lease, and no step starts unless
 * the lease has at least this long to run.
 */
const LEASE_SAFETY_MS = 4 * 60_000;

/**
 * Rotates one environment's tokens. Every decision comes from the ledger (declaration and rotation state) and the
 * gateway; every step is idempotent (steps.ts) and fenced by the ledger entry's version (FencedEntry).
 */
export class RotationEngine {
  /** Identifies this engine's leases; a crashed run's leases expire (judged with a bounded clock skew). */
  private readonly owner = `rotator-${randomUUID()}`;

  constructor(private readonly deps: EngineDependencies) {}

  /**
   * One scheduled run over the entries that are due or mid-rotation, from the ledger's due index: the cost of a run
   * grows with what there is to do, not with the number of tokens. No secret is read for a token with nothing to do.
   */
  async runScheduled(remainingMs: () => number = () => Infinity): Promise<RunSummary> {
    const now = this.deps.clock.now();
    const outcomes: Record<string, TokenOutcome> = {};
    const work: LedgerEntry[] = [];
    let due = 0;
    for await (const entry of this.deps.ledger.due(now)) {
      const name = entry.declaration.secretName;
      const problem = this.foreign(entry);
      if (problem) {
        outcomes[name] = this.failed(name, problem);
        continue;
      }
      if (entry.state.phase === LedgerPhase.Idle && entry.state.current && now < dueAt(entry.state.current, entry.declaration, this.deps.settings.expiryMarginMs)) {
        // Listed for a sweep or a stale check time: still handled, but not counted as due.
      } else if (entry.state.phase === LedgerPhase.Idle) {
        due++;
      }
      work.push(entry);
    }
    this.deps.metrics.add(Metric.TokensDue, due);
    this.deps.log.info(`scan: ${work.length} ledger entries to look at, ${due} due`, { step: "scan" });

    await forEachLimited(work, this.deps.settings.maxConcurrency, async (entry) => {
      const name = entry.declaration.secretName;
      if (remainingMs() < this.deps.settings.minRemainingMs) {
        outcomes[name] = "deferred";
        return;
      }
      outcomes[name] = await this.advance(name, false, entry);
    });
    const deferred = Object.values(outcomes).filter((o) => o === "deferred").length;
    if (deferred) this.deps.log.warn(`run: ${deferred} tokens left for the next run (Lambda time running out)`, { step: "run" });
    return { scanned: work.length, due, outcomes };
  }

  /** Starts (or continues) a rotation of one token now, due or not: the operator's `rotate`. */
  rotateNow(secretName: string): Promise<TokenOutcome> {
    return this.advance(secretName, true);
  }

  /**
   * The leak response: records that every live token of the entry is to be revoked, issues a replacement as
   * AWSCURRENT, revokes the leaked tokens and confirms the gateway refuses them. It takes the entry over from any holder
   * (whose next write then fails), and whatever stops it midway, the next actor revokes what the ledger lists first.
   */
  async emergencyRevoke(secretName: string): Promise<EmergencyResult> {
    const started = Date.now();
    const fence = await this.acquireOrThrow(secretName, true);
    const { declaration } = fence.entry;
    const ctx = this.context(fence, false);
    try {
      const state = fence.state;
      if (state.phase === LedgerPhase.Creating) {
        // pulumi up is creating it: nothing consumers hold yet. What its mint may have minted is revoked; the entry stays
        // pulumi's to finish (its next write fails, and it revokes its own mint).
        await fence.write({ ...abandonedState(state, ctx.now()), phase: LedgerPhase.Creating });
        await sweep(ctx);
        throw new TokenOpsError("token_being_created", `${secretName} is being created by pulumi up: no token was issued to consumers yet`, {
          hint: "whatever the create minted was revoked; run pulumi up again to finish creating it",
        });
      }
      const leaked: TokenRef[] = [state.current, state.pending, state.retiring].filter((t): t is LedgerToken => t !== undefined).map(ref);
      const intent = newIntent(declaration.name, ctx.now(), "emergency");
      // Durable first: whoever resumes this entry revokes the leaked tokens before anything else.
      await fence.write({ ...abandonedState(state, ctx.now()), phase: LedgerPhase.Minting, rotation: intent, revokeNow: [...state.revokeNow, ...leaked], lastError: "emergency revocation" });
      ctx.freshIntents.add(intent.id);
      let failure: unknown;
      let replacement: LedgerToken | undefined;
      try {
        await mintAndStage(ctx);
        await verifyAndPromote(ctx);
        replacement = fence.state.current;
      } catch (error) {
        failure = error;
      }
      // The rotator's own credential: the sweep and its confirmation act with the replacement, since the credential this
      // actor holds may be one of the leaked ones it is about to revoke.
      const finishing = replacement && !failure && isRotatorCredential(declaration) ? await this.withReplacement(ctx, secretName, replacement) : ctx;
      // The leaked tokens go whether or not a replacement could be issued: for a leak, an outage is the lesser harm.
      await sweep(finishing);
      for (const token of leaked) {
        if (isRevocable((await finishing.backend.describe(token.tokenId))?.status)) {
          throw new TokenOpsError("revoke_unconfirmed", `${secretName}: token ${token.tokenId} is still accepted after revocation`, { hint: "revoke it on the gateway by hand now" });
        }
      }
      this.deps.log.warn("emergency: leaked tokens revoked and confirmed refused", { token: declaration.name, tokenIds: leaked.map((t) => t.tokenId), step: "emergency" });
      // Published once the leaked tokens are confirmed refused, with or without a replacement (none: no tokenId).
      await ctx.events?.publish({ milestone: RotationMilestone.EmergencyRevoked, environment: declaration.environment, token: declaration.name, secretName, tokenId: failure ? undefined : replacement?.tokenId, revokedTokenIds: leaked.map((t) => t.tokenId) });
      if (!replacement || failure) {
        // Nothing valid is left: the entry is due at once, and the next run (or `rotate`) issues a token that replaces
        // the revoked one outright, with nothing to drain.
        const after = fence.state;
        await fence.write({
          ...abandonedState(after, ctx.now()),
          phase: LedgerPhase.Idle,
          retiring: undefined,
          promotedAt: undefined,
          replaceNow: true,
          lastError: "emergency revocation: no replacement could be issued",
          nextCheckAt: ctx.now(),
        });
        throw new TokenOpsError("replacement_failed", `${secretName}: the leaked tokens were revoked, but no replacement could be issued: ${String(failure)}`, {
          hint: `consumers have no valid token until one is issued: fix the cause, then run \`openclaw-tokens rotate ${declaration.name}\` or pulumi up`,
          cause: failure,
        });
      }
      // The replacement is current and the leaked ones are revoked: nothing is left to drain.
      const after = fence.state;
      await fence.write({ ...after, phase: LedgerPhase.Idle, retiring: undefined, promotedAt: undefined, lastRotatedAt: ctx.now(), lastError: undefined, nextCheckAt: dueAt(replacement, declaration, this.deps.settings.expiryMarginMs) });
      this.deps.metrics.add(Metric.EmergencyRevocations);
      const elapsedMs = Date.now() - started;
      this.deps.log.warn("emergency: replacement is AWSCURRENT", { token: declaration.name, tokenId: replacement.tokenId, step: "emergency", elapsedMs });
      return { revokedTokenIds: leaked.map((t) => t.tokenId), newTokenId: replacement.tokenId, elapsedMs };
    } finally {
      await fence.release().catch(() => undefined);
    }
  }

  /**
   * One step of Secrets Manager's rotation protocol, on the same ledger phases. AWS names the secret by its ARN: it
   * is resolved to the name first, so the namespace check and the ledger key are the same as a scheduled run's. The
   * drain and the revocation of the old token happen on the schedule, as for any rotation.
   */
  async handleSecretsManagerStep(step: SecretsManagerStep, secretId: string, clientRequestToken: string): Promise<void> {
    const secretName = await this.deps.store.resolveName(secretId);
    const acquired = await FencedEntry.acquire(this.deps.ledger, secretName, this.leaseOptions(false));
    if (acquired.kind === "missing") throw this.unknown(secretName);
    if (acquired.kind === "busy") {
      throw new TokenOpsError("rotate_busy", `${secretName}: another run (${acquired.holder}) is working on this token`, { hint: "Secrets Manager retries the step; the schedule completes any rotation" });
    }
    const fence = acquired.entry;
    const problem = this.foreign(fence.entry);
    try {
      if (problem) throw problem;
      const ctx = this.context(fence, false);
      const state = fence.state;
      const ours = state.rotation?.id === clientRequestToken;
      const log = (message: string) => this.deps.log.info(`${step}: ${message}`, { token: fence.entry.declaration.name, step, rotationId: clientRequestToken });
      switch (step) {
        case SecretsManagerStep.CreateSecret: {
          if (ours && state.phase === LedgerPhase.Staged) return log("AWSPENDING already staged");
          if (state.phase !== LedgerPhase.Idle && !ours) {
            throw new TokenOpsError("rotation_in_progress", `${secretName}: a rotation is in progress (phase ${state.phase})`, {
              hint: "wait until the schedule has finished it (and revoked the old token), then rotate again",
            });
          }
          // Secrets Manager's token is the version ID; a version of that ID that exists already (an earlier attempt that
          // died after storing it) cannot take another value: that attempt is abandoned and Secrets Manager must retry anew.
          if (await this.deps.store.read(secretName, { versionId: clientRequestToken }).catch(() => undefined)) {
            if (ours) await abandonRotation(ctx, state.pending);
            throw new TokenOpsError("version_exists", `${secretName}: version ${clientRequestToken} already holds an earlier attempt`, {
              hint: "start a new rotation (aws secretsmanager rotate-secret) so that Secrets Manager issues a new version ID",
            });
          }
          if (!ours) {
            const intent = { ...newIntent(fence.entry.declaration.name, ctx.now(), "secrets-manager", clientRequestToken), versionId: clientRequestToken };
            await fence.write({ ...state, phase: LedgerPhase.Minting, rotation: intent, nextCheckAt: ctx.now() });
            ctx.freshIntents.add(intent.id);
            this.deps.metrics.add(Metric.RotationsStarted);
          }
          await mintAndStage(ctx, { fixedVersionId: clientRequestToken });
          return log("new token staged as AWSPENDING");
        }
        case SecretsManagerStep.SetSecret:
          // The gateway minted the token already; there is nothing to push anywhere.
          return log("nothing to set: the gateway issued the token");
        case SecretsManagerStep.TestSecret: {
          if (!ours || state.phase !== LedgerPhase.Staged) {
            throw new BadStateError(secretName, `no rotation ${clientRequestToken} is staged`, "start the rotation again");
          }
          await verifyPending(ctx);
          return log("AWSPENDING verified with whoami");
        }
        case SecretsManagerStep.FinishSecret: {
          if (!ours && state.current?.versionId === clientRequestToken) return log("already promoted");
          if (!ours || state.phase !== LedgerPhase.Staged) {
            throw new BadStateError(secretName, `rotation ${clientRequestToken} is no longer staged (aborted, or replaced)`, "start the rotation again");
          }
          await verifyAndPromote(ctx);
          return log("promoted; the old token is revoked once consumers have moved");
        }
      }
    } finally {
      await fence.release();
    }
  }

  /** Takes the token's entry and runs its steps until it has to wait, completes, or fails. */
  private async advance(secretName: string, force: boolean, known?: LedgerEntry): Promise<TokenOutcome> {
    let fence: FencedEntry | undefined;
    try {
      const acquired = await FencedEntry.acquire(this.deps.ledger, secretName, this.leaseOptions(false), known);
      if (acquired.kind === "missing") throw this.unknown(secretName);
      if (acquired.kind === "busy") {
        this.deps.log.info("lease: another actor is working on this token; skipped", { token: secretName, step: "lease", holder: acquired.holder });
        return "busy";
      }
      fence = acquired.entry;
      const problem = this.foreign(fence.entry);
      if (problem) throw problem;
      return await this.runSteps(fence, force);
    } catch (error) {
      if (error instanceof LedgerConflictError) {
        this.deps.log.warn("lease: the entry was taken over (the leak response, pulumi or another run); this run stops here", { token: secretName, step: "lease" });
        return "busy";
      }
      const outcome = this.failed(secretName, error);
      await fence?.release({ ...fence.state, lastError: error instanceof Error ? error.message : String(error) }).catch(() => undefined);
      fence = undefined;
      return outcome;
    } finally {
      await fence?.release().catch(() => undefined);
    }
  }

  private async runSteps(fence: FencedEntry, force: boolean): Promise<TokenOutcome> {
    const freshIntents = new Set<string>();
    const name = fence.entry.declaration.secretName;
    if (fence.state.phase === LedgerPhase.Creating) {
      await this.cleanUpAbandonedCreate(fence);
      return "bad-state";
    }
    await sweep(this.context(fence, false, freshIntents));
    for (let i = 0; i < MAX_STEPS_PER_RUN; i++) {
      // A step must finish inside the lease: past this point another actor may take the token over.
      if (fence.expiresWithin(LEASE_SAFETY_MS)) {
        this.deps.log.warn("lease: close to expiry; the token is left in its phase for the next run", { token: name, step: "lease" });
        return "deferred";
      }
      // No renewal here: every step ends with a ledger write, which renews the lease.
      const ctx = this.context(fence, force && i === 0, freshIntents);
      const phase = fence.state.phase as Exclude<LedgerPhase, "creating">;
      const outcome: StepOutcome = await STEPS[phase](ctx);
      switch (outcome.kind) {
        case "advanced":
          continue;
        case "not-due": {
          // The due index may list an entry early (a TTL change, a sweep): put it back at its due time.
          const current = fence.state.current as LedgerToken;
          await fence.release({ ...fence.state, nextCheckAt: dueAt(current, fence.entry.declaration, this.deps.settings.expiryMarginMs) });
          return "not-due";
        }
        case "waiting":
          await fence.release({ ...fence.state, nextCheckAt: outcome.recheckAt, consumersOnOldToken: outcome.consumersOnOldToken ?? fence.state.consumersOnOldToken });
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
    throw new TokenOpsError("too_many_steps", `${name}: rotation did not settle after ${MAX_STEPS_PER_RUN} steps`, {
      hint: "this is a bug; the token is left in a resumable phase",
    });
  }

  /**
   * A provider's create that died between minting and recording the token (its lease long expired): whatever it minted
   * under its recorded name is revoked, and the entry waits for the next `pulumi up`, which finishes or redoes it.
   */
  private async cleanUpAbandonedCreate(fence: FencedEntry): Promise<void> {
    const state = fence.state;
    await fence.write({ ...abandonedState(state, this.deps.clock.now()), phase: LedgerPhase.Creating });
    await sweep(this.context(fence, false));
    await fence.write({ ...fence.state, lastError: "pulumi up did not finish creating this token", nextCheckAt: new Date(this.deps.clock.now().getTime() + 86400_000) });
    this.deps.log.warn("create: an unfinished create was cleaned up; run pulumi up to finish it", { token: fence.entry.declaration.name, step: "sweep" });
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

  private leaseOptions(takeOver: boolean) {
    return { owner: this.owner, clock: this.deps.clock, ttlMs: this.deps.settings.leaseTtlMs, takeOver };
  }

  private async acquireOrThrow(secretName: string, takeOver: boolean): Promise<FencedEntry> {
    const acquired = await FencedEntry.acquire(this.deps.ledger, secretName, this.leaseOptions(takeOver));
    if (acquired.kind === "missing") throw this.unknown(secretName);
    if (acquired.kind === "busy") throw new TokenOpsError("rotate_busy", `${secretName}: another actor (${acquired.holder}) holds this token`, { hint: "try again in a few minutes" });
    const problem = this.foreign(acquired.entry.entry);
    if (problem) {
      await acquired.entry.release();
      throw problem;
    }
    return acquired.entry;
  }

  /** `ctx` acting with the credential's replacement, read by its recorded version and digest. */
  private async withReplacement(ctx: StepContext, secretName: string, replacement: LedgerToken): Promise<StepContext> {
    if (!this.deps.backendWith) return ctx;
    const record = await this.deps.store.read(secretName, { versionId: replacement.versionId });
    if (!record || fingerprint(record.token) !== replacement.valueSha256) return ctx;
    return { ...ctx, backend: this.deps.backendWith(record.token) };
  }

  private context(fence: FencedEntry, force: boolean, freshIntents = new Set<string>()): StepContext {
    const observer = this.deps.observer;
    return {
      fence,
      store: this.deps.store,
      backend: this.deps.backend,
      settings: this.deps.settings,
      log: this.deps.log,
      metrics: this.deps.metrics,
      events: this.deps.events ?? noEvents,
      now: () => this.deps.clock.now(),
      checkpoint: async (boundary: Boundary) => {
        await observer?.checkpoint?.(boundary, fence.entry.declaration.name);
      },
      force,
      freshIntents,
    };
  }

  /** Why this rotator must not touch an entry (another environment, gateway or backend), if it must not. */
  private foreign(entry: LedgerEntry): BadStateError | undefined {
    const d = entry.declaration;
    const { settings } = this.deps;
    if (d.environment === settings.environment && d.gatewayUrl === settings.gatewayUrl && d.backend === settings.backend) return undefined;
    return new BadStateError(
      d.secretName,
      `belongs to ${d.environment} at ${d.gatewayUrl} (${d.backend}), but this rotator serves ${settings.environment} at ${settings.gatewayUrl} (${settings.backend})`,
      "each environment's rotator manages only its own gateway's tokens; check the stack's gateway URL",
    );
  }

  private unknown(secretName: string): BadStateError {
    return new BadStateError(secretName, "the ledger has no entry for this token", "check the name; pulumi up declares it");
  }
}

function ref(token: LedgerToken): TokenRef {
  return { tokenId: token.tokenId, gatewayName: token.gatewayName };
}

export type { RotationState };

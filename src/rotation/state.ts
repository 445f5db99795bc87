import { RotationIntent, TokenMetadata } from "../store/metadata";
import { StoredSecret } from "../store/token-store";

/** Where a token's rotation stands. */
export const Phase = {
  /** No rotation under way; the token may be due. */
  Idle: "idle",
  /** Intent recorded; the new token is not yet in AWSPENDING (it may have been minted: see the intent's name). */
  Minting: "minting",
  /** The new token is AWSPENDING: verify it, then promote it. */
  Staged: "staged",
  /** The new token is AWSCURRENT, but the tags do not say so yet. */
  Promoting: "promoting",
  /** The new token is current; the old one stays valid until consumers have moved off it. */
  Draining: "draining",
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

interface WithIntent<P extends Phase> {
  readonly phase: P;
  readonly intent: RotationIntent;
}

export type RotationState =
  | { readonly phase: typeof Phase.Idle }
  | WithIntent<typeof Phase.Minting>
  | WithIntent<typeof Phase.Staged>
  | WithIntent<typeof Phase.Promoting>
  | { readonly phase: typeof Phase.Draining; readonly retiringTokenId: string; readonly promotedAt: Date };

/**
 * The phase, read from what is durable: the intent in the tags and which version holds which stage. Nothing is
 * remembered between runs but this, so a run that died anywhere is picked up exactly where it stopped.
 */
export function deriveState(secret: StoredSecret, meta: TokenMetadata): RotationState {
  const intent = meta.rotation;
  if (intent) {
    if (secret.stages.AWSCURRENT === intent.id) return { phase: Phase.Promoting, intent };
    if (secret.stages.AWSPENDING === intent.id) return { phase: Phase.Staged, intent };
    return { phase: Phase.Minting, intent };
  }
  if (meta.retiringTokenId && meta.promotedAt) {
    return { phase: Phase.Draining, retiringTokenId: meta.retiringTokenId, promotedAt: meta.promotedAt };
  }
  return { phase: Phase.Idle };
}

/** When a token falls due: at `fraction` of its TTL, and in any case `margin` before it expires. */
export function dueAt(meta: TokenMetadata, expiryMarginMs: number): Date {
  const byFraction = meta.issuedAt.getTime() + meta.rotationFraction * meta.ttlSeconds * 1000;
  return new Date(Math.min(byFraction, meta.expiresAt.getTime() - expiryMarginMs));
}

export function isDue(meta: TokenMetadata, now: Date, expiryMarginMs: number): boolean {
  return now.getTime() >= dueAt(meta, expiryMarginMs).getTime();
}

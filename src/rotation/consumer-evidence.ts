/**
 * Whether consumers moved off a retiring token, judged per consumer from the gateway's consumers aggregates (issue 10):
 * every consumer seen on the old token since the promotion (or in the cache TTL before it, when it may have cached the
 * old value) must have been seen on the new token with no old-token call after its first new one, or have been
 * silent on the old token longer than the declared consumer cache TTL plus a margin. A pure function: the drain step
 * asks the gateway, this decides.
 */
import { ConsumerSeen } from "../gateway/backend";

/** Silence beyond the cache TTL before a consumer that never moved is presumed gone: a refresh in flight, clock skew. */
export const SILENCE_MARGIN_MS = 15 * 60_000;

export interface ConsumerVerdict {
  readonly consumer: string;
  readonly lastSeenOnOld: Date;
  /** When it was first seen on the new token, if it was. */
  readonly firstSeenOnNew: Date | undefined;
  readonly state: "moved" | "settling" | "silent" | "still-on-old";
}

export interface DrainEvidence {
  readonly verdicts: readonly ConsumerVerdict[];
  /** Some consumer called with the new token since the promotion. */
  readonly anyOnNew: boolean;
  /** Consumers that keep the drain waiting (settling or still on the old token), by identity. */
  readonly stillOnOld: readonly ConsumerVerdict[];
}

export interface EvidenceSettings {
  readonly now: Date;
  readonly consumerCacheTtlMs: number;
  /** How long a moved consumer's last old-token call must lie behind (its other requests in flight). */
  readonly settleMs: number;
}

/** The window of old-token consumers that count: from one cache TTL before the promotion (they may hold it cached). */
export function oldConsumersSince(promotedAt: Date, consumerCacheTtlMs: number): Date {
  return new Date(promotedAt.getTime() - consumerCacheTtlMs);
}

export function judgeConsumers(onOld: readonly ConsumerSeen[], onNew: readonly ConsumerSeen[], settings: EvidenceSettings): DrainEvidence {
  const now = settings.now.getTime();
  const newByName = new Map(onNew.map((c) => [c.consumer, c]));
  // A backend that cannot name consumers (openclaw-devices: one device per token) can only match "someone moved".
  const anyNew = onNew.length ? onNew.reduce((a, b) => (a.firstSeenAt <= b.firstSeenAt ? a : b)) : undefined;
  const verdicts = onOld.map((old): ConsumerVerdict => {
    const moved = old.source === "unknown" ? anyNew : newByName.get(old.consumer);
    const silentFor = now - old.lastSeenAt.getTime();
    let state: ConsumerVerdict["state"];
    if (moved && old.lastSeenAt.getTime() <= moved.firstSeenAt.getTime()) state = silentFor >= settings.settleMs ? "moved" : "settling";
    else if (silentFor > settings.consumerCacheTtlMs + SILENCE_MARGIN_MS) state = "silent";
    else state = "still-on-old";
    return { consumer: old.consumer, lastSeenOnOld: old.lastSeenAt, firstSeenOnNew: moved?.firstSeenAt, state };
  });
  return { verdicts, anyOnNew: onNew.length > 0, stillOnOld: verdicts.filter((v) => v.state === "settling" || v.state === "still-on-old") };
}

/** When the drain could next end, judged from the consumers still holding it (silence or settling running out). */
export function earliestChange(evidence: DrainEvidence, settings: EvidenceSettings): Date | undefined {
  const times = evidence.stillOnOld.map((v) =>
    v.lastSeenOnOld.getTime() + (v.state === "settling" ? settings.settleMs : settings.consumerCacheTtlMs + SILENCE_MARGIN_MS) + 1000,
  );
  return times.length ? new Date(Math.max(...times)) : undefined;
}

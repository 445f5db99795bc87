/** Durations written the way the guide writes them: "90d", "12h", "30m", "45s". */
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

export const MIN_TTL_SECONDS = 3600;
export const MAX_TTL_SECONDS = 365 * 86400;

/** Seconds in a duration string, or undefined if it is not of the form `<positive integer><s|m|h|d>`. */
export function parseDuration(text: string): number | undefined {
  const match = /^([1-9][0-9]{0,6})([smhd])$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
}

/** A short human form of a number of seconds ("90d", "36h", "15m"), for messages and tables. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 86400 && s % 86400 === 0) return `${s / 86400}d`;
  if (s >= 86400) return `${(s / 86400).toFixed(1)}d`;
  if (s >= 3600) return `${(s / 3600).toFixed(s % 3600 === 0 ? 0 : 1)}h`;
  if (s >= 60) return `${Math.round(s / 60)}m`;
  return `${s}s`;
}

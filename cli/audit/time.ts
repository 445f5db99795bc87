/** A point in time given on the command line: an ISO time, or a duration back from now (24h, 7d). */
import { parseDuration } from "../../src/domain/duration";
import { UsageError } from "../errors";
import { Command } from "../spec";

export function parseTimeOption(flag: string, text: string, now: Date): Date {
  const seconds = parseDuration(text);
  if (seconds !== undefined) return new Date(now.getTime() - seconds * 1000);
  const date = /^\d{4}-\d\d-\d\d/.test(text) ? new Date(text) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) {
    throw new UsageError(`--${flag} "${text}" is neither an ISO time nor a duration`, `write it like 2026-04-02T00:00:00Z, or 24h or 7d back from now`, Command.Audit);
  }
  return date;
}

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { max, median, min } from "./stats";

/** One measured figure: the median of `n` samples and, where there is one, its bound and the ratio to it. */
export interface Figure {
  readonly name: string;
  readonly unit: string;
  readonly median: number;
  readonly n: number;
  readonly min: number;
  readonly max: number;
  /** What the figure is compared with (a protocol minimum, a floor measured in the same run, a limit). */
  readonly bound?: { readonly value: number; readonly label: string };
  /** median / bound.value */
  readonly ratio?: number;
}

/** What one scenario measured, plus the details a reader needs to interpret it (breakdowns, outcomes). */
export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly figures: readonly Figure[];
  readonly notes: readonly string[];
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface BenchReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly command: string;
  readonly profile: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly machine: Readonly<Record<string, unknown>>;
  readonly scenarios: readonly ScenarioResult[];
}

/** A figure from its samples; `bound` turns it into a ratio. */
export function figure(name: string, unit: string, samples: readonly number[], bound?: { value: number; label: string }): Figure {
  const m = median(samples);
  return {
    name,
    unit,
    median: round(m),
    n: samples.length,
    min: round(min(samples)),
    max: round(max(samples)),
    ...(bound ? { bound: { value: round(bound.value), label: bound.label }, ratio: bound.value ? round(m / bound.value, 3) : undefined } : {}),
  };
}

function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function formatNumber(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return "";
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function rows(report: BenchReport): string[][] {
  const out: string[][] = [];
  for (const scenario of report.scenarios) {
    for (const f of scenario.figures) {
      out.push([
        scenario.id,
        f.name,
        `${formatNumber(f.median)} ${f.unit}`,
        String(f.n),
        f.bound ? `${formatNumber(f.bound.value)} (${f.bound.label})` : "",
        f.ratio === undefined ? "" : `${formatNumber(f.ratio)}x`,
      ]);
    }
  }
  return out;
}

const HEADER = ["scenario", "figure", "median", "n", "bound", "ratio"];

/** The table printed at the end of a run. */
export function renderTable(report: BenchReport): string {
  const all = [HEADER, ...rows(report)];
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((cell, i) => (i === 2 || i === 3 || i === 5 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join("  ");
  return [line(HEADER), widths.map((w) => "-".repeat(w)).join("  "), ...all.slice(1).map(line)].join("\n");
}

/** The same figures as a Markdown table, with each scenario's notes, for BENCHMARKS.md. */
export function renderMarkdown(report: BenchReport): string {
  const lines = [
    `Run ${report.startedAt} → ${report.finishedAt}, profile \`${report.profile}\`: \`${report.command}\``,
    "",
    "| " + HEADER.join(" | ") + " |",
    "|" + HEADER.map((_, i) => (i === 2 || i === 3 || i === 5 ? "---:" : "---")).join("|") + "|",
    ...rows(report).map((r) => "| " + r.join(" | ") + " |"),
    "",
  ];
  for (const scenario of report.scenarios) {
    if (!scenario.notes.length) continue;
    lines.push(`**${scenario.id}** (${scenario.title})`, "", ...scenario.notes.map((n) => `- ${n}`), "");
  }
  return lines.join("\n");
}

/** Writes results/<timestamp>.json, results/latest.json and results/latest.md; returns the timestamped path. */
export function writeReport(dir: string, report: BenchReport): string {
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, "-");
  const json = JSON.stringify(report, null, 2) + "\n";
  const path = join(dir, `${stamp}.json`);
  writeFileSync(path, json);
  writeFileSync(join(dir, "latest.json"), json);
  writeFileSync(join(dir, "latest.md"), renderMarkdown(report));
  return path;
}

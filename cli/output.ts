/**
 * Where the CLI writes. stdout carries results only (text, or one JSON document with --json); stderr carries the
 * engine's log lines, warnings and errors. Everything from elsewhere (error messages, log text) passes through
 * redactTokens on its way out, as a second line of defence behind Sensitive.
 */
import { TokenOpsError } from "../src/domain/errors";
import { redactTokens } from "../src/domain/redact";
import { LogFields, RotationLogger } from "../src/rotation/observability";
import { awsHint, UsageError } from "./errors";
import { paint, Style } from "./style";
import { USAGE, usageHelpLine } from "./usage";

/** An error as `--json` prints it on stderr: stdout stays for results only. */
export interface ErrorJson {
  readonly error: { readonly code: string; readonly message: string; readonly hint: string | null };
}

export interface Streams {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** What scripts can rely on (documented in every help text, usage.ts EXIT_CODES). */
export const ExitCode = { Ok: 0, Failed: 1, Usage: 2, ProblemsFound: 3 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface OutputSettings {
  readonly json: boolean;
  readonly debug: boolean;
  readonly awsEndpointUrl?: string;
}

export class Output {
  constructor(
    private readonly streams: Streams,
    private readonly settings: OutputSettings,
  ) {}

  get json(): boolean {
    return this.settings.json;
  }

  /** A result for people; ignored with --json, where `data` is the result. */
  text(lines: string): void {
    if (!this.settings.json) this.streams.stdout.write(`${lines}\n`);
  }

  /** A result for programs; printed only with --json. */
  data(value: unknown): void {
    if (this.settings.json) this.streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  warn(message: string): void {
    this.log("warn", message);
  }

  /** The engine's log, on stderr: compact lines for people, JSON lines with --json. */
  readonly logger: RotationLogger = {
    info: (message, fields) => this.log("info", message, fields),
    warn: (message, fields) => this.log("warn", message, fields),
    error: (message, fields) => this.log("error", message, fields),
  };

  /** Text for stdout with a style, when stdout is a terminal that wants colour. */
  styled(format: Style, text: string): string {
    return paint(this.streams.stdout, format, text);
  }

  /** Reports an error on stderr and returns the exit code it stands for. */
  fail(error: unknown): ExitCode {
    const usage = error instanceof UsageError;
    const ours = error instanceof TokenOpsError;
    const hint = ours && error.hint ? error.hint : awsHint(error, this.settings.awsEndpointUrl);
    let message = redactTokens(error instanceof Error ? error.message : String(error));
    // TokenOpsError's message ends with ". Fix: <hint>"; the hint is reported on its own.
    if (ours && error.hint && message.endsWith(`. Fix: ${redactTokens(error.hint)}`)) message = message.slice(0, -`. Fix: ${redactTokens(error.hint)}`.length);
    if (!ours) message = `unexpected error: ${message}`;
    const code = ours ? error.code : "unexpected";
    if (this.settings.json) {
      const body: ErrorJson = { error: { code, message, hint: hint ? redactTokens(hint) : null } };
      this.streams.stderr.write(`${JSON.stringify(body)}\n`);
    } else {
      const stderr = this.streams.stderr;
      stderr.write(`${paint(stderr, ["bold", "red"], "error:")} ${message}${hint ? `. Fix: ${redactTokens(hint)}` : ""}\n`);
      if (usage) stderr.write(`\n${error.command ? usageHelpLine(error.command) : USAGE}\n`);
    }
    if (this.settings.debug) {
      for (let e: unknown = error; e instanceof Error; e = e.cause) this.streams.stderr.write(`${redactTokens(e.stack ?? e.message)}\n`);
    } else if (!ours && !this.settings.json) {
      this.streams.stderr.write("(run again with --debug for the stack trace)\n");
    }
    return usage ? ExitCode.Usage : ExitCode.Failed;
  }

  private log(level: "info" | "warn" | "error", message: string, fields: LogFields = {}): void {
    const text = redactTokens(message);
    if (this.settings.json) {
      this.streams.stderr.write(`${redactTokens(JSON.stringify({ level, message: text, ...fields, time: new Date().toISOString() }))}\n`);
      return;
    }
    // The step already opens the message ("mint: ..."); the other fields follow in brackets.
    const rest = Object.entries(fields)
      .filter(([key, value]) => key !== "step" && value !== undefined)
      .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
    this.streams.stderr.write(redactTokens(`${level.padEnd(5)} ${text}${rest.length ? ` [${rest.join(" ")}]` : ""}`) + "\n");
  }
}

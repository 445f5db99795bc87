/**
 * Where the CLI writes. stdout carries results only (text, or one JSON document with --json); stderr carries the
 * engine's log lines, warnings and errors. Everything from elsewhere (error messages, log text) passes through
 * redactTokens on its way out, as a second line of defence behind Sensitive.
 */
import { TokenOpsError } from "../src/domain/errors";
import { redactTokens } from "../src/domain/redact";
import { LogFields, RotationLogger } from "../src/rotation/observability";
import { awsHint, UsageError } from "./errors";
import { USAGE } from "./usage";

export interface Streams {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export const ExitCode = { Ok: 0, Failed: 1, Usage: 2 } as const;
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

  /** Reports an error on stderr and returns the exit code it stands for. */
  fail(error: unknown): ExitCode {
    const usage = error instanceof UsageError;
    let message = redactTokens(error instanceof Error ? error.message : String(error));
    if (!(error instanceof TokenOpsError)) message = `unexpected error: ${message}`;
    const hint = error instanceof TokenOpsError && error.hint ? undefined : awsHint(error, this.settings.awsEndpointUrl);
    if (hint) message += `. Fix: ${hint}`;
    this.streams.stderr.write(`error: ${message}\n`);
    if (usage) this.streams.stderr.write(`\n${USAGE}\n`);
    if (this.settings.debug) {
      for (let e: unknown = error; e instanceof Error; e = e.cause) this.streams.stderr.write(`${redactTokens(e.stack ?? e.message)}\n`);
    } else if (!(error instanceof TokenOpsError)) {
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

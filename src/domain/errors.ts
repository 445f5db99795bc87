/**
 * The base of every error this project raises on purpose. Each carries a stable `code` that callers match on
 * (never the message text) and a `hint` that tells an operator what to do about it. Messages never contain a
 * token value: they name tokens by name and ID only.
 */
export class TokenOpsError extends Error {
  override name = "TokenOpsError";
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(options.hint ? `${message}. Fix: ${options.hint}` : message, { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
  }
}

/** Input that cannot be acted on; raised before anything is created. Lists every problem, not just the first. */
export class ValidationError extends TokenOpsError {
  override name = "ValidationError";
  readonly problems: readonly Problem[];

  constructor(subject: string, problems: readonly Problem[]) {
    super(
      "invalid_input",
      `${subject} is invalid:\n${problems.map((p) => `  - ${p.field}: ${p.message}`).join("\n")}`,
    );
    this.problems = problems;
  }
}

export interface Problem {
  /** The input field or config key at fault, e.g. `scopes[1]` or `openclaw:gatewayUrl`. */
  readonly field: string;
  /** What is wrong and what to write instead. */
  readonly message: string;
}

/** Thrown when an environment boundary would be crossed: a token, URL, prefix or secret of another environment. */
export class EnvironmentMismatchError extends TokenOpsError {
  override name = "EnvironmentMismatchError";
  constructor(message: string, hint: string) {
    super("environment_mismatch", message, { hint });
  }
}

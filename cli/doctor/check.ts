/** One line of doctor's report: what was checked, what it found, and the guide's fix when it found a problem. */

export const CheckStatus = {
  Ok: "ok",
  Problem: "problem",
  /** Worth knowing, not a fault (what the gateway answers to a lowercase `bearer`). */
  Info: "info",
  /** Not run: an earlier check made it meaningless, or its input was not given. */
  Skipped: "skipped",
} as const;
export type CheckStatus = (typeof CheckStatus)[keyof typeof CheckStatus];

export const CheckId = {
  Token: "token",
  Format: "format",
  ProviderKey: "provider-key",
  Environment: "environment",
  Gateway: "gateway",
  BearerForm: "bearer-form",
  Whoami: "whoami",
  EndpointScope: "endpoint-scope",
  Proxy: "proxy",
  Secret: "secret",
} as const;
export type CheckId = (typeof CheckId)[keyof typeof CheckId];

export interface Check {
  readonly id: CheckId;
  readonly status: CheckStatus;
  /** What was found, naming tokens by ID, length and prefix only: never the value. */
  readonly message: string;
  /** The guide's fix, for a problem. */
  readonly fix?: string;
}

export const ok = (id: CheckId, message: string): Check => ({ id, status: CheckStatus.Ok, message });
export const problem = (id: CheckId, message: string, fix: string): Check => ({ id, status: CheckStatus.Problem, message, fix });
export const info = (id: CheckId, message: string, fix?: string): Check => ({ id, status: CheckStatus.Info, message, ...(fix && { fix }) });
export const skipped = (id: CheckId, message: string): Check => ({ id, status: CheckStatus.Skipped, message });

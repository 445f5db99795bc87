/**
 * doctor's own HTTP calls: one request, its status and error body, no retries (a retry would hide the
 * intermittent 401 doctor is looking for). The Authorization header is built here and never logged.
 */
import { ownUserAgent } from "../../src/gateway/backend";
import { redactTokens } from "../../src/domain/redact";

const TIMEOUT_MS = 10_000;

export interface Answer {
  /** HTTP status, or undefined when nothing answered. */
  readonly status: number | undefined;
  /** The contract's `error.code`, when the body has one. */
  readonly code: string | undefined;
  /** The error body's message, or why nothing answered. Redacted. */
  readonly message: string;
  /** The parsed JSON body of a success. */
  readonly body: Record<string, unknown> | undefined;
}

export async function probe(baseUrl: string, path: string, authorization: string | undefined): Promise<Answer> {
  const headers: Record<string, string> = { "user-agent": ownUserAgent("cli"), accept: "application/json" };
  if (authorization !== undefined) headers.authorization = authorization;
  let response: Response;
  try {
    response = await fetch(`${baseUrl.replace(/\/+$/, "")}${path}`, { headers, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: "manual" });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { status: undefined, code: undefined, message: redactTokens(cause ?? (error as Error).message), body: undefined };
  }
  const text = await response.text().catch(() => "");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const message = typeof error?.message === "string" ? error.message : text.slice(0, 200);
  return {
    status: response.status,
    code: typeof error?.code === "string" ? error.code : undefined,
    message: redactTokens(message),
    body: response.ok && parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : undefined,
  };
}

/** `GET /v1/auth/whoami` with the exact form the guide prescribes. */
export function whoami(baseUrl: string, token: string, scheme = "Bearer"): Promise<Answer> {
  return probe(baseUrl, "/v1/auth/whoami", `${scheme} ${token}`);
}

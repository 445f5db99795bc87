import { ValidationError, type Problem } from "../src/domain/errors";
import { ALL_SCOPES, canonicalScopes, isScope, MAX_ADMIN_TOKENS_TTL_SECONDS, Scope } from "../src/domain/scopes";

/** The gateway refuses expiries further out than this; rotate instead of minting near-permanent tokens. */
export const MAX_EXPIRY_SECONDS = 400 * 86_400;
/**
 * The longest life of a token holding `admin:tokens`, whoever mints it: a token-management credential is always
 * short-lived (its holder, the rotator, replaces it well before), so a leaked or forgotten one dies on its own.
 */
export const MAX_TOKEN_ADMIN_EXPIRY_SECONDS = MAX_ADMIN_TOKENS_TTL_SECONDS;
export const TOKEN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const CREATE_FIELDS = ["name", "scopes", "expiresAt", "expiresInSeconds"] as const;

/** A create-token request that passed validation: what the registry needs to mint a token. */
export interface CreateTokenSpec {
  readonly name: string;
  /** Canonical order, no duplicates. */
  readonly scopes: readonly Scope[];
  /** Epoch milliseconds, or null for a token that never expires. */
  readonly expiresAtMs: number | null;
}

/**
 * Checks a `POST /v1/admin/tokens` body (the CLI builds the same shape from its flags) against the contract
 * and reports every problem at once, each naming the field and the fix.
 */
export function validateCreateToken(body: unknown, nowMs: number): CreateTokenSpec {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ValidationError("create-token request", [
      { field: "body", message: 'send a JSON object like {"name":"ci-runner","scopes":["run:jobs"]}' },
    ]);
  }
  const input = body as Record<string, unknown>;
  const problems: Problem[] = [];
  for (const key of Object.keys(input)) {
    if (!(CREATE_FIELDS as readonly string[]).includes(key)) {
      problems.push({ field: key, message: `unknown field; allowed fields are ${CREATE_FIELDS.join(", ")}` });
    }
  }
  const name = checkName(input.name, problems);
  const scopes = checkScopes(input.scopes, problems);
  const expiresAtMs = checkExpiry(input, nowMs, problems);
  if (scopes?.includes(Scope.AdminTokens) && expiresAtMs !== undefined) checkTokenAdminExpiry(input, expiresAtMs, nowMs, problems);
  // Each check returns undefined exactly when it added a problem; the explicit tests narrow the types.
  if (problems.length > 0 || name === undefined || scopes === undefined || expiresAtMs === undefined) {
    throw new ValidationError("create-token request", problems);
  }
  return { name, scopes: canonicalScopes(scopes), expiresAtMs };
}

function checkName(value: unknown, problems: Problem[]): string | undefined {
  if (typeof value !== "string" || !TOKEN_NAME_PATTERN.test(value)) {
    problems.push({
      field: "name",
      message:
        "required; 1-128 characters of letters, digits, '.', '_' or '-', starting with a letter or digit " +
        "(e.g. ci-runner-prod-2026-q2)",
    });
    return undefined;
  }
  return value;
}

function checkScopes(value: unknown, problems: Problem[]): Scope[] | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    problems.push({ field: "scopes", message: `required; a non-empty array of scopes from: ${ALL_SCOPES.join(", ")}` });
    return undefined;
  }
  const seen = new Set<string>();
  const before = problems.length;
  value.forEach((scope: unknown, i) => {
    if (!isScope(scope)) {
      problems.push({ field: `scopes[${i}]`, message: `${JSON.stringify(scope)} is not a scope; use one of: ${ALL_SCOPES.join(", ")}` });
    } else if (seen.has(scope)) {
      problems.push({ field: `scopes[${i}]`, message: `"${scope}" is listed twice; list each scope once` });
    }
    seen.add(String(scope));
  });
  return problems.length === before ? (value as Scope[]) : undefined;
}

function checkExpiry(input: Record<string, unknown>, nowMs: number, problems: Problem[]): number | null | undefined {
  const { expiresAt, expiresInSeconds } = input;
  if (expiresAt !== undefined && expiresInSeconds !== undefined) {
    problems.push({ field: "expiresAt", message: "give either expiresAt or expiresInSeconds, not both" });
    return undefined;
  }
  const latestMs = nowMs + MAX_EXPIRY_SECONDS * 1000;
  if (expiresInSeconds !== undefined) {
    if (
      typeof expiresInSeconds !== "number" ||
      !Number.isInteger(expiresInSeconds) ||
      expiresInSeconds <= 0 ||
      expiresInSeconds > MAX_EXPIRY_SECONDS
    ) {
      problems.push({
        field: "expiresInSeconds",
        message: `must be a whole number of seconds from 1 to ${MAX_EXPIRY_SECONDS} (400 days)`,
      });
      return undefined;
    }
    return nowMs + expiresInSeconds * 1000;
  }
  if (expiresAt !== undefined) {
    const ms = typeof expiresAt === "string" ? Date.parse(expiresAt) : Number.NaN;
    if (Number.isNaN(ms)) {
      problems.push({ field: "expiresAt", message: "must be an ISO 8601 date-time, e.g. 2026-09-30T00:00:00Z" });
      return undefined;
    }
    if (ms <= nowMs) {
      problems.push({ field: "expiresAt", message: `must be in the future (gateway time is ${new Date(nowMs).toISOString()})` });
      return undefined;
    }
    if (ms > latestMs) {
      problems.push({
        field: "expiresAt",
        message: `must be at most 400 days out (no later than ${new Date(latestMs).toISOString()}); rotate instead`,
      });
      return undefined;
    }
    return ms;
  }
  return null;
}

/** `admin:tokens` needs an expiry within MAX_TOKEN_ADMIN_EXPIRY_SECONDS (docs/gateway-api.md, "Token management scope"). */
function checkTokenAdminExpiry(input: Record<string, unknown>, expiresAtMs: number | null, nowMs: number, problems: Problem[]): void {
  if (expiresAtMs !== null && expiresAtMs - nowMs <= MAX_TOKEN_ADMIN_EXPIRY_SECONDS * 1000) return;
  const days = MAX_TOKEN_ADMIN_EXPIRY_SECONDS / 86_400;
  problems.push({
    field: input.expiresAt !== undefined ? "expiresAt" : "expiresInSeconds",
    message:
      expiresAtMs === null
        ? `required with admin:tokens: a token-management credential must expire within ${days} days ` +
          `(expiresInSeconds up to ${MAX_TOKEN_ADMIN_EXPIRY_SECONDS}, e.g. 604800; with the CLI, --expires-in 7d); its holder rotates it`
        : `at most ${days} days (${MAX_TOKEN_ADMIN_EXPIRY_SECONDS} seconds) with admin:tokens; its holder rotates it instead`,
  });
}

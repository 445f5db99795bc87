import { ALL_ENVIRONMENTS, Environment, environmentOfToken, isEnvironment, TOKEN_PREFIX } from "../domain/environments";
import { formatDuration, MAX_TTL_SECONDS, MIN_TTL_SECONDS, parseDuration } from "../domain/duration";
import { Problem } from "../domain/errors";
import { gatewayUrlProblems } from "../domain/gateway-url";
import { BackendKind } from "../gateway/backend";
import { defaultSecretName, ledgerTableName, ROTATOR_CREDENTIAL_NAME, rotatorCredentialSecretName, secretNamespace } from "../store/metadata";
import { MAX_ADMIN_TOKENS_TTL_SECONDS, Scope } from "../domain/scopes";
import { closest } from "../domain/suggest";
import { leastPrivilegeProblems } from "./least-privilege";
import { backendOfScope, SCOPE_RULES } from "./scope-rules";

/**
 * What is wrong with an admin credential for an environment's gateway, if anything; never quoting it. The documented
 * API's tokens carry their environment in their prefix, so one of another environment is refused.
 */
export function adminTokenProblem(token: unknown, environment: Environment | undefined, backend: unknown): string | undefined {
  if (typeof token !== "string" || token === "") {
    return backend === BackendKind.OpenClawDevices
      ? "give the gateway's shared token, its gateway.auth.token (as a secret: pulumi config set --secret)"
      : "give an admin:* token of the gateway (as a secret: pulumi config set --secret)";
  }
  if (backend !== BackendKind.DocumentedApi || environment === undefined) return undefined;
  const actual = environmentOfToken(token);
  if (actual === environment) return undefined;
  return `${actual ? `it is a ${actual} token` : "it has no gateway token prefix"}; the ${environment} gateway needs a token starting ${TOKEN_PREFIX[environment]}`;
}

/**
 * What must fit between a token's rotation and its expiry, besides the consumers' cache: the suspension's grace
 * window (a refused call during it reinstates the old token), the rotator's schedule interval (assumed hourly: the
 * stack does not know the schedule), and the rotator's margin before expiry (it revokes an hour before).
 */
export const SUSPENSION_WINDOW_SECONDS = 3600;
export const ASSUMED_SCHEDULE_INTERVAL_SECONDS = 3600;
export const EXPIRY_MARGIN_SECONDS = 3600;
export const DEFAULT_CONSUMER_CACHE_TTL = "1h";
/** A consumer cache shorter than a minute is not a cache; longer than a day keeps old tokens alive for days. */
const CONSUMER_CACHE_TTL_RANGE = { min: 60, max: 86_400 } as const;

/** A GatewayToken's inputs after `check`: validated, defaulted and in canonical form. */
export interface GatewayTokenInputs {
  readonly name: string;
  /** From the backend's closed set (SCOPE_RULES), in its canonical order. */
  readonly scopes: readonly string[];
  readonly ttl: string;
  readonly environment: Environment;
  /**
   * The gateway's http(s) base URL. For openclaw-devices too: its WebSocket URL (ws/wss) is derived from it, and its
   * admin HTTP RPC route is under it, so a ws:// or wss:// URL is refused with the http(s) URL to write instead.
   */
  readonly gatewayUrl: string;
  /**
   * The credential that mints and revokes: an admin token of the documented API (with the environment's prefix), or
   * the OpenClaw gateway's shared token (gateway.auth.token, no prefix). Kept in state only as a Pulumi secret. Left
   * out (documented API only), the environment's rotator credential is used (src/store/rotator-credential.ts): the
   * recommended set-up, in which the stack holds no admin token.
   */
  readonly adminToken?: string;
  readonly rotationFraction: number;
  readonly secretName: string;
  readonly allowAdminScope: boolean;
  readonly recoveryWindowDays: number;
  readonly backend: BackendKind;
  readonly awsRegion: string | undefined;
  /** The environment's ledger table (the rotation state); its name must carry the environment. */
  readonly ledgerTable: string;
  /**
   * Take over an existing secret (after lost state, or a token made by hand) instead of minting: create checks with
   * whoami that its AWSCURRENT token is this declaration's (name, scopes, environment, not expired), then records it.
   */
  readonly adopt: boolean;
  /**
   * How long consumers may cache the token (the AWS caching clients refresh hourly): the old token is revoked only
   * once every consumer moved, or was silent on it longer than this. @default "1h"
   */
  readonly consumerCacheTtl: string;
}

export const DEFAULT_ROTATION_FRACTION = 0.8;
export const DEFAULT_RECOVERY_WINDOW_DAYS = 7;

/** Token names as the guide writes them (ci-runner-prod, internal-dashboard): lower case, digits, hyphens. */
const NAME_PATTERN = /^[a-z][a-z0-9-]{1,46}[a-z0-9]$/;
/** What Secrets Manager allows in a name. */
const SECRET_NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/**
 * Pulumi's marker for a value not known until apply; such inputs are checked when they are known. The stack
 * program passes it for values it holds only as secrets, which the provider's own check then validates.
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Every input a GatewayToken takes (GatewayTokenArgs); any other key is refused, naming the closest of these. */
export const INPUT_KEYS = [
  "name",
  "scopes",
  "ttl",
  "environment",
  "gatewayUrl",
  "adminToken",
  "rotationFraction",
  "secretName",
  "allowAdminScope",
  "recoveryWindowDays",
  "backend",
  "awsRegion",
  "ledgerTable",
  "adopt",
  "consumerCacheTtl",
] as const;

/**
 * Keys that are not inputs: a typo (`rotationFracton`) would otherwise be ignored and the default used. Pulumi's
 * own properties (`__provider`, the serialised dynamic provider) are not the declaration's.
 */
export function unknownKeyProblems(raw: Record<string, unknown>, known: readonly string[], what: string): Problem[] {
  return Object.keys(raw)
    .filter((key) => !key.startsWith("__") && raw[key] !== undefined && !known.includes(key))
    .map((key) => {
      const suggestion = closest(key, known);
      return { field: key, message: `${key} is not ${what}${suggestion ? `; did you mean ${suggestion}?` : ""} (the keys are ${known.join(", ")})` };
    });
}

export type CheckOutcome =
  | { readonly ok: true; readonly inputs: GatewayTokenInputs }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/** Validates raw resource inputs. Every problem is reported at once, each with the fix. */
export function checkInputs(raw: Record<string, unknown>): CheckOutcome {
  const problems: Problem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });
  const known = (value: unknown) => value !== UNKNOWN;
  problems.push(...unknownKeyProblems(raw, INPUT_KEYS, "a GatewayToken input"));

  const name = raw.name;
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
    problem(
      "name",
      `${JSON.stringify(name)} is not a valid token name; use 3-48 lower-case letters, digits and hyphens, starting with a letter (e.g. "ci-runner")`,
    );
  }

  const environment = raw.environment;
  if (!isEnvironment(environment)) {
    problem("environment", `${JSON.stringify(environment)} is not an environment; use one of ${ALL_ENVIRONMENTS.join(", ")}`);
  }

  const allowAdminScope = raw.allowAdminScope === undefined ? false : raw.allowAdminScope;
  if (typeof allowAdminScope !== "boolean") problem("allowAdminScope", "must be true or false");

  const backend = raw.backend ?? BackendKind.DocumentedApi;
  const backendOk = (Object.values(BackendKind) as unknown[]).includes(backend);
  if (!backendOk) {
    problem("backend", `${JSON.stringify(backend)} is not a gateway backend; use one of ${Object.values(BackendKind).join(", ")}`);
  }

  // Scopes are the backend's: an unknown backend was reported above, and its scopes cannot be judged.
  const rules = backendOk ? SCOPE_RULES[backend as BackendKind] : undefined;
  const scopes = Array.isArray(raw.scopes) ? (raw.scopes as unknown[]) : undefined;
  if (!scopes || scopes.length === 0) {
    problem("scopes", `give at least one ${rules?.noun ?? "scope"}${rules ? `, from ${rules.all.join(", ")}` : ""}`);
  } else if (rules) {
    scopes.forEach((scope, i) => {
      if (!known(scope)) return;
      if (!rules.isScope(scope)) {
        const other = backendOfScope(scope);
        const why = other ? ` (it belongs to the ${other} backend, but this token's backend is ${String(backend)})` : "";
        problem(`scopes[${i}]`, `${JSON.stringify(scope)} is not ${rules.noun === "scope" ? "a scope" : `an ${rules.noun}`}${why}; use one of ${rules.all.join(", ")}`);
      } else if (scopes.indexOf(scope) !== i) {
        problem(`scopes[${i}]`, `${String(scope)} is listed twice; list each scope once`);
      }
    });
    if (scopes.includes(rules.adminScope) && allowAdminScope !== true) problem("scopes", rules.adminRefusal);
    if (typeof name === "string" && NAME_PATTERN.test(name)) {
      const valid = scopes.filter((s): s is string => typeof s === "string" && rules.isScope(s));
      leastPrivilegeProblems(name, valid, rules, allowAdminScope === true).forEach((message) => problem("scopes", message));
    }
  }

  const ttl = raw.ttl;
  if (known(ttl)) {
    const seconds = typeof ttl === "string" ? parseDuration(ttl) : undefined;
    if (seconds === undefined) {
      problem("ttl", `${JSON.stringify(ttl)} is not a duration; write a whole number and a unit, e.g. "30d", "90d" or "12h"`);
    } else if (seconds < MIN_TTL_SECONDS || seconds > MAX_TTL_SECONDS) {
      problem("ttl", `${ttl} is outside ${formatDuration(MIN_TTL_SECONDS)}..${formatDuration(MAX_TTL_SECONDS)}; the guide recommends 30d to 90d`);
    } else if (Array.isArray(raw.scopes) && raw.scopes.includes(Scope.AdminTokens) && seconds > MAX_ADMIN_TOKENS_TTL_SECONDS) {
      // The gateway refuses it at mint; refused here before anything is created.
      problem("ttl", `${ttl} is too long for ${Scope.AdminTokens}: a token-management credential lives at most ${formatDuration(MAX_ADMIN_TOKENS_TTL_SECONDS)} (the rotator rotates it); use 7d`);
    }
  }

  const rotationFraction = raw.rotationFraction ?? DEFAULT_ROTATION_FRACTION;
  if (typeof rotationFraction !== "number" || !(rotationFraction >= 0.1 && rotationFraction <= 0.95)) {
    problem("rotationFraction", `${JSON.stringify(rotationFraction)} is outside 0.1..0.95; the guide rotates at 0.8 of the TTL`);
  }

  const consumerCacheTtl = raw.consumerCacheTtl ?? DEFAULT_CONSUMER_CACHE_TTL;
  const cacheSeconds = typeof consumerCacheTtl === "string" ? parseDuration(consumerCacheTtl) : undefined;
  if (cacheSeconds === undefined || cacheSeconds < CONSUMER_CACHE_TTL_RANGE.min || cacheSeconds > CONSUMER_CACHE_TTL_RANGE.max) {
    problem(
      "consumerCacheTtl",
      `${JSON.stringify(consumerCacheTtl)} is not a duration in ${formatDuration(CONSUMER_CACHE_TTL_RANGE.min)}..${formatDuration(CONSUMER_CACHE_TTL_RANGE.max)}; write how long your consumers cache the token, e.g. "1h" (the AWS caching clients' default)`,
    );
  }

  // Between the rotation and the old token's expiry the rotator must give every consumer its cache time to move, then
  // hold the old token suspended for the grace window, with a scheduled run to see each, and still revoke an hour
  // before expiry: a shorter window means a forced revocation while consumers still use the old token, every time.
  const ttlSeconds = typeof ttl === "string" ? parseDuration(ttl) : undefined;
  if (ttlSeconds !== undefined && ttlSeconds >= MIN_TTL_SECONDS && typeof rotationFraction === "number" && rotationFraction >= 0.1 && rotationFraction <= 0.95 && cacheSeconds !== undefined) {
    const keep = Math.round((1 - rotationFraction) * 1e6) / 1e6; // 1 - 0.8 is 0.19999999999999996 in floating point
    const windowSeconds = Math.round(keep * ttlSeconds);
    const needed = cacheSeconds + SUSPENSION_WINDOW_SECONDS + ASSUMED_SCHEDULE_INTERVAL_SECONDS + EXPIRY_MARGIN_SECONDS;
    if (windowSeconds < needed) {
      const shortestTtl = Math.ceil(Math.round(needed / keep) / 3600) * 3600;
      problem(
        "ttl",
        `${ttl} at rotationFraction ${rotationFraction} leaves ${formatDuration(windowSeconds)} between the rotation and expiry; the rotator needs ${formatDuration(needed)} there ` +
          `(consumerCacheTtl ${formatDuration(cacheSeconds)} for consumers to move, the ${formatDuration(SUSPENSION_WINDOW_SECONDS)} suspension window, ` +
          `the rotator's ${formatDuration(ASSUMED_SCHEDULE_INTERVAL_SECONDS)} schedule interval, then its ${formatDuration(EXPIRY_MARGIN_SECONDS)} margin before expiry): ` +
          `use a ttl of at least ${formatDuration(shortestTtl)}, a lower rotationFraction, or a shorter consumerCacheTtl if your consumers re-read the secret sooner`,
      );
    }
  }

  const recoveryWindowDays = raw.recoveryWindowDays ?? DEFAULT_RECOVERY_WINDOW_DAYS;
  if (
    typeof recoveryWindowDays !== "number" ||
    !(recoveryWindowDays === 0 || (Number.isInteger(recoveryWindowDays) && recoveryWindowDays >= 7 && recoveryWindowDays <= 30))
  ) {
    problem("recoveryWindowDays", `${JSON.stringify(recoveryWindowDays)} is not allowed; use 7 to 30 days, or 0 to delete the secret at once on destroy`);
  }

  const envOk = isEnvironment(environment);
  const gatewayUrl = raw.gatewayUrl;
  if (known(gatewayUrl)) {
    if (typeof gatewayUrl !== "string" || gatewayUrl === "") {
      problem("gatewayUrl", "give the gateway's URL, e.g. https://gateway.openclaw.ai");
    } else if (envOk) {
      for (const message of urlProblems(gatewayUrl, environment, backend)) problem("gatewayUrl", message);
    }
  }

  // Without an adminToken, a documented-API token is minted with the environment's rotator credential (read when the
  // provider acts, never kept in state): a stack then holds no admin token at all. OpenClaw's shared token cannot be
  // minted or rotated by anyone, so an openclaw-devices token needs it given.
  const adminToken = raw.adminToken;
  if (known(adminToken) && !(adminToken === undefined && backend === BackendKind.DocumentedApi)) {
    const message = adminTokenProblem(adminToken, envOk ? environment : undefined, backend);
    if (message) problem("adminToken", message);
  }

  const secretName = raw.secretName ?? (envOk && typeof name === "string" ? defaultSecretName(environment, name) : undefined);
  if (known(secretName) && envOk) {
    if (typeof secretName !== "string" || !SECRET_NAME_PATTERN.test(secretName)) {
      problem("secretName", `${JSON.stringify(secretName)} is not a Secrets Manager name; use letters, digits and /_+=.@-`);
    } else if (secretName === rotatorCredentialSecretName(environment)) {
      // Reserved: only the rotator's credential (its reserved name, token management alone) may live there.
      if (name !== ROTATOR_CREDENTIAL_NAME || !sameScopes(raw.scopes, [Scope.AdminTokens])) {
        problem("secretName", `${secretName} is reserved for the rotator's own credential (name ${ROTATOR_CREDENTIAL_NAME}, scopes [${Scope.AdminTokens}]); give this token a name under ${secretNamespace(environment)}`);
      }
    } else if (!secretName.startsWith(secretNamespace(environment)) || secretName === secretNamespace(environment)) {
      problem("secretName", `${secretName} is outside this environment's namespace; start it with ${secretNamespace(environment)}`);
    } else if (name === ROTATOR_CREDENTIAL_NAME) {
      problem("name", `${ROTATOR_CREDENTIAL_NAME} is reserved for the rotator's own credential (secret ${rotatorCredentialSecretName(environment)}); choose another name`);
    }
  }

  const awsRegion = raw.awsRegion;
  if (awsRegion !== undefined && (typeof awsRegion !== "string" || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(awsRegion))) {
    problem("awsRegion", `${JSON.stringify(awsRegion)} is not an AWS region; write it like us-east-1`);
  }

  const ledgerTable = raw.ledgerTable ?? (envOk ? ledgerTableName(environment) : undefined);
  if (known(ledgerTable) && envOk) {
    const words = typeof ledgerTable === "string" ? ledgerTable.toLowerCase().split(/[^a-z]+/) : [];
    if (typeof ledgerTable !== "string" || !/^[A-Za-z0-9_.-]{3,255}$/.test(ledgerTable)) {
      problem("ledgerTable", `${JSON.stringify(ledgerTable)} is not a DynamoDB table name; use 3-255 letters, digits and _.-`);
    } else if (!words.includes(environment) || ALL_ENVIRONMENTS.some((e) => e !== environment && words.includes(e))) {
      problem("ledgerTable", `${ledgerTable} does not name the ${environment} environment (alone); each environment has its own ledger, e.g. ${ledgerTableName(environment)}`);
    }
  }

  const adopt = raw.adopt ?? false;
  if (typeof adopt !== "boolean") problem("adopt", "must be true or false (true takes over the existing secret instead of minting)");

  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    inputs: {
      name: name as string,
      scopes: (rules as NonNullable<typeof rules>).canonical(scopes as string[]),
      ttl: (ttl as string).trim(),
      environment: environment as Environment,
      gatewayUrl: (gatewayUrl as string).replace(/\/+$/, ""),
      adminToken: adminToken as string | undefined,
      rotationFraction: rotationFraction as number,
      secretName: secretName as string,
      allowAdminScope: allowAdminScope as boolean,
      recoveryWindowDays: recoveryWindowDays as number,
      backend: backend as BackendKind,
      awsRegion: awsRegion as string | undefined,
      ledgerTable: ledgerTable as string,
      adopt: adopt as boolean,
      consumerCacheTtl: (consumerCacheTtl as string).trim(),
    },
  };
}

/**
 * gatewayUrlProblems, plus what an openclaw-devices gateway's URL may be mistaken for: its WebSocket URL. The backend
 * takes the http(s) base URL (its admin HTTP RPC route lives there, and ws/wss is derived from it), so ws:// and wss://
 * are refused with the URL to write instead, and that URL is checked with the same rules.
 */
function urlProblems(text: string, environment: Environment, backend: unknown): string[] {
  const ws = /^(wss?):\/\//i.exec(text);
  if (backend !== BackendKind.OpenClawDevices || !ws) return gatewayUrlProblems(text, environment);
  const http = text.replace(/^ws/i, "http");
  return [
    `give the gateway's ${http.split(":")[0]}:// URL (${http}), not its WebSocket URL: the openclaw-devices backend derives ${ws[1].toLowerCase()}:// from it and also calls the gateway's admin HTTP RPC route`,
    ...gatewayUrlProblems(http, environment),
  ];
}

function sameScopes(scopes: unknown, expected: readonly string[]): boolean {
  return Array.isArray(scopes) && scopes.length === expected.length && expected.every((s) => scopes.includes(s));
}

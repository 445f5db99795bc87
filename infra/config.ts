import * as pulumi from "@pulumi/pulumi";
import { Environment, isEnvironment } from "../src/domain/environments";
import { Problem, ValidationError } from "../src/domain/errors";
import { gatewayUrlProblems } from "../src/domain/gateway-url";
import { checkInputs, INPUT_KEYS, UNKNOWN, unknownKeyProblems } from "../src/provider/inputs";
import { parseRotatorSettings, RotatorSettings } from "./aws/rotator-settings";
import { FrontStackSetting, parseFrontStackSetting } from "./aws/token-front-settings";
import { rateIntervalSeconds } from "./aws/run-watch";
import { formatDuration, parseDuration } from "../src/domain/duration";
import { DEFAULT_SETTINGS } from "../src/rotation/settings";

/** One token as a stack declares it under `openclaw:tokens`. */
export interface TokenDeclaration {
  readonly name: string;
  readonly scopes: readonly string[];
  readonly ttl: string;
  readonly rotationFraction?: number;
  /** How long the token's consumers may cache it. @default "1h" */
  readonly consumerCacheTtl?: string;
  readonly allowAdminScope?: boolean;
  readonly secretName?: string;
  readonly recoveryWindowDays?: number;
  /** Take over the existing secret instead of minting (after lost state, or a token made by hand). */
  readonly adopt?: boolean;
  /**
   * Pulumi's `protect`: `pulumi destroy` (or removing the declaration) fails until it is set to false and applied.
   * @default true in prod, false elsewhere
   */
  readonly protect?: boolean;
}

/** The keys a token declaration may have: the resource's own inputs, less what the stack sets, plus `protect`. */
export const TOKEN_KEYS = ["name", "scopes", "ttl", "rotationFraction", "consumerCacheTtl", "allowAdminScope", "secretName", "recoveryWindowDays", "protect", "adopt"] as const;
/** The keys of the `openclaw:` namespace a stack may set. */
export const STACK_KEYS = ["environment", "gatewayUrl", "backend", "adminToken", "tokens", "rotator", "front"] as const;

/** Whether a token is protected from `pulumi destroy`: prod tokens are, unless declared with `protect: false`. */
export function protectToken(token: TokenDeclaration, environment: Environment): boolean {
  return token.protect ?? environment === "prod";
}

/** A stack's configuration, validated as a whole before anything is declared. */
export interface StackConfig {
  readonly environment: Environment;
  readonly gatewayUrl: string;
  readonly backend: string | undefined;
  /**
   * `openclaw:adminToken` (set with `pulumi config set --secret`): OpenClaw's shared token, for openclaw-devices only.
   * A documented-API stack holds none: its tokens are minted with the rotator's own credential (bootstrap-rotator).
   */
  readonly adminToken: pulumi.Output<string> | undefined;
  readonly tokens: readonly TokenDeclaration[];
  /** `openclaw:rotator`, defaulted; the stack deploys the rotator only when `deploy` is true. */
  readonly rotator: RotatorSettings;
  /** `openclaw:front`: the token front fleet on AWS (TokenFrontDeployment), when `deploy` is true. */
  readonly front: FrontStackSetting;
}

/** Raw config values, so that validation can be tested without a Pulumi engine. */
export interface RawStackConfig {
  readonly stack: string;
  readonly environment: unknown;
  readonly gatewayUrl: unknown;
  readonly backend: unknown;
  readonly tokens: unknown;
  /** `openclaw:rotator`; undefined when the stack does not set it. */
  readonly rotator?: unknown;
  /** Whether `openclaw:adminToken` is set (its value is a secret, not judged here); undefined: not known. */
  readonly adminTokenSet?: boolean;
  /** `openclaw:front`; undefined when the stack does not set it. */
  readonly front?: unknown;
  /** Every key the stack sets in the `openclaw:` namespace (without the prefix), to refuse a typo. */
  readonly keys?: readonly string[];
}

/** Stack names that name an environment must name the one they deploy. */
const ENVIRONMENT_STACKS: Readonly<Record<string, Environment>> = { dev: "dev", stage: "stage", prod: "prod" };

/**
 * Config keys that belong to the stack, not to a token: a fault in one is reported once, not once per token (the
 * stack's adminToken is every token's: a missing one is openclaw:adminToken, not a key of each declaration).
 */
const STACK_LEVEL_FIELDS = ["environment", "gatewayUrl", "backend", "adminToken"] as const;

/**
 * Every problem with a stack's configuration, each naming the config key and the fix. Tokens are checked with the
 * provider's own rules (the guide's least-privilege rules among them), so the messages are the same as at preview,
 * but before any resource is registered.
 */
export function stackConfigProblems(raw: RawStackConfig): Problem[] {
  const problems: Problem[] = [];
  const add = (problem: Problem) => {
    if (!problems.some((q) => q.field === problem.field && q.message === problem.message)) problems.push(problem);
  };
  const key = (k: string) => `openclaw:${k}`;
  const setKeys = Object.fromEntries((raw.keys ?? []).map((k) => [k, true]));
  for (const p of unknownKeyProblems(setKeys, STACK_KEYS, "an openclaw config key")) add({ field: key(p.field), message: p.message });
  if (!isEnvironment(raw.environment)) {
    add({ field: key("environment"), message: `set it to dev, stage or prod (pulumi config set openclaw:environment dev)` });
  } else if (ENVIRONMENT_STACKS[raw.stack] && ENVIRONMENT_STACKS[raw.stack] !== raw.environment) {
    add({ field: key("environment"), message: `stack ${raw.stack} must deploy the ${raw.stack} environment, not ${raw.environment}` });
  }

  // The gateway URL is checked once for the stack, with the same rules as each token's (gatewayUrlProblems): a prod
  // stack refuses http:// and a host that names dev or stage even before any token is declared, and so does the rotator.
  if (isEnvironment(raw.environment)) {
    if (typeof raw.gatewayUrl !== "string" || raw.gatewayUrl === "") {
      add({ field: key("gatewayUrl"), message: `give the ${raw.environment} gateway's URL (pulumi config set openclaw:gatewayUrl https://gateway.example.com)` });
    } else {
      for (const message of gatewayUrlProblems(raw.gatewayUrl, raw.environment)) add({ field: key("gatewayUrl"), message });
    }
  }

  const rotator = parseRotatorSettings(raw.rotator, key("rotator"));
  if (!rotator.ok) rotator.problems.forEach(add);
  // No long-lived admin token in a deployment: a documented-API rotator rotates its own admin:tokens credential.
  if (raw.adminTokenSet === true && (raw.backend ?? "documented-api") === "documented-api" && rotator.ok && rotator.settings.deploy) {
    add({
      field: key("adminToken"),
      message:
        "remove it (pulumi config rm openclaw:adminToken): the documented-API rotator and the tokens use the rotator's own short-lived admin:tokens credential; create it once with `openclaw-tokens bootstrap-rotator` and the break-glass token, which stays out of the stack (docs/runbook.md)",
    });
  }
  const front = parseFrontStackSetting(raw.front, raw.environment, key("front"));
  if (!front.ok) front.problems.forEach(add);

  if (!Array.isArray(raw.tokens) || raw.tokens.length === 0) {
    add({ field: key("tokens"), message: "declare at least one token: a list of {name, scopes, ttl}" });
    return problems;
  }
  const stackLevelFaults = new Set(problems.map((p) => p.field));
  const seen = new Set<string>();
  raw.tokens.forEach((token: unknown, i) => {
    const at = `${key("tokens")}[${i}]`;
    if (typeof token !== "object" || token === null || Array.isArray(token)) {
      add({ field: at, message: "each token is an object {name, scopes, ttl}" });
      return;
    }
    const declared = token as Record<string, unknown>;
    for (const p of unknownKeyProblems(declared, TOKEN_KEYS, "a token declaration key")) add({ field: `${at}.${p.field}`, message: p.message });
    if (declared.protect !== undefined && typeof declared.protect !== "boolean") {
      add({ field: `${at}.protect`, message: "must be true or false (prod tokens are protected unless it is false)" });
    }
    // Only the resource's inputs go to its check: the unknown keys are reported above, once.
    const inputs = Object.fromEntries(Object.entries(declared).filter(([k]) => (INPUT_KEYS as readonly string[]).includes(k)));
    const outcome = checkInputs({
      ...inputs,
      environment: raw.environment,
      gatewayUrl: raw.gatewayUrl,
      backend: raw.backend,
      // Held as a secret by the program; the provider's check validates it. Absent, the provider says whether it may be.
      adminToken: raw.adminTokenSet === false ? undefined : UNKNOWN,
    });
    if (outcome.ok && rotator.ok) {
      const message = rotationWindowProblem(outcome.inputs.ttl, outcome.inputs.rotationFraction, rotator.settings, outcome.inputs.consumerCacheTtl);
      if (message) add({ field: `${at}.ttl`, message });
    }
    if (!outcome.ok) {
      for (const p of outcome.problems) {
        const stackLevel = (STACK_LEVEL_FIELDS as readonly string[]).includes(p.field);
        const field = stackLevel ? key(p.field) : `${at}.${p.field}`;
        if (stackLevel && stackLevelFaults.has(field)) continue;
        add({ field, message: p.message });
      }
    }
    if (typeof declared.name === "string") {
      if (seen.has(declared.name)) add({ field: `${at}.name`, message: `${declared.name} is declared twice; token names are unique per stack` });
      seen.add(declared.name);
    }
  });
  return problems;
}

/**
 * Whether the rotator, as configured, can finish a rotation of this token before it expires: between the rotation
 * point and expiry there must be room for a run to notice the token is due (one schedule interval), the quiet period,
 * a run to notice the quiet period is over (one more interval), and the rotator's hour of margin before expiry.
 * Otherwise every rotation ends in a forced revocation or an expired token: refused here, with the settings to change.
 */
export function rotationWindowProblem(ttl: string, rotationFraction: number, rotator: RotatorSettings, consumerCacheTtl = "1h"): string | undefined {
  const ttlSeconds = parseDuration(ttl);
  // The drain waits for the quiet period, or for a silent consumer's cache to run out (the evidence's own 15-minute margin
  // falls within the second run's interval).
  const quietSeconds = Math.max(parseDuration(rotator.quietPeriod) ?? Infinity, parseDuration(consumerCacheTtl) ?? 3600);
  const intervalSeconds = rateIntervalSeconds(rotator.schedule) ?? (rotator.heartbeatWindow ? parseDuration(rotator.heartbeatWindow) : undefined);
  if (ttlSeconds === undefined || !Number.isFinite(quietSeconds) || intervalSeconds === undefined) return undefined;
  const keep = Math.round((1 - rotationFraction) * 1e6) / 1e6;
  const windowSeconds = Math.round(keep * ttlSeconds);
  const needed = 2 * intervalSeconds + quietSeconds + EXPIRY_MARGIN_SECONDS;
  if (windowSeconds >= needed) return undefined;
  // A TTL one can write: whole hours below two days, whole days above.
  const shortest = needed / keep;
  const suggested = shortest < 2 * 86400 ? Math.ceil(shortest / 3600) * 3600 : Math.ceil(shortest / 86400) * 86400;
  return (
    `${ttl} at rotationFraction ${rotationFraction} leaves ${formatDuration(windowSeconds)} between the rotation and expiry, but the rotator ` +
    `(schedule ${rotator.schedule}, quietPeriod ${rotator.quietPeriod}, consumerCacheTtl ${consumerCacheTtl}) needs ${formatDuration(needed)} there: two runs, the wait for consumers and an hour's margin. ` +
    `Use a ttl of at least ${formatDuration(suggested)}, a lower rotationFraction, a more frequent openclaw:rotator.schedule, or a shorter quietPeriod`
  );
}

/** The rotator revokes an old token this long before it expires, whatever the traffic (DEFAULT_SETTINGS.expiryMarginMs). */
const EXPIRY_MARGIN_SECONDS = DEFAULT_SETTINGS.expiryMarginMs / 1000;

/** Reads and validates the stack's configuration; throws one ValidationError listing every problem. */
export function loadStackConfig(): StackConfig {
  const config = new pulumi.Config("openclaw");
  const raw: RawStackConfig = {
    stack: pulumi.getStack(),
    environment: config.get("environment"),
    gatewayUrl: config.get("gatewayUrl"),
    backend: config.get("backend"),
    tokens: config.getObject<unknown>("tokens"),
    rotator: config.getObject<unknown>("rotator"),
    adminTokenSet: config.getSecret("adminToken") !== undefined,
    front: config.getObject<unknown>("front"),
    keys: Object.keys(pulumi.runtime.allConfig())
      .filter((k) => k.startsWith("openclaw:"))
      .map((k) => k.slice("openclaw:".length)),
  };
  const problems = stackConfigProblems(raw);
  const rotator = parseRotatorSettings(raw.rotator, "openclaw:rotator");
  const front = parseFrontStackSetting(raw.front, raw.environment);
  const adminToken = config.getSecret("adminToken");
  // rotator.ok is false only when stackConfigProblems has reported its problems already.
  if (problems.length || !rotator.ok || !front.ok) throw new ValidationError(`Stack ${raw.stack}'s configuration`, problems);
  return {
    environment: raw.environment as Environment,
    gatewayUrl: raw.gatewayUrl as string,
    backend: raw.backend as string | undefined,
    adminToken,
    tokens: raw.tokens as TokenDeclaration[],
    rotator: rotator.settings,
    front: front.front,
  };
}

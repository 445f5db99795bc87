import * as pulumi from "@pulumi/pulumi";
import { Environment, isEnvironment } from "../src/domain/environments";
import { Problem, ValidationError } from "../src/domain/errors";
import { gatewayUrlProblems } from "../src/domain/gateway-url";
import { Scope } from "../src/domain/scopes";
import { BackendKind } from "../src/gateway/backend";
import { checkInputs, UNKNOWN } from "../src/provider/inputs";
import { SCOPE_RULES } from "../src/provider/scope-rules";
import { parseRotatorSettings, RotatorSettings } from "./aws/rotator-settings";

/** One token as a stack declares it under `openclaw:tokens`. */
export interface TokenDeclaration {
  readonly name: string;
  readonly scopes: readonly string[];
  readonly ttl: string;
  readonly rotationFraction?: number;
  readonly allowAdminScope?: boolean;
  readonly secretName?: string;
  readonly recoveryWindowDays?: number;
}

/** A stack's configuration, validated as a whole before anything is declared. */
export interface StackConfig {
  readonly environment: Environment;
  readonly gatewayUrl: string;
  readonly backend: string | undefined;
  /** `openclaw:adminToken`, which must be set with `pulumi config set --secret`. */
  readonly adminToken: pulumi.Output<string>;
  readonly tokens: readonly TokenDeclaration[];
  /** `openclaw:rotator`, defaulted; the stack deploys the rotator only when `deploy` is true. */
  readonly rotator: RotatorSettings;
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
}

/** Stack names that name an environment must name the one they deploy. */
const ENVIRONMENT_STACKS: Readonly<Record<string, Environment>> = { dev: "dev", stage: "stage", prod: "prod" };

/** Config keys that belong to the stack, not to a token: a fault in one is reported once, not once per token. */
const STACK_LEVEL_FIELDS = ["environment", "gatewayUrl", "backend"] as const;


/** Whether a token is a CI token: its name has the word "ci" (ci-runner, deploy-ci), words split on "-". */
export function isCiTokenName(name: string): boolean {
  return name.split("-").includes("ci");
}

/**
 * Every problem with a stack's configuration, each naming the config key and the fix. Tokens are checked with the
 * provider's own rules, so the messages are the same as at preview, but before any resource is registered; on top
 * of those the stack enforces the guide's least-privilege rules for the tokens it declares.
 */
export function stackConfigProblems(raw: RawStackConfig): Problem[] {
  const problems: Problem[] = [];
  const add = (problem: Problem) => {
    if (!problems.some((q) => q.field === problem.field && q.message === problem.message)) problems.push(problem);
  };
  const key = (k: string) => `openclaw:${k}`;
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
    const outcome = checkInputs({
      ...declared,
      environment: raw.environment,
      gatewayUrl: raw.gatewayUrl,
      backend: raw.backend,
      // Held as a secret by the program; the provider's check validates it.
      adminToken: UNKNOWN,
    });
    if (!outcome.ok) {
      for (const p of outcome.problems) {
        const stackLevel = (STACK_LEVEL_FIELDS as readonly string[]).includes(p.field);
        const field = stackLevel ? key(p.field) : `${at}.${p.field}`;
        if (stackLevel && stackLevelFaults.has(field)) continue;
        add({ field, message: p.message });
      }
    }
    leastPrivilegeProblems(declared, at, raw.backend).forEach(add);
    if (typeof declared.name === "string") {
      if (seen.has(declared.name)) add({ field: `${at}.name`, message: `${declared.name} is declared twice; token names are unique per stack` });
      seen.add(declared.name);
    }
  });
  return problems;
}

/**
 * The guide's least-privilege rules, on top of the provider's checks:
 *  - a CI token (the word "ci" in its name) holds run:jobs, and read:jobs if it polls, nothing else — not even with
 *    allowAdminScope: the guide says never give CI tokens admin scopes, and the admin token a deploy may need is a
 *    short-lived one minted for that deploy and revoked after, never a standing token declared in a stack;
 *  - any other token needs allowAdminScope: true for admin:tools as well as admin:* (the provider already refuses
 *    admin:* without it). The opt-in is the same flag for both rather than a second one: either scope belongs to a
 *    named platform admin, and one flag is one thing for a reviewer to question.
 */
function leastPrivilegeProblems(token: Record<string, unknown>, at: string, backend: unknown): Problem[] {
  const scopes = Array.isArray(token.scopes) ? token.scopes.filter((s): s is string => typeof s === "string") : [];
  const name = typeof token.name === "string" ? token.name : "";
  const rules = SCOPE_RULES[(backend as BackendKind) ?? BackendKind.DocumentedApi] ?? SCOPE_RULES[BackendKind.DocumentedApi];
  if (isCiTokenName(name)) {
    const extra = scopes.filter((s) => !rules.ciScopes.includes(s));
    const allowed = rules.ciScopes.join(" and ");
    return extra.length
      ? [
          {
            field: `${at}.scopes`,
            message: `${name} is a CI token (its name has the word "ci"), so it gets ${allowed} only; remove ${extra.join(", ")}. A deploy that needs admin actions mints a short-lived admin token and revokes it afterwards`,
          },
        ]
      : [];
  }
  if (scopes.includes(Scope.AdminTools) && token.allowAdminScope !== true) {
    return [
      {
        field: `${at}.scopes`,
        message: `admin:tools is for platform admins only; grant the narrow scopes ${name || "the consumer"} needs, or set allowAdminScope: true if this token belongs to a named platform admin`,
      },
    ];
  }
  // admin:* without the opt-in is refused by the provider's check (checkInputs) with its own message.
  return [];
}

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
  };
  const problems = stackConfigProblems(raw);
  const rotator = parseRotatorSettings(raw.rotator, "openclaw:rotator");
  const adminToken = config.getSecret("adminToken");
  if (!adminToken) {
    problems.push({ field: "openclaw:adminToken", message: "set the gateway's admin token: pulumi config set --secret openclaw:adminToken, which prompts for it (or pipe it in on stdin; never put it on the command line, where shell history keeps it)" });
  }
  // rotator.ok is false only when stackConfigProblems has reported its problems already.
  if (problems.length || !rotator.ok) throw new ValidationError(`Stack ${raw.stack}'s configuration`, problems);
  return {
    environment: raw.environment as Environment,
    gatewayUrl: raw.gatewayUrl as string,
    backend: raw.backend as string | undefined,
    adminToken: adminToken as pulumi.Output<string>,
    tokens: raw.tokens as TokenDeclaration[],
    rotator: rotator.settings,
  };
}

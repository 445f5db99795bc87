import { ALL_ENVIRONMENTS, Environment, environmentOfToken, isEnvironment, TOKEN_PREFIX } from "../domain/environments";
import { formatDuration, MAX_TTL_SECONDS, MIN_TTL_SECONDS, parseDuration } from "../domain/duration";
import { Problem } from "../domain/errors";
import { gatewayUrlProblems } from "../domain/gateway-url";
import { ALL_SCOPES, canonicalScopes, isScope, Scope } from "../domain/scopes";
import { BackendKind } from "../gateway/backend";
import { defaultSecretName, secretNamespace } from "../store/metadata";

/** A GatewayToken's inputs after `check`: validated, defaulted and in canonical form. */
export interface GatewayTokenInputs {
  readonly name: string;
  readonly scopes: readonly Scope[];
  readonly ttl: string;
  readonly environment: Environment;
  readonly gatewayUrl: string;
  /** An admin:* token of the gateway. Kept in state only as a Pulumi secret. */
  readonly adminToken: string;
  readonly rotationFraction: number;
  readonly secretName: string;
  readonly allowAdminScope: boolean;
  readonly recoveryWindowDays: number;
  readonly backend: BackendKind;
  readonly awsRegion: string | undefined;
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

export type CheckOutcome =
  | { readonly ok: true; readonly inputs: GatewayTokenInputs }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/** Validates raw resource inputs. Every problem is reported at once, each with the fix. */
export function checkInputs(raw: Record<string, unknown>): CheckOutcome {
  const problems: Problem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });
  const known = (value: unknown) => value !== UNKNOWN;

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

  const scopes = Array.isArray(raw.scopes) ? (raw.scopes as unknown[]) : undefined;
  if (!scopes || scopes.length === 0) {
    problem("scopes", `give at least one scope, from ${ALL_SCOPES.join(", ")}`);
  } else {
    scopes.forEach((scope, i) => {
      if (!known(scope)) return;
      if (!isScope(scope)) {
        problem(`scopes[${i}]`, `${JSON.stringify(scope)} is not a scope; use one of ${ALL_SCOPES.join(", ")}`);
      } else if (scopes.indexOf(scope) !== i) {
        problem(`scopes[${i}]`, `${scope} is listed twice; list each scope once`);
      }
    });
    if (scopes.includes(Scope.AdminAll) && allowAdminScope !== true) {
      problem(
        "scopes",
        "admin:* is full control, for break-glass tokens only; grant the narrow scopes the consumer needs, or set allowAdminScope: true if this token really is a break-glass token",
      );
    }
  }

  const ttl = raw.ttl;
  if (known(ttl)) {
    const seconds = typeof ttl === "string" ? parseDuration(ttl) : undefined;
    if (seconds === undefined) {
      problem("ttl", `${JSON.stringify(ttl)} is not a duration; write a whole number and a unit, e.g. "30d", "90d" or "12h"`);
    } else if (seconds < MIN_TTL_SECONDS || seconds > MAX_TTL_SECONDS) {
      problem("ttl", `${ttl} is outside ${formatDuration(MIN_TTL_SECONDS)}..${formatDuration(MAX_TTL_SECONDS)}; the guide recommends 30d to 90d`);
    }
  }

  const rotationFraction = raw.rotationFraction ?? DEFAULT_ROTATION_FRACTION;
  if (typeof rotationFraction !== "number" || !(rotationFraction >= 0.1 && rotationFraction <= 0.95)) {
    problem("rotationFraction", `${JSON.stringify(rotationFraction)} is outside 0.1..0.95; the guide rotates at 0.8 of the TTL`);
  }

  const recoveryWindowDays = raw.recoveryWindowDays ?? DEFAULT_RECOVERY_WINDOW_DAYS;
  if (
    typeof recoveryWindowDays !== "number" ||
    !(recoveryWindowDays === 0 || (Number.isInteger(recoveryWindowDays) && recoveryWindowDays >= 7 && recoveryWindowDays <= 30))
  ) {
    problem("recoveryWindowDays", `${JSON.stringify(recoveryWindowDays)} is not allowed; use 7 to 30 days, or 0 to delete the secret at once on destroy`);
  }

  const backend = raw.backend ?? BackendKind.DocumentedApi;
  if (!(Object.values(BackendKind) as unknown[]).includes(backend)) {
    problem("backend", `${JSON.stringify(backend)} is not a gateway backend; use one of ${Object.values(BackendKind).join(", ")}`);
  }

  const envOk = isEnvironment(environment);
  const gatewayUrl = raw.gatewayUrl;
  if (known(gatewayUrl)) {
    if (typeof gatewayUrl !== "string" || gatewayUrl === "") {
      problem("gatewayUrl", "give the gateway's URL, e.g. https://gateway.openclaw.ai");
    } else if (envOk) {
      for (const message of gatewayUrlProblems(gatewayUrl, environment)) problem("gatewayUrl", message);
    }
  }

  const adminToken = raw.adminToken;
  if (known(adminToken)) {
    if (typeof adminToken !== "string" || adminToken === "") {
      problem("adminToken", "give an admin:* token of the gateway (as a secret: pulumi config set --secret)");
    } else if (envOk && backend === BackendKind.DocumentedApi && environmentOfToken(adminToken) !== environment) {
      const actual = environmentOfToken(adminToken);
      problem(
        "adminToken",
        `${actual ? `it is a ${actual} token` : "it has no gateway token prefix"}; the ${environment} gateway needs a token starting ${TOKEN_PREFIX[environment]}`,
      );
    }
  }

  const secretName = raw.secretName ?? (envOk && typeof name === "string" ? defaultSecretName(environment, name) : undefined);
  if (known(secretName) && envOk) {
    if (typeof secretName !== "string" || !SECRET_NAME_PATTERN.test(secretName)) {
      problem("secretName", `${JSON.stringify(secretName)} is not a Secrets Manager name; use letters, digits and /_+=.@-`);
    } else if (!secretName.startsWith(secretNamespace(environment)) || secretName === secretNamespace(environment)) {
      problem("secretName", `${secretName} is outside this environment's namespace; start it with ${secretNamespace(environment)}`);
    }
  }

  const awsRegion = raw.awsRegion;
  if (awsRegion !== undefined && (typeof awsRegion !== "string" || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(awsRegion))) {
    problem("awsRegion", `${JSON.stringify(awsRegion)} is not an AWS region; write it like us-east-1`);
  }

  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    inputs: {
      name: name as string,
      scopes: canonicalScopes(scopes as Scope[]),
      ttl: (ttl as string).trim(),
      environment: environment as Environment,
      gatewayUrl: (gatewayUrl as string).replace(/\/+$/, ""),
      adminToken: adminToken as string,
      rotationFraction: rotationFraction as number,
      secretName: secretName as string,
      allowAdminScope: allowAdminScope as boolean,
      recoveryWindowDays: recoveryWindowDays as number,
      backend: backend as BackendKind,
      awsRegion: awsRegion as string | undefined,
    },
  };
}

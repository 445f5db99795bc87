/**
 * The guide's failure-mode table, walked in order for one token and one gateway. Each check says ok, problem (with
 * the guide's fix), info or skipped; later checks are skipped when an earlier one makes them meaningless.
 */
import { Environment, isEnvironment, TOKEN_PREFIX } from "../../src/domain/environments";
import { scopeSatisfies } from "../../src/domain/scopes";
import { Check, CheckId, CheckStatus, info, ok, problem, skipped } from "./check";
import { describeEndpoints, scopeForEndpoint } from "./endpoints";
import { ManagedToken, secretCheck } from "./managed";
import { Answer, probe, whoami } from "./probe";
import { inspectToken } from "./token-shape";

export interface DiagnoseInput {
  /** The token exactly as the consumer has it (whitespace and all). */
  readonly token: string;
  readonly gatewayUrl: string;
  /** The environment the caller expects (--environment), if given. */
  readonly environment: Environment | undefined;
  /** `--endpoint 'METHOD /path'`. */
  readonly endpoint: string | undefined;
  /** `--via URL`: the proxy between consumers and the gateway. */
  readonly via: string | undefined;
  /** With a managed token's name: its secret's versions. */
  readonly managed: ManagedToken | undefined;
}

export interface Diagnosis {
  readonly gateway: { readonly url: string; readonly environment: string | null };
  readonly token: { readonly length: number; readonly prefix: string | null; readonly environment: Environment | null; readonly id: string | null };
  readonly checks: readonly Check[];
  readonly problems: number;
}

/** How many times the proxy is asked: an intermittent 401 needs more than one try to show. */
const PROXY_TRIES = 4;

export async function diagnose(input: DiagnoseInput): Promise<Diagnosis> {
  const shape = inspectToken(input.token);
  const token = shape.cleaned;
  const checks: Check[] = [...shape.checks];

  const health = await probe(input.gatewayUrl, "/healthz", undefined);
  const gatewayEnv = typeof health.body?.environment === "string" ? health.body.environment : undefined;
  if (health.status === undefined) {
    checks.push(problem(CheckId.Gateway, `nothing answers at ${input.gatewayUrl} (${health.message})`, "check OPENCLAW_GATEWAY_URL (or --gateway-url): scheme, host and port"));
  } else {
    checks.push(ok(CheckId.Gateway, `${input.gatewayUrl} answers${gatewayEnv ? ` as the ${gatewayEnv} gateway` : ` (healthz ${health.status})`}`));
  }

  checks.push(environmentCheck(shape.environment, shape.providerKey, gatewayEnv, input.environment));

  const reachable = health.status !== undefined;
  const who = reachable && !shape.providerKey ? await whoami(input.gatewayUrl, token) : undefined;
  const identity = who?.status === 200 ? identityOf(who) : undefined;
  checks.push(whoamiCheck(who, shape.providerKey, reachable));
  checks.push(await bearerFormCheck(input.gatewayUrl, token, identity !== undefined));
  checks.push(endpointCheck(input.endpoint, identity));
  checks.push(await proxyCheck(input.via, token, who, shape.providerKey));
  if (input.managed) checks.push(secretCheck(input.managed, token, who?.status === undefined ? undefined : who.status === 200));

  const prefix = shape.environment ? TOKEN_PREFIX[shape.environment] : null;
  return {
    gateway: { url: input.gatewayUrl, environment: gatewayEnv ?? null },
    token: { length: input.token.length, prefix, environment: shape.environment ?? null, id: identity?.id ?? null },
    checks,
    problems: checks.filter((c) => c.status === CheckStatus.Problem).length,
  };
}

interface Identity {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly expiresAt: string | null;
}

function identityOf(answer: Answer): Identity {
  const body = answer.body ?? {};
  return {
    id: String(body.id ?? "?"),
    name: String(body.name ?? "?"),
    scopes: Array.isArray(body.scopes) ? body.scopes.map(String) : [],
    expiresAt: typeof body.expiresAt === "string" ? body.expiresAt : null,
  };
}

const ENV_FIX = "confirm the environment-specific .env (or secret) is the one being read; the prefix names the environment (openclaw_gw_live_... is prod)";

function environmentCheck(tokenEnv: Environment | undefined, providerKey: boolean, gatewayEnv: string | undefined, expected: Environment | undefined): Check {
  if (providerKey || !tokenEnv) return skipped(CheckId.Environment, "the token has no environment prefix");
  if (gatewayEnv && isEnvironment(gatewayEnv) && gatewayEnv !== tokenEnv) {
    return problem(CheckId.Environment, `a ${tokenEnv} token (${TOKEN_PREFIX[tokenEnv]}) sent to the ${gatewayEnv} gateway, which accepts only ${TOKEN_PREFIX[gatewayEnv]}`, ENV_FIX);
  }
  if (expected && expected !== tokenEnv) {
    return problem(CheckId.Environment, `a ${tokenEnv} token (${TOKEN_PREFIX[tokenEnv]}), but --environment says ${expected} (${TOKEN_PREFIX[expected]})`, ENV_FIX);
  }
  return ok(CheckId.Environment, `a ${tokenEnv} token (${TOKEN_PREFIX[tokenEnv]})${gatewayEnv ? ` for the ${gatewayEnv} gateway` : ""}`);
}

function whoamiCheck(who: Answer | undefined, providerKey: boolean, reachable: boolean): Check {
  if (providerKey) return skipped(CheckId.Whoami, "not sent: a provider key is no gateway token, and is not sent to the gateway");
  if (!reachable || !who) return skipped(CheckId.Whoami, "the gateway does not answer");
  if (who.status === 200) {
    const id = identityOf(who);
    return ok(CheckId.Whoami, `valid: token ${id.id} (${id.name}), scopes ${id.scopes.join(", ") || "none"}, expires ${id.expiresAt ?? "never"}`);
  }
  const body = `${who.code ?? ""} ${who.message}`;
  if (who.status === 401 && /suspend/i.test(body)) {
    return problem(CheckId.Whoami, "401: the token is suspended (the gateway says so)", "ask the gateway's admin why it was suspended; lift the suspension, or issue a replacement and revoke it");
  }
  if (who.status === 401 && (who.code === "token_expired" || /expired/i.test(body))) {
    return problem(CheckId.Whoami, "401 token expired: the token passed its TTL", "generate a new token; enable rotation (a managed token: `openclaw-tokens rotate NAME`)");
  }
  if (who.status === 401) {
    return problem(
      CheckId.Whoami,
      "401 invalid token: the gateway does not know it (mistyped, truncated, revoked, or from another gateway; it does not say which)",
      "check the header format (Authorization: Bearer <token>), confirm you copied all characters, or regenerate the token; " +
        "on a self-hosted gateway that restarted, ensure its token database volume is mounted (tokens made before the restart are gone otherwise)",
    );
  }
  if (who.status === undefined) return problem(CheckId.Whoami, `no answer (${who.message})`, "check the gateway URL and the network");
  return problem(CheckId.Whoami, `${who.status} ${who.code ?? ""}: ${who.message}`.replace(/\s+:/, ":"), "see the gateway's answer above; a 5xx is the gateway's trouble, not the token's");
}

async function bearerFormCheck(gatewayUrl: string, token: string, valid: boolean): Promise<Check> {
  if (!valid) return skipped(CheckId.BearerForm, "only checked with a token the gateway accepts");
  const lower = await whoami(gatewayUrl, token, "bearer");
  const form = "send exactly `Authorization: Bearer <token>` (capital B, one space)";
  if (lower.status === 200) {
    return info(CheckId.BearerForm, "`Bearer` accepted; this gateway also accepts lowercase `bearer`, but proxies in between may drop it", form);
  }
  return info(CheckId.BearerForm, `\`Bearer\` accepted; lowercase \`bearer\` is refused (${lower.status ?? "no answer"}${lower.code ? ` ${lower.code}` : ""})`, form);
}

function endpointCheck(endpoint: string | undefined, identity: Identity | undefined): Check {
  if (endpoint === undefined) return skipped(CheckId.EndpointScope, "no --endpoint given");
  const needed = scopeForEndpoint(endpoint);
  if (!needed.known) return problem(CheckId.EndpointScope, `${endpoint} is not an endpoint of the gateway's contract`, `name one as 'METHOD /path': ${describeEndpoints()}`);
  if (!identity) return skipped(CheckId.EndpointScope, "the token is not valid, so no scope applies");
  if (needed.scope === undefined) return ok(CheckId.EndpointScope, `${endpoint} needs any valid token`);
  if (scopeSatisfies(identity.scopes, needed.scope)) {
    const how = identity.scopes.includes(needed.scope) ? "has" : "has through admin:*";
    return ok(CheckId.EndpointScope, `${endpoint} needs ${needed.scope}, which the token ${how}`);
  }
  return problem(
    CheckId.EndpointScope,
    `403 insufficient scope: ${endpoint} needs ${needed.scope}; the token has ${identity.scopes.join(", ") || "none"}`,
    `grant ${needed.scope} to this consumer's token (declare it in the stack) or use a different token; do not broadly upgrade to admin:*`,
  );
}

async function proxyCheck(via: string | undefined, token: string, direct: Answer | undefined, providerKey: boolean): Promise<Check> {
  if (via === undefined) return skipped(CheckId.Proxy, "no --via given");
  if (providerKey || direct?.status !== 200) return skipped(CheckId.Proxy, "only compared when the gateway accepts the token directly");
  const answers: Answer[] = [];
  for (let i = 0; i < PROXY_TRIES; i++) answers.push(await whoami(via, token));
  const refused = answers.filter((a) => a.status !== 200);
  if (refused.length === 0) return ok(CheckId.Proxy, `through ${via} the token is accepted as directly (${PROXY_TRIES} of ${PROXY_TRIES})`);
  const seen = [...new Set(refused.map((a) => `${a.status ?? "no answer"}${a.code ? ` ${a.code}` : ""}`))].join(", ");
  const how = refused.length === answers.length ? "every time" : `intermittently (${refused.length} of ${answers.length})`;
  return problem(
    CheckId.Proxy,
    `through ${via} the gateway answers ${seen} ${how}, directly 200: the proxy strips or rewrites the Authorization header`,
    "inspect the proxy config; preserve the Authorization header's case and value",
  );
}

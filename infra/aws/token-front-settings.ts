/**
 * The token front fleet's settings: defaults, and one check per setting that says what to write instead. Shared by
 * the stack's config (`openclaw:front`) and by TokenFrontDeployment itself, so that a team using the component in its
 * own program gets the same checks and the same messages, before anything is created.
 */
import { isIP } from "node:net";
import { ALL_ENVIRONMENTS, Environment, isEnvironment } from "../../src/domain/environments";
import { Problem } from "../../src/domain/errors";
import { environmentOfHost, isLoopbackHost } from "../../src/domain/gateway-url";
import { closest } from "../../src/domain/suggest";
import { LOG_RETENTION_DAYS } from "./rotator-settings";

export const FRONT_DEFAULTS = {
  deploy: false,
  desiredCount: 2,
  cpu: 256,
  memory: 512,
  cpuArchitecture: "X86_64",
  internal: false,
  ingressCidrs: ["0.0.0.0/0"],
  upstreamUserHeader: "x-forwarded-user",
  // Above the front's own idle limit for a WebSocket tunnel (10 minutes, reference-gateway/upstream/proxy.ts), so
  // that the front, not the load balancer, decides when an idle operator connection ends.
  idleTimeoutSeconds: 660,
  logRetentionDays: 30,
} as const;

export const CPU_ARCHITECTURES = ["X86_64", "ARM64"] as const;
export type CpuArchitecture = (typeof CPU_ARCHITECTURES)[number];

/** One fleet of fronts, validated and defaulted: what TokenFrontDeployment builds from. */
export interface FrontSettings {
  readonly environment: Environment;
  readonly image: string;
  readonly upstreamUrl: string;
  readonly certificateArn: string;
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly loadBalancerSubnetIds: readonly string[];
  /** Where the upstream's address lies; derived (`<ip>/32`) when its host is an IPv4 address. */
  readonly upstreamCidrs: readonly string[];
  readonly desiredCount: number;
  readonly cpu: number;
  readonly memory: number;
  readonly cpuArchitecture: CpuArchitecture;
  readonly internal: boolean;
  readonly ingressCidrs: readonly string[];
  readonly upstreamUserHeader: string;
  readonly idleTimeoutSeconds: number;
  readonly logRetentionDays: number;
}

/** The settings a caller gives (the component's arguments, the stack's `openclaw:front` less `deploy`). */
export const FRONT_ARGUMENT_KEYS = [
  "environment",
  "image",
  "upstreamUrl",
  "certificateArn",
  "vpcId",
  "subnetIds",
  "loadBalancerSubnetIds",
  "upstreamCidrs",
  "desiredCount",
  "cpu",
  "memory",
  "cpuArchitecture",
  "internal",
  "ingressCidrs",
  "upstreamUserHeader",
  "idleTimeoutSeconds",
  "logRetentionDays",
] as const;
export type FrontArgumentKey = (typeof FRONT_ARGUMENT_KEYS)[number];

/** The keys of `openclaw:front`: the component's arguments, less the environment (the stack's own), plus `deploy`. */
export const FRONT_STACK_KEYS = ["deploy", ...FRONT_ARGUMENT_KEYS.filter((k) => k !== "environment")] as const;

/** Stands for an argument that is not known yet (a Pulumi Output): its checks wait until it resolves. */
export const NOT_YET_KNOWN: unique symbol = Symbol("not yet known");

const IMAGE_EXAMPLE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/openclaw-token-front:1.0.0";
const UPSTREAM_EXAMPLE = "http://10.0.12.7:18789";
/** Headers the load balancer or the front itself sets: an identity header by one of these names would be overwritten. */
const RESERVED_HEADERS = ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-port", "x-forwarded-host", "x-real-ip", "forwarded", "x-openclaw-scopes", "host", "authorization"];
/** Fargate's task sizes: memory (MiB) allowed for each CPU value (units). */
const FARGATE_MEMORY: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: [1024, 2048, 3072, 4096],
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
};

function range(from: number, to: number, step: number): number[] {
  return Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);
}

/** An IPv4 CIDR such as 10.0.0.0/16. */
export function isIpv4Cidr(value: unknown): boolean {
  if (typeof value !== "string") return false;
  const match = /^([0-9.]+)\/([0-9]{1,2})$/.exec(value);
  return match !== null && isIP(match[1]) === 4 && Number(match[2]) <= 32;
}

/** The repository and tag of an image reference, e.g. `host/repo:tag` or `host/repo@sha256:…`. */
function imageProblem(value: unknown): string | undefined {
  if (typeof value !== "string" || value === "") {
    return `give the token front's image, built from deploy/token-front/Containerfile and pushed where the tasks can pull it, e.g. ${IMAGE_EXAMPLE}`;
  }
  if (/\s/.test(value) || !/^[a-z0-9][a-z0-9._\-/:@]*$/i.test(value)) return `${JSON.stringify(value)} is not an image reference; write it like ${IMAGE_EXAMPLE}`;
  if (/@sha256:[0-9a-f]{64}$/.test(value)) return undefined;
  const lastPart = value.slice(value.lastIndexOf("/") + 1);
  const tag = lastPart.includes(":") ? lastPart.slice(lastPart.indexOf(":") + 1) : undefined;
  if (tag === undefined || tag === "latest" || tag === "") {
    return `${value} is not pinned: give a version tag or a digest (@sha256:…), so that every task of the fleet runs the same front`;
  }
  return undefined;
}

/** The upstream OpenClaw as the tasks reach it: the front's `--upstream` rule, plus what a task cannot reach. */
function upstreamProblem(value: unknown, environment: unknown): string | undefined {
  if (typeof value !== "string" || value === "") return `give the OpenClaw gateway's address as the tasks reach it in the VPC, e.g. ${UPSTREAM_EXAMPLE}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${JSON.stringify(value.replace(/\/\/[^/]*@/, "//[credentials removed]@"))} is not a URL; write it like ${UPSTREAM_EXAMPLE}`;
  }
  if (url.username || url.password) return "the URL must not carry credentials: OpenClaw trusts the front by its address (trustedProxies), not a password";
  if (url.protocol !== "http:" || url.pathname !== "/" || url.search !== "" || url.hash !== "") {
    return `${value} must be http://HOST:PORT with no path: the OpenClaw gateway's own listener (the front's --upstream)`;
  }
  if (isLoopbackHost(url.hostname)) return `${url.host} is loopback, which inside a task is the task itself; give the OpenClaw host's address in the VPC`;
  const named = environmentOfHost(url.hostname);
  if (named && isEnvironment(environment) && named !== environment) {
    return `host ${url.hostname} names the ${named} environment, but this front is for ${environment}`;
  }
  return undefined;
}

function certificateProblem(value: unknown): string | undefined {
  if (value === undefined || value === "") {
    return "give the ARN of an ACM certificate for the front's https name, in the deployment's region: the load balancer serves HTTPS only (HTTP just redirects)";
  }
  return typeof value === "string" && /^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate\/[0-9a-f-]{36}$/.test(value)
    ? undefined
    : `${JSON.stringify(value)} is not an ACM certificate ARN; write it like arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b`;
}

function subnetListProblem(value: unknown, minimum: number, what: string): string | undefined {
  if (!Array.isArray(value) || value.length < minimum) return `give ${what}: a list of at least ${minimum} subnet ID${minimum > 1 ? "s" : ""} such as subnet-0123456789abcdef0`;
  const bad = value.filter((id) => typeof id !== "string" || !/^subnet-[0-9a-f]{8,17}$/.test(id));
  if (bad.length) return `${bad.map((b) => JSON.stringify(b)).join(", ")} ${bad.length > 1 ? "are not subnet IDs" : "is not a subnet ID"}; write them like subnet-0123456789abcdef0`;
  if (new Set(value).size !== value.length) return "a subnet is listed twice";
  return undefined;
}

function cidrListProblem(value: unknown, example: string): string | undefined {
  if (!Array.isArray(value) || value.length === 0) return `give a list of IPv4 CIDRs, e.g. ["${example}"]`;
  const bad = value.filter((c) => !isIpv4Cidr(c));
  return bad.length ? `${bad.map((b) => JSON.stringify(b)).join(", ")} ${bad.length > 1 ? "are not IPv4 CIDRs" : "is not an IPv4 CIDR"}; write them like ${example}` : undefined;
}

const wholeNumber = (value: unknown, min: number, max: number, what: string, fallback: number): string | undefined =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max ? undefined : `${JSON.stringify(value)} is not ${what} from ${min} to ${max}; the default is ${fallback}`;

/** Each check returns undefined for a good value, else what is wrong and what to write instead. */
const CHECKS: Readonly<Record<FrontArgumentKey, (value: unknown, all: Readonly<Record<string, unknown>>) => string | undefined>> = {
  environment: (v) => (isEnvironment(v) ? undefined : `${JSON.stringify(v)} is not an environment; use one of ${ALL_ENVIRONMENTS.join(", ")}`),
  image: imageProblem,
  upstreamUrl: (v, all) => upstreamProblem(v, all.environment),
  certificateArn: certificateProblem,
  vpcId: (v) => (typeof v === "string" && /^vpc-[0-9a-f]{8,17}$/.test(v) ? undefined : `${v === undefined ? "give the VPC of the fleet" : `${JSON.stringify(v)} is not a VPC ID`}; write it like vpc-0123456789abcdef0`),
  subnetIds: (v) => subnetListProblem(v, 1, "the tasks' subnets (private subnets of the VPC, routed to the OpenClaw host)"),
  loadBalancerSubnetIds: (v) => subnetListProblem(v, 2, "the load balancer's subnets, in at least two Availability Zones (an ALB's minimum)"),
  upstreamCidrs: (v) => (v === undefined ? undefined : cidrListProblem(v, "10.0.12.0/24")),
  desiredCount: (v) => (v === undefined ? undefined : wholeNumber(v, 1, 100, "a whole number of tasks", FRONT_DEFAULTS.desiredCount)),
  cpu: (v) => (v === undefined || Object.hasOwn(FARGATE_MEMORY, String(v)) ? undefined : `${JSON.stringify(v)} is not a Fargate CPU size; use one of ${Object.keys(FARGATE_MEMORY).join(", ")} (the default is ${FRONT_DEFAULTS.cpu})`),
  memory: (v, all) => {
    if (v === undefined && (all.cpu === undefined || all.cpu === FRONT_DEFAULTS.cpu)) return undefined;
    const cpu = (all.cpu ?? FRONT_DEFAULTS.cpu) as number;
    const allowed = FARGATE_MEMORY[cpu];
    if (!allowed) return undefined; // reported under cpu
    const memory = v ?? FRONT_DEFAULTS.memory;
    return allowed.includes(memory as number) ? undefined : `${JSON.stringify(memory)} MiB does not go with ${cpu} CPU units on Fargate; use one of ${allowed.join(", ")}`;
  },
  cpuArchitecture: (v) => (v === undefined || (CPU_ARCHITECTURES as readonly unknown[]).includes(v) ? undefined : `${JSON.stringify(v)} is not ${CPU_ARCHITECTURES.join(" or ")}: the architecture the image was built for (default ${FRONT_DEFAULTS.cpuArchitecture})`),
  internal: (v) => (v === undefined || typeof v === "boolean" ? undefined : `${JSON.stringify(v)} is not true or false`),
  ingressCidrs: (v) => (v === undefined ? undefined : cidrListProblem(v, "10.0.0.0/8")),
  upstreamUserHeader: (v) => {
    if (v === undefined) return undefined;
    if (typeof v !== "string" || !/^[A-Za-z0-9-]{1,64}$/.test(v)) return `${JSON.stringify(v)} is not a header name`;
    return RESERVED_HEADERS.includes(v.toLowerCase()) ? `${v} is set by the load balancer or the front itself; use a header of its own, such as ${FRONT_DEFAULTS.upstreamUserHeader}` : undefined;
  },
  idleTimeoutSeconds: (v) => (v === undefined ? undefined : wholeNumber(v, 1, 4000, "a whole number of seconds (the ALB's limits)", FRONT_DEFAULTS.idleTimeoutSeconds)),
  logRetentionDays: (v) =>
    v === undefined || (typeof v === "number" && LOG_RETENTION_DAYS.includes(v))
      ? undefined
      : `${JSON.stringify(v)} is not a CloudWatch Logs retention; use one of ${LOG_RETENTION_DAYS.join(", ")} (the default is ${FRONT_DEFAULTS.logRetentionDays})`,
};

/**
 * Every problem with a front's arguments, each under its own key (prefixed with `at`). A value that is NOT_YET_KNOWN
 * is skipped, and so is any check across it; call again with every value resolved.
 */
export function frontArgumentProblems(args: Readonly<Record<string, unknown>>, at = ""): Problem[] {
  const problems: Problem[] = [];
  const field = (key: string) => `${at}${key}`;
  const known = (key: string) => args[key] !== NOT_YET_KNOWN;
  for (const key of FRONT_ARGUMENT_KEYS) {
    if (!known(key)) continue;
    // The memory check reads the cpu; the upstream check reads the environment.
    if (key === "memory" && !known("cpu")) continue;
    if (key === "upstreamUrl" && !known("environment")) continue;
    const message = CHECKS[key](args[key], args);
    if (message) problems.push({ field: field(key), message });
  }
  const failed = new Set(problems.map((p) => p.field));
  const good = (...keys: string[]) => keys.every((k) => known(k) && !failed.has(field(k)));
  // The load balancer's addresses must never fall within trustedProxies, which are the tasks' subnets.
  if (good("subnetIds", "loadBalancerSubnetIds")) {
    const shared = (args.subnetIds as string[]).filter((id) => (args.loadBalancerSubnetIds as string[]).includes(id));
    if (shared.length) {
      problems.push({
        field: field("loadBalancerSubnetIds"),
        message: `${shared.join(", ")} ${shared.length > 1 ? "are" : "is"} also in subnetIds: give the load balancer subnets of its own, so that its addresses are never among OpenClaw's trustedProxies (the tasks' subnets)`,
      });
    }
  }
  // The tasks' security group lets them reach the upstream and nothing else: its addresses must be known.
  if (good("upstreamUrl", "upstreamCidrs") && args.upstreamCidrs === undefined && isIP(new URL(args.upstreamUrl as string).hostname) !== 4) {
    problems.push({
      field: field("upstreamCidrs"),
      message: `the upstream host ${new URL(args.upstreamUrl as string).hostname} is a name: give the IPv4 CIDRs it resolves to (e.g. ["10.0.12.0/24"]), so that the tasks may reach it and nothing else`,
    });
  }
  return problems;
}

/** The settings with defaults filled in; call only once frontArgumentProblems found nothing. */
export function frontSettings(args: Readonly<Record<string, unknown>>): FrontSettings {
  const upstream = new URL(args.upstreamUrl as string);
  const value = <K extends keyof typeof FRONT_DEFAULTS>(key: K) => (args[key] ?? FRONT_DEFAULTS[key]) as (typeof FRONT_DEFAULTS)[K];
  return {
    environment: args.environment as Environment,
    image: args.image as string,
    upstreamUrl: upstream.origin,
    certificateArn: args.certificateArn as string,
    vpcId: args.vpcId as string,
    subnetIds: [...(args.subnetIds as string[])],
    loadBalancerSubnetIds: [...(args.loadBalancerSubnetIds as string[])],
    upstreamCidrs: (args.upstreamCidrs as string[] | undefined) ?? [`${upstream.hostname}/32`],
    desiredCount: value("desiredCount"),
    cpu: value("cpu"),
    memory: value("memory"),
    cpuArchitecture: value("cpuArchitecture"),
    internal: value("internal"),
    ingressCidrs: [...value("ingressCidrs")],
    upstreamUserHeader: value("upstreamUserHeader").toLowerCase(),
    idleTimeoutSeconds: value("idleTimeoutSeconds"),
    logRetentionDays: value("logRetentionDays"),
  };
}

/** `openclaw:front` after validation: not deployed, or the fleet's settings. */
export type FrontStackSetting = { readonly deploy: false } | { readonly deploy: true; readonly settings: FrontSettings };

export type FrontStackOutcome = { readonly ok: true; readonly front: FrontStackSetting } | { readonly ok: false; readonly problems: readonly Problem[] };

/**
 * Validates the raw `openclaw:front` object for a stack of `environment` (undefined means not configured: no front).
 * The fleet's own settings are required only with `deploy: true`; unknown keys are refused either way.
 */
export function parseFrontStackSetting(raw: unknown, environment: unknown, key = "openclaw:front"): FrontStackOutcome {
  if (raw === undefined || raw === null) return { ok: true, front: { deploy: false } };
  if (typeof raw !== "object" || Array.isArray(raw)) {
    return { ok: false, problems: [{ field: key, message: `set it to an object such as {deploy: true, image: ..., upstreamUrl: ..., certificateArn: ...}; keys: ${FRONT_STACK_KEYS.join(", ")}` }] };
  }
  const given = raw as Record<string, unknown>;
  const problems: Problem[] = [];
  for (const name of Object.keys(given)) {
    if ((FRONT_STACK_KEYS as readonly string[]).includes(name)) continue;
    if (name === "environment") {
      problems.push({ field: `${key}.environment`, message: "the front is deployed for the stack's own environment (openclaw:environment); remove this key" });
      continue;
    }
    const suggestion = closest(name, FRONT_STACK_KEYS);
    problems.push({ field: `${key}.${name}`, message: `${name} is not a front setting${suggestion ? `; did you mean ${suggestion}?` : ""} (the settings are ${FRONT_STACK_KEYS.join(", ")})` });
  }
  const deploy = given.deploy ?? FRONT_DEFAULTS.deploy;
  if (typeof deploy !== "boolean") problems.push({ field: `${key}.deploy`, message: `${JSON.stringify(given.deploy)} is not true or false` });
  if (deploy !== true) return problems.length ? { ok: false, problems } : { ok: true, front: { deploy: false } };
  // The environment is the stack's, reported under openclaw:environment when it is wrong.
  const { deploy: _deploy, ...settings } = given;
  const args = { ...settings, environment: isEnvironment(environment) ? environment : NOT_YET_KNOWN };
  problems.push(...frontArgumentProblems(args, `${key}.`));
  if (problems.length || !isEnvironment(environment)) return { ok: false, problems };
  return { ok: true, front: { deploy: true, settings: frontSettings(args) } };
}

import { ALL_ENVIRONMENTS, isEnvironment, type Environment } from "../src/domain/environments";
import { systemClock } from "../src/domain/clock";
import { parseDuration } from "../src/domain/duration";
import { TokenOpsError, ValidationError } from "../src/domain/errors";
import { parseArgs, type ParsedArgs } from "./args";
import { UsageError } from "./errors";
import { DEFAULT_RECORD_CACHE_MS } from "./dynamodb/token-store";
import { openDynamoDbRegistry } from "./dynamodb/registry";
import type { GatewayRegistry } from "./registry-store";
import { ReferenceGateway, type GatewayOptions } from "./server";
import { openExistingSqliteRegistry, openSqliteRegistry } from "./sqlite-store";
import type { UpstreamOptions } from "./upstream/proxy";
import { isIP } from "node:net";
import { toMetadata, type TokenMetadata, type TokenRecord } from "./token-registry";
import { validateCreateToken } from "./token-validation";

export const USAGE = `usage:
  reference-gateway serve --environment dev|stage|prod (--state-dir DIR | --registry-table TABLE
                          [--registry-cache-ms 2000] [--registry-flush-ms 1000]) [--host 127.0.0.1] [--port 0] [--latency-ms N] [--test-control]
                          [--upstream http://127.0.0.1:18789 [--upstream-user-header x-forwarded-user]
                           [--upstream-source-address 127.0.0.2] [--local-consumer-address ADDR]
                           [--upstream-timeout-ms 120000] [--websocket-activity-interval-ms 60000]] [--headers-timeout-ms 15000]
  reference-gateway auth create-token --state-dir DIR --environment dev|stage|prod --name NAME
                          --scope SCOPE [--scope SCOPE ...] [--expires-in 90d] [--json]
  reference-gateway auth revoke TOKEN_ID --state-dir DIR [--environment ENV] [--json]
  reference-gateway auth list --state-dir DIR [--environment ENV] [--json]
  reference-gateway auth suspend|reinstate TOKEN_ID --state-dir DIR [--environment ENV] [--json]
  (each auth command takes --registry-table TABLE --environment ENV instead of --state-dir for a fleet's table)

A fleet of fronts shares one DynamoDB table: --registry-table, or OPENCLAW_FRONT_REGISTRY_TABLE when neither
--registry-table nor --state-dir is given; the region and endpoint come from AWS_REGION and AWS_ENDPOINT_URL.

A token with admin:tokens (token management alone, e.g. the rotator's credential) needs --expires-in of at most 30d.
Exit codes: 0 success, 1 failure, 2 bad usage. Token values are printed once, by create-token, and never again.`;

/** Where commands write: stdout carries only results (JSON or the token); everything else goes to stderr. */
export interface CliOutput {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** Runs one command and resolves to the process exit code. */
export async function runCli(argv: readonly string[], out: CliOutput = process, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    return await dispatch(argv, out, env);
  } catch (error) {
    if (error instanceof UsageError) {
      out.stderr.write(`error: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (error instanceof ValidationError) {
      out.stderr.write(`error: ${error.message}\n`);
      return 2;
    }
    if (error instanceof TokenOpsError) {
      out.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

async function dispatch(argv: readonly string[], out: CliOutput, env: NodeJS.ProcessEnv): Promise<number> {
  const [command, subcommand, ...rest] = argv;
  if (command === "help" || command === "--help" || command === "-h") {
    out.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command === "serve") return serve(argv.slice(1), out, env);
  if (command === "auth" && subcommand === "create-token") return createToken(rest, out, env);
  if (command === "auth" && subcommand === "revoke") return revoke(rest, out, env);
  if (command === "auth" && subcommand === "list") return list(rest, out, env);
  if (command === "auth" && (subcommand === "suspend" || subcommand === "reinstate")) return suspension(subcommand, rest, out, env);
  throw new UsageError(command === undefined ? "no command given" : `unknown command: ${argv.slice(0, 2).join(" ")}`);
}

/** What `serve` runs with: its options checked, nothing opened yet. */
export interface ServeSettings {
  readonly gateway: GatewayOptions;
  readonly host: string;
  readonly port: number;
}

/** Parses and checks the `serve` options; a UsageError names any bad one. Opens nothing. */
export function parseServeArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServeSettings {
  const args = parseArgs("serve", argv, {
    environment: { type: "string" },
    "state-dir": { type: "string" },
    "registry-table": { type: "string" },
    "registry-cache-ms": { type: "string" },
    "registry-flush-ms": { type: "string" },
    host: { type: "string" },
    port: { type: "string" },
    "latency-ms": { type: "string" },
    "test-control": { type: "boolean" },
    upstream: { type: "string" },
    "upstream-user-header": { type: "string" },
    "upstream-source-address": { type: "string" },
    "local-consumer-address": { type: "string" },
    "upstream-timeout-ms": { type: "string" },
    "websocket-activity-interval-ms": { type: "string" },
    "headers-timeout-ms": { type: "string" },
  });
  noPositionals(args);
  const upstream = upstreamOptions(args);
  const store = registryOption(args, env);
  const registryTable = store.kind === "table" ? {
    tableName: store.tableName,
    recordCacheMs: wholeNumberOption(args, "registry-cache-ms", 0, 60_000) ?? DEFAULT_RECORD_CACHE_MS,
    ...(args.string("registry-flush-ms") !== undefined && { flushIntervalMs: wholeNumberOption(args, "registry-flush-ms", 10, 60_000) }),
  } : undefined;
  if (!registryTable) {
    const given = ["registry-cache-ms", "registry-flush-ms"].find((name) => args.string(name) !== undefined);
    if (given) throw new UsageError(`--${given} needs --registry-table (it tunes the fleet's DynamoDB registry)`);
  }
  return {
    host: args.string("host") ?? "127.0.0.1",
    port: wholeNumberOption(args, "port", 0, 65_535) ?? 0,
    gateway: {
      environment: environmentOption(args, true),
      ...(store.kind === "state-dir" ? { stateDir: store.stateDir } : { registryTable }),
      testControl: args.flag("test-control"),
      latencyMs: wholeNumberOption(args, "latency-ms", 0, 600_000) ?? 0,
      ...(upstream && { upstream }),
      headersTimeoutMs: wholeNumberOption(args, "headers-timeout-ms", 100, 600_000) ?? 15_000,
    },
  };
}

async function serve(argv: readonly string[], out: CliOutput, env: NodeJS.ProcessEnv): Promise<number> {
  const { host, port, gateway: options } = parseServeArgs(argv, env);
  const { environment, upstream } = options;
  const gateway = await ReferenceGateway.open(options);
  let url: string;
  try {
    url = await gateway.listen(port, host);
  } catch (cause) {
    await gateway.close();
    throw new TokenOpsError("listen_failed", `cannot listen on ${host}:${port} (${(cause as NodeJS.ErrnoException).code})`, {
      hint: "choose another --port, or --port 0 for a free one",
      cause,
    });
  }
  const mode = upstream ? { mode: "front", upstream: upstream.url.origin } : { mode: "standalone" };
  const registry = options.registryTable ? { registryTable: options.registryTable.tableName } : {};
  out.stdout.write(`${JSON.stringify({ event: "listening", url, environment, pid: process.pid, ...mode, ...registry })}\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  out.stderr.write(`reference-gateway: ${signal} received, closing (send it again to stop at once)\n`);
  await gateway.close();
  return 0;
}

async function createToken(argv: readonly string[], out: CliOutput, env: NodeJS.ProcessEnv): Promise<number> {
  const args = parseArgs("auth create-token", argv, {
    "state-dir": { type: "string" },
    "registry-table": { type: "string" },
    environment: { type: "string" },
    name: { type: "string" },
    scope: { type: "string", multiple: true },
    "expires-in": { type: "string" },
    json: { type: "boolean" },
  });
  noPositionals(args);
  const environment = environmentOption(args, true);
  const store = registryOption(args, env);
  const expiresIn = args.string("expires-in");
  const expiresInSeconds = expiresIn === undefined ? undefined : parseDuration(expiresIn);
  if (expiresIn !== undefined && expiresInSeconds === undefined) {
    throw new UsageError(`--expires-in ${expiresIn} is not a duration; write it like 90d, 12h, 30m or 45s`);
  }
  // Validate before touching the state dir, so a typo creates nothing.
  const spec = validateCreateToken(
    { name: args.string("name"), scopes: args.strings("scope"), ...(expiresInSeconds !== undefined && { expiresInSeconds }) },
    systemClock.now().getTime(),
  );
  const { record, value } = await withRegistry(store, environment, true, (registry) => registry.tokens.create(spec));
  // The only place the CLI prints a token value, as the guide's `openclaw auth create-token` does.
  if (args.flag("json")) {
    const { id, name, scopes, expiresAt } = record;
    out.stdout.write(`${JSON.stringify({ id, token: value.reveal(), name, scopes, expiresAt })}\n`);
  } else {
    out.stdout.write(`${value.reveal()}\n`);
  }
  out.stderr.write(
    `Created ${record.id} "${record.name}" (${record.scopes.join(", ")}; expires ${record.expiresAt ?? "never"}). ` +
      "Copy the token now: it is shown only once and stored only as a hash.\n",
  );
  return 0;
}

async function revoke(argv: readonly string[], out: CliOutput, env: NodeJS.ProcessEnv): Promise<number> {
  const args = parseArgs("auth revoke", argv, {
    "state-dir": { type: "string" },
    "registry-table": { type: "string" },
    environment: { type: "string" },
    json: { type: "boolean" },
  });
  if (args.positionals.length !== 1) throw new UsageError("auth revoke needs exactly one TOKEN_ID (tok_...)");
  const [id] = args.positionals;
  const store = registryOption(args, env);
  return withRegistry(store, environmentOption(args, store.kind === "table"), false, async (registry) => {
    const before = await registry.tokens.get(id);
    const record = await registry.tokens.revoke(id);
    if (!record) throw notFoundIn(id, store);
    if (args.flag("json")) out.stdout.write(`${JSON.stringify((await metadataOf(registry, [record]))[0])}\n`);
    out.stderr.write(
      before?.revokedAt
        ? `${id} "${record.name}" was already revoked at ${record.revokedAt}.\n`
        : `Revoked ${id} "${record.name}" at ${record.revokedAt}; a running gateway refuses it from its next request${staleness(store)}.\n`,
    );
    return 0;
  });
}

/** `auth suspend` and `auth reinstate`: the reversible state (docs/gateway-api.md, "Suspension"). */
async function suspension(action: "suspend" | "reinstate", argv: readonly string[], out: CliOutput, env: NodeJS.ProcessEnv): Promise<number> {
  const args = parseArgs(`auth ${action}`, argv, {
    "state-dir": { type: "string" },
    "registry-table": { type: "string" },
    environment: { type: "string" },
    json: { type: "boolean" },
  });
  if (args.positionals.length !== 1) throw new UsageError(`auth ${action} needs exactly one TOKEN_ID (tok_...)`);
  const [id] = args.positionals;
  const store = registryOption(args, env);
  return withRegistry(store, environmentOption(args, store.kind === "table"), false, async (registry) => {
    const record = action === "suspend" ? await registry.tokens.suspend(id) : await registry.tokens.reinstate(id);
    if (!record) throw notFoundIn(id, store);
    if (record.revokedAt !== null) {
      throw new TokenOpsError("conflict", `${id} "${record.name}" is revoked and cannot be ${action === "suspend" ? "suspended" : "reinstated"}`);
    }
    if (args.flag("json")) out.stdout.write(`${JSON.stringify((await metadataOf(registry, [record]))[0])}\n`);
    out.stderr.write(
      action === "suspend"
        ? `Suspended ${id} "${record.name}" (since ${record.suspendedAt}); a running gateway answers 401 token_suspended until it is reinstated${staleness(store)}.\n`
        : `${id} "${record.name}" is not suspended; a running gateway accepts it again from its next request${staleness(store)}.\n`,
    );
    return 0;
  });
}

async function list(argv: readonly string[], out: CliOutput, env: NodeJS.ProcessEnv): Promise<number> {
  const args = parseArgs("auth list", argv, {
    "state-dir": { type: "string" },
    "registry-table": { type: "string" },
    environment: { type: "string" },
    json: { type: "boolean" },
  });
  noPositionals(args);
  const store = registryOption(args, env);
  const tokens = await withRegistry(store, environmentOption(args, store.kind === "table"), false, async (registry) =>
    metadataOf(registry, await registry.tokens.list()),
  );
  if (args.flag("json")) {
    out.stdout.write(`${JSON.stringify({ tokens })}\n`);
  } else {
    out.stdout.write(formatTable(tokens));
  }
  return 0;
}

/** Where the tokens are: a state dir's SQLite file, or a fleet's DynamoDB table. */
type RegistryLocation = { readonly kind: "state-dir"; readonly stateDir: string } | { readonly kind: "table"; readonly tableName: string };

/**
 * `--state-dir` or `--registry-table` (exactly one); OPENCLAW_FRONT_REGISTRY_TABLE stands in for the latter when
 * neither is given, so a fleet's container needs no flag.
 */
function registryOption(args: ParsedArgs, env: NodeJS.ProcessEnv): RegistryLocation {
  const stateDir = args.string("state-dir");
  const table = args.string("registry-table") ?? (stateDir === undefined ? env.OPENCLAW_FRONT_REGISTRY_TABLE || undefined : undefined);
  if (stateDir !== undefined && table !== undefined) throw new UsageError(`${args.command} takes --state-dir or --registry-table, not both`);
  if (table !== undefined) {
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(table)) throw new UsageError(`--registry-table ${table} is not a DynamoDB table name`);
    return { kind: "table", tableName: table };
  }
  if (stateDir === undefined) throw new UsageError(`${args.command} needs --state-dir (or --registry-table for a fleet's DynamoDB registry)`);
  return { kind: "state-dir", stateDir };
}

/** Opens the registry, runs `use`, and closes it (writing whatever the request log holds). */
async function withRegistry<T>(
  where: RegistryLocation,
  environment: Environment | undefined,
  create: boolean,
  use: (registry: GatewayRegistry) => Promise<T>,
): Promise<T> {
  let registry: GatewayRegistry;
  if (where.kind === "table") {
    registry = await openDynamoDbRegistry({ tableName: where.tableName, environment: environment as Environment, clock: systemClock });
  } else if (create) {
    registry = await openSqliteRegistry(where.stateDir, environment as Environment, systemClock);
  } else {
    registry = openExistingSqliteRegistry(where.stateDir, systemClock, environment);
  }
  try {
    return await use(registry);
  } finally {
    await registry.requestLog.close();
    await registry.tokens.close();
  }
}

function notFoundIn(id: string, where: RegistryLocation): TokenOpsError {
  const location = where.kind === "table" ? `--registry-table ${where.tableName}` : `--state-dir ${where.stateDir}`;
  return new TokenOpsError("not_found", `no token ${id} in ${where.kind === "table" ? where.tableName : where.stateDir}`, {
    hint: `list tokens with: auth list ${location}`,
  });
}

/** A fleet's fronts see a change once their cached copy of the record is older than --registry-cache-ms. */
function staleness(where: RegistryLocation): string {
  return where.kind === "table" ? ` (a fleet's front within its --registry-cache-ms, ${DEFAULT_RECORD_CACHE_MS} ms by default)` : "";
}

/** Metadata as the API shows it; lastUsedAt comes from the request log the server appends to. */
async function metadataOf(registry: GatewayRegistry, records: readonly TokenRecord[]): Promise<TokenMetadata[]> {
  const lastUsed = await registry.requestLog.lastUsedAt(records.map((r) => r.id));
  const now = systemClock.now().getTime();
  return records.map((r) => toMetadata(r, lastUsed.get(r.id) ?? null, now));
}

function formatTable(tokens: readonly TokenMetadata[]): string {
  const header = ["ID", "NAME", "STATUS", "SCOPES", "EXPIRES", "LAST USED"];
  const rows = tokens.map((t) => [t.id, t.name, t.status, t.scopes.join(","), t.expiresAt ?? "never", t.lastUsedAt ?? "never"]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => `${r.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd()}\n`).join("");
}

/** The `--upstream*` options, or undefined in standalone mode; the others without --upstream are a usage error. */
function upstreamOptions(args: ParsedArgs): UpstreamOptions | undefined {
  const text = args.string("upstream");
  const dependent = ["upstream-user-header", "upstream-source-address", "local-consumer-address", "upstream-timeout-ms", "websocket-activity-interval-ms"];
  if (text === undefined) {
    const given = dependent.find((name) => args.string(name) !== undefined);
    if (given) throw new UsageError(`--${given} needs --upstream (the OpenClaw gateway to front)`);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--upstream ${text} is not a URL; write it like http://127.0.0.1:18789`);
  }
  if (url.protocol !== "http:" || url.pathname !== "/" || url.search !== "") {
    throw new UsageError(`--upstream ${text} must be http://HOST:PORT with no path: the OpenClaw gateway's own listener`);
  }
  for (const name of ["upstream-source-address", "local-consumer-address"]) {
    const value = args.string(name);
    if (value !== undefined && isIP(value) === 0) throw new UsageError(`--${name} ${value} is not an IP address`);
  }
  const header = args.string("upstream-user-header");
  if (header !== undefined && !/^[A-Za-z0-9-]{1,64}$/.test(header)) throw new UsageError(`--upstream-user-header ${header} is not a header name`);
  const timeout = wholeNumberOption(args, "upstream-timeout-ms", 1, 3_600_000);
  // At most 5 minutes: the drain must see an open connection well within its 15-minute silence margin.
  const activityInterval = wholeNumberOption(args, "websocket-activity-interval-ms", 100, 300_000);
  return {
    url,
    ...(header !== undefined && { userHeader: header }),
    ...(args.string("upstream-source-address") !== undefined && { sourceAddress: args.string("upstream-source-address") }),
    ...(args.string("local-consumer-address") !== undefined && { localConsumerAddress: args.string("local-consumer-address") }),
    ...(timeout !== undefined && { idleTimeoutMs: timeout }),
    ...(activityInterval !== undefined && { websocketActivityIntervalMs: activityInterval }),
  };
}

function environmentOption(args: ParsedArgs, required: true): Environment;
function environmentOption(args: ParsedArgs, required: boolean): Environment | undefined;
function environmentOption(args: ParsedArgs, required: boolean): Environment | undefined {
  const value = required ? args.requiredString("environment") : args.string("environment");
  if (value === undefined || isEnvironment(value)) return value;
  throw new UsageError(`--environment ${value} is not an environment; use one of ${ALL_ENVIRONMENTS.join(", ")}`);
}

function wholeNumberOption(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const text = args.string(name);
  if (text === undefined) return undefined;
  const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) throw new UsageError(`--${name} ${text} must be a whole number from ${min} to ${max}`);
  return value;
}

function noPositionals(args: ParsedArgs): void {
  if (args.positionals.length > 0) throw new UsageError(`${args.command} takes no argument ${JSON.stringify(args.positionals[0])}`);
}

/**
 * The CLI's settings, from flags first and then the environment variables the rotator Lambda uses. Read from
 * `env` here and nowhere else; every problem is reported at once, as a usage error.
 */
import { parseDuration } from "../src/domain/duration";
import { ALL_ENVIRONMENTS, Environment, isEnvironment } from "../src/domain/environments";
import { gatewayUrlProblems } from "../src/domain/gateway-url";
import { BackendKind } from "../src/gateway/backend";
import { DEFAULT_SETTINGS } from "../src/rotation/settings";
import { Sensitive } from "../src/domain/sensitive";
import { ledgerTableName } from "../src/store/metadata";
import { OptionName, ParsedArgs } from "./args";
import { UsageError } from "./errors";

export interface CliOptions {
  readonly environment: Environment;
  /** The environment's gateway. @default the gateway URL its tokens' declarations in the ledger share */
  readonly gatewayUrl: string | undefined;
  /** @default the backend its tokens' declarations in the ledger share, else documented-api */
  readonly backend: BackendKind | undefined;
  /**
   * A secret holding the gateway admin credential. @default the environment's rotator credential (documented API,
   * openclaw-admin/<env>/rotator) when the ledger has one, else openclaw-admin/<env>/gateway
   */
  readonly adminSecretId: string | undefined;
  /**
   * OPENCLAW_ADMIN_TOKEN: a break-glass admin token a human passes for this command only (bootstrap-rotator, or when the
   * rotator credential is dead). Read from the environment, never a flag, so that shell history does not keep it.
   */
  readonly breakGlassToken: Sensitive | undefined;
  /** The environment's ledger table: the tokens' declarations and rotation state. @default openclaw-rotator-<env>-ledger */
  readonly ledgerTable: string;
  /** How long the old token must go unused before it is revoked. @default 15 minutes */
  readonly quietPeriodMs: number;
  /** `audit --since`: an ISO time or a duration back from now. @default 7d */
  readonly since: string | undefined;
  /** `audit --new-after`: flag consumers first seen after this time. */
  readonly newAfter: string | undefined;
  /** `audit --token-id`: one more gateway token ID to audit. */
  readonly tokenId: string | undefined;
  /** `status --live`: also ask the gateway (needs the admin token). @default false */
  readonly live: boolean;
  /** JSON results on stdout and JSON log lines on stderr. @default false */
  readonly json: boolean;
  /** Stack traces with errors. @default false */
  readonly debug: boolean;
  /** AWS_ENDPOINT_URL, when set: named in hints when nothing answers there. */
  readonly awsEndpointUrl: string | undefined;
  /**
   * OPENCLAW_CLOCK_OFFSET_MS: how far the environment's clock runs ahead of this machine's. Only the local stack
   * sets it (its accelerated clock; `npm start -- --keep-running` writes it to cli.env). @default 0
   */
  readonly clockOffsetMs: number;
}

/** Each option's environment variable: the names the rotator Lambda reads. */
const ENV: Partial<Record<OptionName, string>> = {
  environment: "OPENCLAW_ENVIRONMENT",
  "gateway-url": "OPENCLAW_GATEWAY_URL",
  backend: "OPENCLAW_BACKEND",
  "admin-secret-id": "OPENCLAW_ADMIN_SECRET_ID",
  "ledger-table": "OPENCLAW_LEDGER_TABLE",
  "quiet-period": "OPENCLAW_QUIET_PERIOD",
};

/** Just the flags that decide how output looks, so that even a usage error can honour --debug. */
export function outputFlags(args: Partial<ParsedArgs["options"]>): { json: boolean; debug: boolean } {
  return { json: args.json !== undefined, debug: args.debug !== undefined };
}

export function resolveOptions(args: ParsedArgs, env: NodeJS.ProcessEnv): CliOptions {
  const problems: string[] = [];
  const value = (name: OptionName): string | undefined => {
    const variable = ENV[name];
    return args.options[name] ?? (variable ? env[variable] || undefined : undefined);
  };

  const environment = value("environment");
  if (environment === undefined) {
    problems.push(`--environment is required: give --environment ${ALL_ENVIRONMENTS.join("|")} or set OPENCLAW_ENVIRONMENT`);
  } else if (!isEnvironment(environment)) {
    problems.push(`--environment "${environment}" is not one of ${ALL_ENVIRONMENTS.join(", ")}`);
  }
  const env_ = isEnvironment(environment) ? environment : undefined;

  const gatewayUrl = value("gateway-url")?.replace(/\/+$/, "");
  if (gatewayUrl !== undefined && env_) {
    for (const problem of gatewayUrlProblems(gatewayUrl, env_)) problems.push(`--gateway-url: ${problem}`);
  }

  const backend = value("backend");
  const backends = Object.values(BackendKind) as string[];
  if (backend !== undefined && !backends.includes(backend)) problems.push(`--backend "${backend}" is not one of ${backends.join(", ")}`);

  const quietPeriod = value("quiet-period");
  const quietSeconds = quietPeriod === undefined ? DEFAULT_SETTINGS.quietPeriodMs / 1000 : parseDuration(quietPeriod);
  if (quietSeconds === undefined) problems.push(`--quiet-period "${quietPeriod}" is not a duration; write it like 15m, 1h or 30s`);

  const clockOffsetMs = Number(env.OPENCLAW_CLOCK_OFFSET_MS ?? 0);
  if (!Number.isSafeInteger(clockOffsetMs)) problems.push(`OPENCLAW_CLOCK_OFFSET_MS "${env.OPENCLAW_CLOCK_OFFSET_MS}" is not a whole number of milliseconds`);

  if (problems.length || !env_) throw new UsageError(problems.join("\n       "));
  return {
    environment: env_,
    gatewayUrl,
    backend: backend as BackendKind | undefined,
    adminSecretId: value("admin-secret-id"),
    breakGlassToken: env.OPENCLAW_ADMIN_TOKEN ? new Sensitive(env.OPENCLAW_ADMIN_TOKEN) : undefined,
    ledgerTable: value("ledger-table") ?? ledgerTableName(env_),
    quietPeriodMs: (quietSeconds as number) * 1000,
    live: args.options.live !== undefined,
    since: args.options.since,
    newAfter: args.options["new-after"],
    tokenId: args.options["token-id"],
    ...outputFlags(args.options),
    awsEndpointUrl: env.AWS_ENDPOINT_URL || undefined,
    clockOffsetMs,
  };
}

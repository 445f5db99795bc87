/**
 * Builds what the commands work with from the options: the environment's ledger (declarations and rotation state),
 * its token store, its gateway backend (with the admin token from Secrets Manager) and a rotation engine fenced by the
 * same ledger as the deployed rotator. Each piece is made on first use, so an empty environment needs no gateway.
 * The admin token goes only to a gateway URL from trusted configuration: a flag the operator typed, or the tokens'
 * declarations in the ledger (which only the deployer writes); never from a secret's tags or value.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Clock, systemClock } from "../src/domain/clock";
import { TokenOpsError } from "../src/domain/errors";
import { gatewayUrlProblems } from "../src/domain/gateway-url";
import { BackendKind, GatewayBackend, ownUserAgent } from "../src/gateway/backend";
import { createBackend } from "../src/gateway/factory";
import { DynamoDbLedger } from "../src/ledger/dynamodb-ledger";
import { LedgerEntry, MAX_CLOCK_SKEW_MS } from "../src/ledger/ledger";
import { RotationEngine } from "../src/rotation/engine";
import { noMetrics } from "../src/rotation/observability";
import { DEFAULT_SETTINGS, RotatorSettings } from "../src/rotation/settings";
import { readAdminToken } from "../src/store/admin-secret";
import { adminSecretName, isRotatorCredential, secretNamespace } from "../src/store/metadata";
import { BOOTSTRAP_HINT, readRotatorCredential } from "../src/store/rotator-credential";
import { adminTokenProblem } from "../src/provider/inputs";
import { Sensitive } from "../src/domain/sensitive";
import { SecretsManagerTokenStore } from "../src/store/secrets-manager-store";
import { CommandFailedError } from "./errors";
import { CliOptions } from "./options";
import { Output } from "./output";

/** The gateway the command talks to and how: from the options, else from what the tokens' declarations agree on. */
export interface GatewayChoice {
  readonly url: string;
  readonly kind: BackendKind;
}

export class CliContext {
  readonly clock: Clock;
  readonly store: SecretsManagerTokenStore;
  readonly secretsManager = new SecretsManagerClient({});
  private readonly dynamoClient = new DynamoDBClient({});
  readonly ledger: DynamoDbLedger;
  private entries: Promise<LedgerEntry[]> | undefined;
  private gatewayBackend: Promise<GatewayBackend> | undefined;

  constructor(
    readonly options: CliOptions,
    readonly output: Output,
  ) {
    this.store = new SecretsManagerTokenStore({ environment: options.environment, client: this.secretsManager });
    this.ledger = new DynamoDbLedger({ tableName: options.ledgerTable, environment: options.environment, client: this.dynamoClient });
    const offset = options.clockOffsetMs;
    this.clock = offset === 0 ? systemClock : { now: () => new Date(Date.now() + offset) };
  }

  /** The environment's ledger entries, listed once per command. A ledger that cannot be read says which option names it. */
  managedTokens(): Promise<LedgerEntry[]> {
    this.entries ??= (async () => {
      const all: LedgerEntry[] = [];
      try {
        for await (const entry of this.ledger.list()) all.push(entry);
      } catch (error) {
        if (!(error instanceof TokenOpsError) || error.code !== "ledger_failed" || (error.cause as { name?: string })?.name !== "ResourceNotFoundException") throw error;
        throw new CommandFailedError("ledger_failed", error.message.replace(/\. Fix: .*$/s, ""), {
          hint: `pass --ledger-table (or OPENCLAW_LEDGER_TABLE) naming the ${this.options.environment} ledger table (this run used ${this.options.ledgerTable}), and check that your role may read it`,
          cause: error,
        });
      }
      return all;
    })();
    return this.entries;
  }

  /** The ledger entry of a token named on the command line; an unknown name lists the ones there are. */
  async findToken(name: string): Promise<LedgerEntry> {
    const entries = await this.managedTokens();
    const namespace = secretNamespace(this.options.environment);
    const found =
      entries.find((e) => e.declaration.name === name) ?? entries.find((e) => e.declaration.secretName === name || e.declaration.secretName === namespace + name);
    if (found) return found;
    const names = entries.map((e) => e.declaration.name).sort();
    throw new CommandFailedError(
      "unknown_token",
      `${this.options.environment} has no managed token named "${name}"`,
      {
        hint: names.length
          ? `use one of: ${names.join(", ")}`
          : `the ${this.options.environment} ledger ${this.options.ledgerTable} has no tokens at all; check --environment, --ledger-table and AWS_REGION, or declare tokens and run pulumi up`,
      },
    );
  }

  /** The gateway to use: --gateway-url/--backend, else the one every token's declaration in the ledger names. */
  async gateway(): Promise<GatewayChoice> {
    const { gatewayUrl, backend } = this.options;
    if (gatewayUrl && backend) return { url: this.checkedGatewayUrl(gatewayUrl, "given"), kind: backend };
    const entries = await this.managedTokens();
    const url = gatewayUrl ?? this.agreed(entries, (d) => d.gatewayUrl, "gateway URL", "--gateway-url");
    if (!url) {
      throw new CommandFailedError("gateway_unknown", `no managed token of ${this.options.environment} names its gateway, so there is no gateway to ask`, {
        hint: "pass --gateway-url (or set OPENCLAW_GATEWAY_URL)",
      });
    }
    const kind = backend ?? this.agreed(entries, (d) => d.backend, "backend", "--backend") ?? BackendKind.DocumentedApi;
    if (!(Object.values(BackendKind) as string[]).includes(kind)) {
      throw new CommandFailedError("backend_unknown", `the managed tokens of ${this.options.environment} name the backend "${kind}", which this CLI does not know`, {
        hint: `pass --backend ${Object.values(BackendKind).join("|")}`,
      });
    }
    return { url: this.checkedGatewayUrl(url, gatewayUrl ? "given" : "declared in the ledger"), kind: kind as BackendKind };
  }

  /**
   * The admin token goes to this URL. One from the ledger or from the command line must still pass the rules a
   * declared gateway passes, for this environment.
   */
  private checkedGatewayUrl(url: string, origin: string): string {
    const problems = gatewayUrlProblems(url, this.options.environment);
    if (problems.length) {
      throw new CommandFailedError("gateway_url_refused", `the ${this.options.environment} gateway URL ${origin} is refused: ${problems.join("; ")}`, {
        hint: "pass --gateway-url (or set OPENCLAW_GATEWAY_URL) with the environment's gateway, and check the stack's openclaw:gatewayUrl",
      });
    }
    return url.replace(/\/+$/, "");
  }

  /** The environment's gateway, with the admin token read from its secret. */
  backend(): Promise<GatewayBackend> {
    this.gatewayBackend ??= (async () => {
      const gateway = await this.gateway();
      const adminToken = await this.readAdminToken(gateway);
      return createBackend({
        kind: gateway.kind,
        url: gateway.url,
        environment: this.options.environment,
        adminToken,
        userAgent: ownUserAgent("cli"),
      });
    })();
    return this.gatewayBackend;
  }

  /** A rotation engine like the deployed rotator's, logging to stderr and fenced by the same ledger. */
  async engine(): Promise<RotationEngine> {
    const backend = await this.backend();
    const settings: RotatorSettings = {
      ...DEFAULT_SETTINGS,
      environment: this.options.environment,
      gatewayUrl: backend.url,
      backend: backend.kind,
      quietPeriodMs: this.options.quietPeriodMs,
      // An operator's clock is not AWS's: the quiet period is measured with the skew bound added.
      clockSkewMs: MAX_CLOCK_SKEW_MS,
      // An operator's `rotate` that finds consumers moved revokes now, as it says; the suspension's grace window is
      // the scheduled rotator's (it needs a later run to end the window).
      suspensionWindowMs: 0,
    };
    return new RotationEngine({
      store: this.store,
      backend,
      backendWith: (adminToken) => createBackend({ kind: backend.kind, url: backend.url, environment: this.options.environment, adminToken, userAgent: ownUserAgent("cli") }),
      ledger: this.ledger,
      clock: this.clock,
      settings,
      log: this.output.logger,
      metrics: noMetrics,
    });
  }

  /** Closes the AWS clients' connections so that the process ends as soon as the command is done. */
  close(): void {
    this.secretsManager.destroy();
    this.dynamoClient.destroy();
  }

  /**
   * The credential the command acts with: a break-glass token given for this command (OPENCLAW_ADMIN_TOKEN), else a
   * secret named by --admin-secret-id, else for the documented API the rotator's own admin:tokens credential (checked
   * against the ledger), else the admin secret openclaw-admin/<env>/gateway (OpenClaw's shared token).
   */
  private async readAdminToken(gateway: GatewayChoice): Promise<Sensitive> {
    const { breakGlassToken, environment } = this.options;
    const { kind } = gateway;
    if (breakGlassToken) {
      const problem = adminTokenProblem(breakGlassToken.reveal(), environment, kind);
      if (problem) throw new CommandFailedError("admin_token_refused", `OPENCLAW_ADMIN_TOKEN is refused: ${problem}`, { hint: `export the ${environment} gateway's break-glass admin token` });
      return breakGlassToken;
    }
    let id = this.options.adminSecretId;
    if (!id && kind === BackendKind.DocumentedApi) {
      const entries = await this.managedTokens();
      if (entries.some((e) => isRotatorCredential(e.declaration))) return readRotatorCredential(this.secretsManager, this.ledger, environment, gateway);
    }
    id ??= adminSecretName(environment);
    try {
      return await readAdminToken(this.secretsManager, id, environment, kind);
    } catch (error) {
      if (error instanceof TokenOpsError && error.code === "store_ResourceNotFoundException") {
        throw new CommandFailedError("admin_secret_missing", `the gateway admin secret ${id} does not exist`, {
          hint:
            kind === BackendKind.DocumentedApi
              ? `${BOOTSTRAP_HINT(environment)}; or pass --admin-secret-id, or export OPENCLAW_ADMIN_TOKEN for this command`
              : `check AWS_REGION and the account; the ${environment} stack creates ${id} (or pass --admin-secret-id)`,
          cause: error,
        });
      }
      throw error;
    }
  }

  /** The value every token's declaration agrees on; refuses when they disagree. */
  private agreed(entries: readonly LedgerEntry[], pick: (d: LedgerEntry["declaration"]) => string, what: string, flag: string): string | undefined {
    const byValue = new Map<string, string[]>();
    for (const entry of entries) {
      const value = pick(entry.declaration).replace(/\/+$/, "");
      byValue.set(value, [...(byValue.get(value) ?? []), entry.declaration.name]);
    }
    if (byValue.size <= 1) return [...byValue.keys()][0];
    const listing = [...byValue].map(([value, names]) => `${value} (${names.join(", ")})`).join("; ");
    throw new CommandFailedError("gateway_ambiguous", `the managed tokens of ${this.options.environment} declare different ${what}s: ${listing}`, {
      hint: `pass ${flag} to choose the one to work with; tokens of the other are reported, not touched`,
    });
  }
}

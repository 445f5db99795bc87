/**
 * Builds what the commands work with from the options: the environment's token store, its gateway backend (with
 * the admin token from Secrets Manager) and a rotation engine that shares the deployed rotator's lease table.
 * Each piece is made on first use, so `verify` never touches DynamoDB and an empty environment needs no gateway.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Clock, systemClock } from "../src/domain/clock";
import { TokenOpsError } from "../src/domain/errors";
import { gatewayUrlProblems } from "../src/domain/gateway-url";
import { BackendKind, GatewayBackend, ownUserAgent } from "../src/gateway/backend";
import { createBackend } from "../src/gateway/factory";
import { DynamoDbLeaseStore } from "../src/lease/dynamodb-lease-store";
import { LeaseStore } from "../src/lease/lease-store";
import { RotationEngine } from "../src/rotation/engine";
import { noMetrics } from "../src/rotation/observability";
import { DEFAULT_SETTINGS, RotatorSettings } from "../src/rotation/settings";
import { readAdminToken } from "../src/store/admin-secret";
import { secretNamespace, Tag } from "../src/store/metadata";
import { SecretsManagerTokenStore } from "../src/store/secrets-manager-store";
import { StoredSecret } from "../src/store/token-store";
import { CommandFailedError } from "./errors";
import { CliOptions } from "./options";
import { Output } from "./output";

/** The gateway the command talks to and how: from the options, else from what the managed tokens' tags agree on. */
export interface GatewayChoice {
  readonly url: string;
  readonly kind: BackendKind;
}

export class CliContext {
  readonly clock: Clock;
  readonly store: SecretsManagerTokenStore;
  private readonly secretsClient = new SecretsManagerClient({});
  private dynamoClient: DynamoDBClient | undefined;
  private secrets: Promise<StoredSecret[]> | undefined;
  private gatewayBackend: Promise<GatewayBackend> | undefined;

  constructor(
    readonly options: CliOptions,
    readonly output: Output,
  ) {
    this.store = new SecretsManagerTokenStore({ environment: options.environment, client: this.secretsClient });
    const offset = options.clockOffsetMs;
    this.clock = offset === 0 ? systemClock : { now: () => new Date(Date.now() + offset) };
  }

  /** The environment's managed secrets (tags only), listed once per command. */
  managedSecrets(): Promise<StoredSecret[]> {
    this.secrets ??= (async () => {
      const all: StoredSecret[] = [];
      for await (const secret of this.store.list()) if (!secret.deletedAt) all.push(secret);
      return all;
    })();
    return this.secrets;
  }

  /** The managed secret of a token named on the command line; an unknown name lists the ones there are. */
  async findToken(name: string): Promise<StoredSecret> {
    const secrets = await this.managedSecrets();
    const namespace = secretNamespace(this.options.environment);
    const found = secrets.find((s) => s.tags[Tag.TokenName] === name) ?? secrets.find((s) => s.name === name || s.name === namespace + name);
    if (found) return found;
    const names = secrets.map((s) => s.tags[Tag.TokenName] || s.name.slice(namespace.length)).sort();
    throw new CommandFailedError(
      "unknown_token",
      `${this.options.environment} has no managed token named "${name}"`,
      {
        hint: names.length
          ? `use one of: ${names.join(", ")}`
          : `${this.options.environment} has no managed tokens at all under ${namespace}; check --environment and AWS_REGION, or declare tokens and run pulumi up`,
      },
    );
  }

  /** The gateway to use: --gateway-url/--backend, else the one every managed token of the environment names. */
  async gateway(): Promise<GatewayChoice> {
    const { gatewayUrl, backend } = this.options;
    if (gatewayUrl && backend) return { url: this.checkedGatewayUrl(gatewayUrl, "given"), kind: backend };
    const secrets = await this.managedSecrets();
    const url = gatewayUrl ?? this.agreedTag(secrets, Tag.GatewayUrl, "gateway URL", "--gateway-url");
    if (!url) {
      throw new CommandFailedError("gateway_unknown", `no managed token of ${this.options.environment} names its gateway, so there is no gateway to ask`, {
        hint: "pass --gateway-url (or set OPENCLAW_GATEWAY_URL)",
      });
    }
    const kind = backend ?? this.agreedTag(secrets, Tag.Backend, "backend", "--backend") ?? BackendKind.DocumentedApi;
    if (!(Object.values(BackendKind) as string[]).includes(kind)) {
      throw new CommandFailedError("backend_unknown", `the managed tokens of ${this.options.environment} name the backend "${kind}", which this CLI does not know`, {
        hint: `pass --backend ${Object.values(BackendKind).join("|")}`,
      });
    }
    return { url: this.checkedGatewayUrl(url, gatewayUrl ? "given" : "named by the managed tokens' tags"), kind: kind as BackendKind };
  }

  /**
   * The admin token goes to this URL. One taken from tags (which anyone allowed to tag the secrets can set) or
   * from the command line must pass the rules a declared gateway passes, for this environment.
   */
  private checkedGatewayUrl(url: string, origin: string): string {
    const problems = gatewayUrlProblems(url, this.options.environment);
    if (problems.length) {
      throw new CommandFailedError("gateway_url_refused", `the ${this.options.environment} gateway URL ${origin} is refused: ${problems.join("; ")}`, {
        hint: "pass --gateway-url (or set OPENCLAW_GATEWAY_URL) with the environment's gateway, and check the tokens' openclaw:gateway-url tags",
      });
    }
    return url.replace(/\/+$/, "");
  }

  /** The environment's gateway, with the admin token read from its secret. */
  backend(): Promise<GatewayBackend> {
    this.gatewayBackend ??= (async () => {
      const gateway = await this.gateway();
      const adminToken = await this.readAdminToken(gateway.kind);
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

  /** A rotation engine like the deployed rotator's, logging to stderr and sharing its lease table. */
  async engine(): Promise<RotationEngine> {
    const backend = await this.backend();
    const settings: RotatorSettings = {
      ...DEFAULT_SETTINGS,
      environment: this.options.environment,
      gatewayUrl: backend.url,
      backend: backend.kind,
      quietPeriodMs: this.options.quietPeriodMs,
    };
    return new RotationEngine({
      store: this.store,
      backend,
      leases: this.leases(),
      clock: this.clock,
      settings,
      log: this.output.logger,
      metrics: noMetrics,
    });
  }

  /**
   * The deployed rotator's lease table, so that this CLI and a scheduled run never work on one token at once. A table
   * that cannot be used is most often a wrong name: the error says which option sets it.
   */
  private leases(): LeaseStore {
    this.dynamoClient ??= new DynamoDBClient({});
    const table = this.options.leaseTable;
    const store = new DynamoDbLeaseStore({ tableName: table, client: this.dynamoClient });
    const explain = (error: unknown): never => {
      if (!(error instanceof TokenOpsError) || error.code !== "lease_failed") throw error;
      throw new CommandFailedError("lease_failed", error.message.replace(/\. Fix: .*$/s, ""), {
        hint: `pass --lease-table (or OPENCLAW_LEASE_TABLE) naming the ${this.options.environment} rotator's lease table (this run used ${table}), and check that your role may read and write it`,
        cause: error,
      });
    };
    return {
      acquire: (...args) => store.acquire(...args).catch(explain),
      takeOver: (...args) => store.takeOver(...args).catch(explain),
      release: (lease) => store.release(lease).catch(explain),
    };
  }

  /** Closes the AWS clients' connections so that the process ends as soon as the command is done. */
  close(): void {
    this.secretsClient.destroy();
    this.dynamoClient?.destroy();
  }

  private async readAdminToken(kind: BackendKind) {
    const id = this.options.adminSecretId;
    try {
      return await readAdminToken(this.secretsClient, id, this.options.environment, kind);
    } catch (error) {
      if (error instanceof TokenOpsError && error.code === "store_ResourceNotFoundException") {
        throw new CommandFailedError("admin_secret_missing", `the gateway admin secret ${id} does not exist`, {
          hint: `check AWS_REGION and the account; the ${this.options.environment} stack creates ${id} (or pass --admin-secret-id)`,
          cause: error,
        });
      }
      throw error;
    }
  }

  /** The value of a tag every managed secret that has it agrees on; refuses when they disagree. */
  private agreedTag(secrets: readonly StoredSecret[], tag: string, what: string, flag: string): string | undefined {
    const byValue = new Map<string, string[]>();
    for (const secret of secrets) {
      const value = secret.tags[tag]?.replace(/\/+$/, "");
      if (value) byValue.set(value, [...(byValue.get(value) ?? []), secret.tags[Tag.TokenName] || secret.name]);
    }
    if (byValue.size <= 1) return [...byValue.keys()][0];
    const listing = [...byValue].map(([value, names]) => `${value} (${names.join(", ")})`).join("; ");
    throw new CommandFailedError("gateway_ambiguous", `the managed tokens of ${this.options.environment} name different ${what}s: ${listing}`, {
      hint: `pass ${flag} to choose the one to work with; tokens of the other are reported, not touched`,
    });
  }
}

/**
 * What every scenario runs against, all on 127.0.0.1: a moto server (Secrets Manager, DynamoDB), the reference
 * gateway with an added per-request latency, the ledger table (with its due index) and the admin secret, and a clock
 * that the scenarios move forward together with the gateway's.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Clock } from "../src/domain/clock";
import { Sensitive } from "../src/domain/sensitive";
import { GatewayBackend, ownUserAgent } from "../src/gateway/backend";
import { DocumentedApiGateway } from "../src/gateway/documented-api";
import { DynamoDbLedger } from "../src/ledger/dynamodb-ledger";
import { createProviderRuntime, ProviderRuntime } from "../src/provider/runtime";
import { RotationEngine } from "../src/rotation/engine";
import { noMetrics, RotationObserver, silentLogger } from "../src/rotation/observability";
import { DEFAULT_SETTINGS, RotatorSettings } from "../src/rotation/settings";
import { adminSecretName, ledgerTableName } from "../src/store/metadata";
import { SecretsManagerTokenStore } from "../src/store/secrets-manager-store";
import { TokenStore } from "../src/store/token-store";
import { MotoServer, startMoto } from "../test/support/moto";
import { ReferenceGateway, startReferenceGateway } from "../test/support/reference-gateway";
import { CallLog, instrumentClient, instrumentObject, Service } from "./instrument";

export const ENVIRONMENT = "dev";
/**
 * SDK clients the bench makes give up on a call that hangs (the SDK has no timeout of its own): a stuck moto fails
 * the run instead of stalling it.
 */
export const SDK_TIMEOUTS = { requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 } } as const;
/** The environment's ledger table, as the provider and the rotator name it by default. */
export const LEDGER_TABLE = ledgerTableName(ENVIRONMENT);
export const DAY_MS = 86_400_000;

/** Real time plus an offset; the gateway's clock is moved by the same offset (its /_test/clock). */
export class BenchClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

/** The engine as a scenario drives it, with the clients it uses, each counted into `log`. */
export interface InstrumentedEngine {
  readonly engine: RotationEngine;
  readonly store: TokenStore;
  readonly backend: GatewayBackend;
  readonly ledger: DynamoDbLedger;
  readonly log: CallLog;
  /** Closes the SDK clients' sockets. */
  dispose(): void;
}

export class BenchEnvironment {
  readonly clock = new BenchClock();
  gateway!: ReferenceGateway;
  private readonly savedEnv = { ...process.env };

  private constructor(
    readonly moto: MotoServer,
    /** Added to every gateway request (the reference gateway's --latency-ms). */
    readonly latencyMs: number,
    readonly maxConcurrency: number,
  ) {}

  static async start(options: { latencyMs: number; maxConcurrency: number }): Promise<BenchEnvironment> {
    const env = new BenchEnvironment(await startMoto(), options.latencyMs, options.maxConcurrency);
    Object.assign(process.env, env.moto.env);
    await env.reset();
    return env;
  }

  /** A clean slate: no secrets, an empty ledger table, a fresh gateway (only its admin token), the clock at real time. */
  async reset(): Promise<void> {
    const previous = this.gateway;
    const [, gateway] = await Promise.all([this.moto.reset(), startReferenceGateway({ environment: ENVIRONMENT, latencyMs: this.latencyMs }), previous?.stop()]);
    this.gateway = gateway;
    this.clock.offsetMs = 0;
    // moto's reset drops the table: create it again, with its due index, as the rotator's deployment does in AWS.
    const ledger = this.plainLedger();
    try {
      await ledger.ensureTable();
    } finally {
      ledger.destroy();
    }
    const client = new SecretsManagerClient(SDK_TIMEOUTS);
    await client.send(new CreateSecretCommand({ Name: adminSecretName(ENVIRONMENT), SecretString: gateway.adminToken }));
    client.destroy();
  }

  async stop(): Promise<void> {
    process.env = this.savedEnv;
    await Promise.all([this.moto.stop(), this.gateway?.stop()]);
  }

  /** Sets the gateway's added latency; setup uses 0, measurements `latencyMs`. */
  setLatency(ms: number): Promise<void> {
    return this.gateway.setLatency(ms);
  }

  async advance(ms: number): Promise<void> {
    this.clock.offsetMs += ms;
    await this.gateway.setClockOffset(this.clock.offsetMs);
  }

  settings(overrides: Partial<RotatorSettings> = {}): RotatorSettings {
    return {
      ...DEFAULT_SETTINGS,
      environment: ENVIRONMENT,
      gatewayUrl: this.gateway.url,
      backend: "documented-api",
      maxConcurrency: this.maxConcurrency,
      // One rotation is measured from due to revoked: the suspension's grace window (a third run, an hour later) is
      // its own step, not part of the protocol's minimum, and is left out here as in the test harness.
      suspensionWindowMs: 0,
      ...overrides,
    };
  }

  /** The gateway as the rotator sees it (its User-Agent marks its calls as not consumer traffic). */
  admin(): DocumentedApiGateway {
    return new DocumentedApiGateway({ url: this.gateway.url, environment: ENVIRONMENT, adminToken: new Sensitive(this.gateway.adminToken), userAgent: ownUserAgent("rotator") });
  }

  /** A store on a client of its own, for setup and checks: none of its calls is counted. */
  plainStore(): SecretsManagerTokenStore {
    return new SecretsManagerTokenStore({ environment: ENVIRONMENT, clientConfig: SDK_TIMEOUTS });
  }

  /** The ledger on a client of its own, for setup and checks: none of its calls is counted. Destroy it after use. */
  plainLedger(): DynamoDbLedger {
    return new DynamoDbLedger({ tableName: LEDGER_TABLE, environment: ENVIRONMENT, clientConfig: SDK_TIMEOUTS });
  }

  /** The provider runtime as `pulumi up` runs it, on this environment's gateway, moto and ledger table. */
  providerRuntime(): ProviderRuntime {
    const ledger = this.plainLedger();
    return createProviderRuntime({
      backend: (inputs) => new DocumentedApiGateway({ url: inputs.gatewayUrl, environment: ENVIRONMENT, adminToken: new Sensitive(inputs.adminToken), userAgent: ownUserAgent("provider") }),
      store: () => this.plainStore(),
      ledger: () => ledger,
      clock: this.clock,
    });
  }

  /**
   * An engine whose every Secrets Manager, DynamoDB and gateway call (and every TokenStore method it calls) is
   * recorded in `log`, and whose checkpoints are marks in the same log.
   */
  instrumentedEngine(log: CallLog, overrides: { settings?: Partial<RotatorSettings>; observer?: RotationObserver } = {}): InstrumentedEngine {
    const sm = instrumentClient(new SecretsManagerClient(SDK_TIMEOUTS), log, Service.SecretsManager);
    const ddb = instrumentClient(new DynamoDBClient(SDK_TIMEOUTS), log, Service.DynamoDb);
    const store = instrumentObject<TokenStore>(new SecretsManagerTokenStore({ environment: ENVIRONMENT, client: sm }), log, Service.Store);
    const backend = instrumentObject<GatewayBackend>(this.admin(), log, Service.Gateway);
    const ledger = new DynamoDbLedger({ tableName: LEDGER_TABLE, environment: ENVIRONMENT, client: ddb });
    const engine = new RotationEngine({
      store,
      backend,
      ledger,
      clock: this.clock,
      settings: this.settings(overrides.settings),
      log: silentLogger,
      metrics: noMetrics,
      observer: overrides.observer ?? { checkpoint: (boundary, token) => log.mark(boundary, token) },
    });
    return {
      engine,
      store,
      backend,
      ledger,
      log,
      dispose: () => {
        sm.destroy();
        ddb.destroy();
      },
    };
  }
}

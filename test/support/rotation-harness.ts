import { CreateSecretCommand, DeleteSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { OffsetClock } from "../../local/clock";
import { Sensitive } from "../../src/domain/sensitive";
import { ownUserAgent } from "../../src/gateway/backend";
import { DocumentedApiGateway } from "../../src/gateway/documented-api";
import { DynamoDbLedger } from "../../src/ledger/dynamodb-ledger";
import { LedgerEntry } from "../../src/ledger/ledger";
import { createProviderRuntime } from "../../src/provider/runtime";
import { EngineDependencies, RotationEngine } from "../../src/rotation/engine";
import { Metric, MetricsSink, RotationLogger } from "../../src/rotation/observability";
import { DEFAULT_SETTINGS, RotatorSettings } from "../../src/rotation/settings";
import { adminSecretName } from "../../src/store/metadata";
import { MAX_CLOCK_SKEW_MS } from "../../src/ledger/ledger";
import { SecretsManagerTokenStore } from "../../src/store/secrets-manager-store";
import { Stage } from "../../src/store/token-store";
import { faithfulSecretsManagerClient } from "./aws-fidelity";
import { MotoServer, startMoto } from "./moto";
import { ReferenceGateway, ReferenceGatewayOptions, startReferenceGateway } from "./reference-gateway";

export const DAY = 86400_000;
export const LEDGER_TABLE = "openclaw-rotator-dev-ledger";

/** A clock the tests move forward; the reference gateway is moved with it so both agree on "now". */
export { OffsetClock as SharedClock } from "../../local/clock";

/** Metrics and log lines a run produced, for assertions. */
export class Recorder implements MetricsSink, RotationLogger {
  readonly counts: Partial<Record<Metric, number>> = {};
  readonly lines: Array<{ level: string; message: string; fields?: object }> = [];
  add(metric: Metric, count = 1): void {
    this.counts[metric] = (this.counts[metric] ?? 0) + count;
  }
  info(message: string, fields?: object): void {
    this.lines.push({ level: "info", message, fields });
  }
  warn(message: string, fields?: object): void {
    this.lines.push({ level: "warn", message, fields });
  }
  error(message: string, fields?: object): void {
    this.lines.push({ level: "error", message, fields });
  }
}

export interface TokenSpec {
  readonly name: string;
  readonly scopes?: string[];
  readonly ttl?: string;
  readonly rotationFraction?: number;
  readonly consumerCacheTtl?: string;
}

/** How long the lease of a run that died must be left alone before another actor may take it (TTL + the skew bound). */
export const LEASE_EXPIRY = DEFAULT_SETTINGS.leaseTtlMs + MAX_CLOCK_SKEW_MS + 60_000;

/** moto + reference gateway + ledger table, with tokens declared through the real provider runtime. */
export class RotationHarness {
  readonly clock = new OffsetClock();
  /** On moto, with AWS's version immutability emulated (aws-fidelity.ts). */
  readonly store = new SecretsManagerTokenStore({ environment: "dev", client: faithfulSecretsManagerClient() });
  readonly ledger = new DynamoDbLedger({ tableName: LEDGER_TABLE, environment: "dev" });
  admin!: DocumentedApiGateway;
  private readonly savedEnv = { ...process.env };

  gateway!: ReferenceGateway;

  private constructor(
    readonly moto: MotoServer,
    private readonly gatewayOptions: ReferenceGatewayOptions,
  ) {}

  /** `gateway`: how each fresh gateway is started, e.g. `{ serveArgs: ["--upstream", url] }` for a token front. */
  static async start(gateway: ReferenceGatewayOptions = {}): Promise<RotationHarness> {
    const harness = new RotationHarness(await startMoto(), gateway);
    Object.assign(process.env, harness.moto.env);
    await harness.reset();
    return harness;
  }

  /**
   * A clean slate: a fresh gateway (no tokens), no secrets, an empty ledger, the clock back to now, and the admin token
   * stored where the rotator reads it.
   */
  async reset(): Promise<void> {
    const [, gateway] = await Promise.all([this.moto.reset(), startReferenceGateway({ ...this.gatewayOptions, environment: "dev" }), this.gateway?.stop()]);
    this.gateway = gateway;
    await this.setClock(0);
    await this.ledger.ensureTable();
    // The engine's backend, and the tests' own checks, use the rotator's User-Agent: none of it is consumer traffic.
    this.admin = new DocumentedApiGateway({ url: this.gateway.url, environment: "dev", adminToken: new Sensitive(this.gateway.adminToken), userAgent: ownUserAgent("rotator") });
    const client = new SecretsManagerClient({});
    await client.send(new CreateSecretCommand({ Name: adminSecretName("dev"), SecretString: this.gateway.adminToken }));
    client.destroy();
  }

  /**
   * As a documented-API deployment has it since the rotator holds its own credential: no admin secret (reset() stores
   * one for the suites that act with the admin token directly).
   */
  async dropAdminSecret(): Promise<void> {
    const client = new SecretsManagerClient({});
    await client.send(new DeleteSecretCommand({ SecretId: adminSecretName("dev"), ForceDeleteWithoutRecovery: true }));
    client.destroy();
  }

  async stop(): Promise<void> {
    process.env = this.savedEnv;
    await Promise.all([this.moto.stop(), this.gateway?.stop()]);
  }

  async setClock(offsetMs: number): Promise<void> {
    this.clock.offsetMs = offsetMs;
    await this.gateway.setClockOffset(offsetMs);
  }

  advance(ms: number): Promise<void> {
    return this.setClock(this.clock.offsetMs + ms);
  }

  settings(overrides: Partial<RotatorSettings> = {}): RotatorSettings {
    // No suspension unless a test asks for it: the suites written before it expect revocation on the evidence alone.
    return { ...DEFAULT_SETTINGS, environment: "dev", gatewayUrl: this.gateway.url, backend: "documented-api", quietPeriodMs: 10 * 60_000, suspensionWindowMs: 0, ...overrides };
  }

  engine(overrides: Partial<EngineDependencies> = {}, recorder = new Recorder()): RotationEngine {
    return new RotationEngine({
      store: this.store,
      backend: this.admin,
      ledger: this.ledger,
      clock: this.clock,
      settings: this.settings(),
      log: recorder,
      metrics: recorder,
      ...overrides,
    });
  }

  /** Declares tokens the way `pulumi up` does (the provider runtime's create), issued at the harness's "now". */
  async declare(...specs: TokenSpec[]): Promise<void> {
    const runtime = createProviderRuntime({
      backend: (inputs) => new DocumentedApiGateway({ url: inputs.gatewayUrl, environment: "dev", adminToken: new Sensitive(inputs.adminToken), userAgent: "openclaw-token-ops/0.1 (provider)" }),
      store: () => this.store,
      ledger: () => this.ledger,
      clock: this.clock,
    });
    for (const spec of specs) {
      const checked = await runtime.check({}, {
        scopes: ["run:jobs"],
        ttl: "30d",
        environment: "dev",
        gatewayUrl: this.gateway.url,
        adminToken: this.gateway.adminToken,
        recoveryWindowDays: 0,
        ...spec,
      });
      if (checked.failures?.length) throw new Error(JSON.stringify(checked.failures));
      await runtime.create(checked.inputs);
    }
  }

  secretName(name: string): string {
    return `openclaw/dev/${name}`;
  }

  async current(name: string): Promise<Sensitive> {
    const record = await this.store.read(this.secretName(name), Stage.Current);
    if (!record) throw new Error(`no AWSCURRENT for ${name}`);
    return record.token;
  }

  /** The token's ledger entry (what the rotator decides from). */
  async entry(name: string): Promise<LedgerEntry> {
    const entry = await this.ledger.get(this.secretName(name));
    if (!entry) throw new Error(`no ledger entry for ${name}`);
    return entry;
  }

  /** A consumer request with a token, as a service would make it; returns the HTTP status. */
  async consume(token: Sensitive, consumer?: string): Promise<number> {
    // With `consumer`, the request names its instance (X-OpenClaw-Consumer), as the package's client does.
    const res = await fetch(`${this.gateway.url}/v1/jobs`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${token.reveal()}`,
        "Content-Type": "application/json",
        "User-Agent": "consumer-service/1.0",
        ...(consumer ? { "X-OpenClaw-Consumer": consumer } : {}),
      },
      body: JSON.stringify({ agentId: "agt_echo", input: { text: "hello" } }),
    });
    await res.arrayBuffer();
    return res.status;
  }

  async accepted(token: Sensitive): Promise<boolean> {
    return this.admin.whoami(token).then(() => true, () => false);
  }

  /** Every token on the gateway whose name starts with `prefix`. */
  async gatewayTokens(prefix: string): Promise<Array<{ id: string; name: string; status: string }>> {
    const res = await fetch(`${this.gateway.url}/v1/admin/tokens`, { headers: { Authorization: `Bearer ${this.gateway.adminToken}` } });
    const body = (await res.json()) as { tokens: Array<{ id: string; name: string; status: string }> };
    return body.tokens.filter((t) => t.name.startsWith(`${prefix}-`));
  }
}

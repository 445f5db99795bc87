/**
 * The product on one machine, with no cloud account: the README's main command (`npm start`).
 *
 *  1. starts moto (the AWS APIs) and the reference gateway (dev) on 127.0.0.1, and gives the rotator its own
 *     credential with `openclaw-tokens bootstrap-rotator` and the gateway's break-glass admin token, as an operator
 *     does once per environment (the admin token is then stored nowhere);
 *  2. `pulumi up` of the local stack (Pulumi.local.yaml): the tokens are real GatewayToken resources;
 *  3. starts a consumer per token that keeps calling the gateway with the token's AWSCURRENT value;
 *  4. runs the rotator Lambda's own bundle on an accelerated clock until every token has gone through a full
 *     dual-active rotation, showing each step (the rotator's credential, 7 days, rotates itself along the way);
 *  5. prints each token's status, the consumers the gateway saw on each current and retiring token (by their
 *     X-OpenClaw-Consumer header) and the consumers' tally, then destroys the stack and stops everything
 *     (or, with --keep-running, keeps it all up for the operator CLI until Ctrl-C).
 */
import { execFile } from "node:child_process";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { Sensitive } from "../src/domain/sensitive";
import { ownUserAgent } from "../src/gateway/backend";
import { DocumentedApiGateway } from "../src/gateway/documented-api";
import { DynamoDbLedger } from "../src/ledger/dynamodb-ledger";
import { dueAt, LedgerEntry } from "../src/ledger/ledger";
import { LogFields, RotationLogger } from "../src/rotation/observability";
import { DEFAULT_SETTINGS } from "../src/rotation/settings";
import { computeTokenStatus } from "../src/status/token-status";
import { renderStatusTable } from "../src/status/table";
import { isRotatorCredential, ledgerTableName, rotatorCredentialSecretName } from "../src/store/metadata";
import { SecretsManagerTokenStore } from "../src/store/secrets-manager-store";
import { Stage } from "../src/store/token-store";
import { OffsetClock } from "./clock";
import { Consumer, ConsumerRequest, listAgents, submitJob } from "./consumer";
import { consumerReport, renderConsumerReport, RetiredToken } from "./consumer-report";
import { EventQueue } from "./event-queue";
import { MotoServer, startMoto } from "./moto";
import { Progress } from "./progress";
import { PROJECT_ROOT, PulumiWorkspace } from "./pulumi-workspace";
import { ReferenceGateway, startReferenceGateway } from "./reference-gateway";

const LEDGER_TABLE = ledgerTableName("dev");
const QUIET_PERIOD = "15m";
/** Consumers re-read AWSCURRENT this often (real time), like a service with a short secrets cache. */
const CONSUMER_CACHE_MS = 1000;
const RUN_DIR = join(PROJECT_ROOT, ".run", "local");

interface Options {
  readonly keepRunning: boolean;
}

const LOCAL_USAGE = "usage: npm start [-- --keep-running]\n  --keep-running  leave the local stack up for the operator CLI until Ctrl-C\n";

function parseOptions(argv: readonly string[]): Options {
  let parsed: { values: { "keep-running"?: boolean; help?: boolean } };
  try {
    parsed = parseArgs({ args: [...argv], options: { "keep-running": { type: "boolean" }, help: { type: "boolean", short: "h" } }, strict: true });
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n${LOCAL_USAGE}`);
    process.exit(2);
  }
  if (parsed.values.help) {
    process.stdout.write(LOCAL_USAGE);
    process.exit(0);
  }
  return { keepRunning: parsed.values["keep-running"] === true };
}

/** Everything the run started, stopped in reverse order whatever happens. */
class Teardown {
  private readonly steps: Array<() => Promise<unknown>> = [];
  add(step: () => Promise<unknown>): void {
    this.steps.unshift(step);
  }
  async run(): Promise<void> {
    for (const step of this.steps.splice(0)) await step().catch((e) => process.stderr.write(`clean-up: ${String(e)}\n`));
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const ui = new Progress();
  const teardown = new Teardown();
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    ui.step("Cleaning up: pulumi destroy, stopping the gateway and moto");
    await teardown.run();
    ui.done();
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(130));
  process.on("SIGTERM", () => void stop(143));

  try {
    mkdirSync(RUN_DIR, { recursive: true });
    ui.step("Starting the AWS APIs (moto) and the reference gateway (dev) on 127.0.0.1");
    const [moto, gateway] = await Promise.all([startMoto(), startReferenceGateway({ environment: "dev", testControl: true })]);
    teardown.add(() => Promise.all([moto.stop(), gateway.stop()]));
    Object.assign(process.env, moto.env);
    const credentialId = await bootstrapEnvironment(moto, gateway);
    // What a consumer of the rotator's EventBridge events would see: a rule on moto's default bus into a queue.
    const rotationEvents = await EventQueue.create(moto);
    ui.done(`moto at ${moto.endpoint}, gateway at ${gateway.url}; the rotator's credential ${credentialId} (admin:tokens, 7d) in ${rotatorCredentialSecretName("dev")}`);

    ui.step("pulumi up --stack local: the tokens of Pulumi.local.yaml as GatewayToken resources");
    const workspace = new PulumiWorkspace("local", moto.env);
    teardown.add(async () => workspace.dispose());
    await workspace.init(join(PROJECT_ROOT, "Pulumi.local.yaml"));
    await workspace.ok(["config", "set", "openclaw:gatewayUrl", gateway.url]);
    // No openclaw:adminToken: the provider mints with the rotator's credential, so the stack holds no admin token.
    const up = await workspace.ok(["up", "--yes", "--skip-preview"]);
    teardown.add(() => workspace.ok(["destroy", "--yes"]));
    ui.done(summaryLine(up.stdout));

    const clock = new OffsetClock();
    const store = new SecretsManagerTokenStore({ environment: "dev" });
    const ledger = new DynamoDbLedger({ tableName: LEDGER_TABLE, environment: "dev" });
    // The rotator's own credential has no consumer but the rotator.
    const tokens = (await listTokens(ledger)).filter((e) => !isRotatorCredential(e.declaration)).map((e) => e.declaration.name);
    ui.step(`Consumers: one per token, calling the gateway with AWSCURRENT (re-read every ${CONSUMER_CACHE_MS / 1000}s)`);
    const consumers = new Map<string, Consumer>();
    for (const name of tokens) {
      const request: ConsumerRequest = name === "dashboard" ? listAgents : submitJob;
      const consumer = new Consumer(() => currentToken(store, name), () => gateway.url, CONSUMER_CACHE_MS, request, consumerIdentity(name));
      consumer.start();
      consumers.set(name, consumer);
      teardown.add(() => consumer.stop());
    }
    ui.done(`${consumers.size} consumers running`);

    const retired = new Map<string, RetiredToken>();
    const rotated = await rotateEveryToken(ui, gateway, clock, ledger, retired);

    const backend = new DocumentedApiGateway({ url: gateway.url, environment: "dev", adminToken: new Sensitive(gateway.adminToken), userAgent: ownUserAgent("cli") });
    const rows = await computeTokenStatus({ ledger, backend, clock });
    ui.step(`Status on simulated day ${Math.round(clock.offsetMs / 86400_000)} (${rotated} rotations completed)`);
    process.stdout.write(`\n${renderStatusTable(rows, clock.now())}\n\n`);
    ui.step("Consumers per token, as the gateway saw them (X-OpenClaw-Consumer) on the current and the retiring token");
    for (const line of renderConsumerReport(await consumerReport(backend, rows, retired))) ui.detail(line);
    ui.step("Rotation events the rotator published (EventBridge, through a rule into a queue on moto)");
    for (const event of await rotationEvents.drain()) {
      const d = event.detail as { token?: string; tokenId?: string; oldTokenId?: string; consumersOnOldToken?: string[] };
      ui.detail(`${String(d.token).padEnd(12)} ${event["detail-type"]}  ${d.tokenId ?? "-"}${d.oldTokenId ? ` (old ${d.oldTokenId})` : ""}${d.consumersOnOldToken?.length ? `  still on the old token: ${d.consumersOnOldToken.join(", ")}` : ""}`);
    }
    ui.step("Consumers' tally: every call made with AWSCURRENT while the tokens rotated");
    let failures = 0;
    for (const [name, consumer] of consumers) {
      failures += consumer.failed;
      ui.detail(`${name.padEnd(12)} ${String(consumer.total - consumer.failed).padStart(6)} ok   ${String(consumer.failed).padStart(4)} failed   ${JSON.stringify(consumer.tally)}`);
    }
    ui.detail(failures === 0 ? "zero consumer failures: every rotation was invisible to the consumers" : `${failures} consumer calls FAILED`);
    ui.detail(`the rotator's structured log: ${join(RUN_DIR, "rotator.log")}`);

    if (options.keepRunning) {
      for (const consumer of consumers.values()) await consumer.stop();
      writeCliEnv(moto, gateway, clock);
      ui.step("Keeping the local stack up (Ctrl-C to clean up). Try the operator CLI in another shell:");
      ui.detail(`source ${join(RUN_DIR, "cli.env")}`);
      ui.detail("node dist/cli.js status --environment dev --ledger-table " + LEDGER_TABLE);
      await new Promise(() => undefined);
    }
    await stop(failures === 0 ? 0 : 1);
  } catch (error) {
    ui.warn(error instanceof Error ? error.message : String(error));
    await stop(1);
  }
}

/**
 * What a real environment has before any token is declared: the ledger table (the stack's), and the rotator's own
 * credential, created by an operator with the break-glass admin token through the CLI, exactly as in production.
 */
async function bootstrapEnvironment(moto: MotoServer, gateway: ReferenceGateway): Promise<string> {
  await new DynamoDbLedger({ tableName: LEDGER_TABLE, environment: "dev" }).ensureTable();
  const env = { ...process.env, ...moto.env, OPENCLAW_ADMIN_TOKEN: gateway.adminToken };
  const args = [join(PROJECT_ROOT, "dist", "cli.js"), "bootstrap-rotator", "--environment", "dev", "--gateway-url", gateway.url, "--ledger-table", LEDGER_TABLE, "--json"];
  const { stdout } = await promisify(execFile)(process.execPath, args, { env });
  return (JSON.parse(stdout) as { tokenId: string }).tokenId;
}

/**
 * Runs the rotator Lambda's bundle like the schedule would, moving the clock from one due date to the next, until
 * every token has completed at least one full dual-active rotation. Returns how many rotations completed.
 */
async function rotateEveryToken(
  ui: Progress,
  gateway: ReferenceGateway,
  clock: OffsetClock,
  ledger: DynamoDbLedger,
  retired: Map<string, RetiredToken>,
): Promise<number> {
  const log = new FileAndProgressLog(join(RUN_DIR, "rotator.log"), ui);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHandler } = require(join(PROJECT_ROOT, "dist", "lambda", "rotator", "index.js")) as typeof import("../lambdas/rotator/handler");
  const handler = createHandler({
    env: {
      OPENCLAW_ENVIRONMENT: "dev",
      OPENCLAW_GATEWAY_URL: gateway.url,
      OPENCLAW_BACKEND: "documented-api",
      OPENCLAW_LEDGER_TABLE: LEDGER_TABLE,
      OPENCLAW_QUIET_PERIOD: QUIET_PERIOD,
    },
    clock,
    log,
    metrics: { add: () => undefined },
  });
  const completed = new Set<string>();
  let rotations = 0;
  for (let run = 0; run < 80; run++) {
    const tokens = await listTokens(ledger);
    // Remember each token's retiring one: once revoked the ledger forgets it, but its consumers are the report's point.
    for (const t of tokens) if (t.state.retiring) retired.set(t.declaration.name, { tokenId: t.state.retiring.tokenId, promotedAt: t.state.promotedAt });
    const draining = tokens.some((t) => t.state.retiring);
    if (completed.size >= tokens.length && !draining) break;
    // Next interesting moment: the end of a quiet period while draining, else the earliest due date.
    // While draining, the later of 16 minutes (a quiet period) and the earliest check the rotator asked for.
    const target = draining
      ? Math.max(clock.now().getTime() + 16 * 60_000, Math.min(...tokens.filter((t) => t.state.retiring).map((t) => t.state.nextCheckAt.getTime())))
      : Math.min(...tokens.map((t) => (t.state.current ? dueAt(t.state.current, t.declaration, DEFAULT_SETTINGS.expiryMarginMs).getTime() : Infinity))) + 60_000;
    await moveClock(clock, gateway, Math.max(target, clock.now().getTime()));
    ui.step(`Rotator run on simulated day ${(clock.offsetMs / 86400_000).toFixed(1)}${draining ? " (after the quiet period)" : ""}`);
    const summary = (await handler({ kind: "scheduled-scan" })) as { outcomes: Record<string, string> };
    for (const [secret, outcome] of Object.entries(summary.outcomes)) {
      if (outcome === "not-due") continue;
      const name = secret.split("/").pop() as string;
      if (outcome === "completed") {
        completed.add(name);
        rotations++;
      }
      ui.detail(`${name.padEnd(12)} -> ${outcome}`);
    }
    // Give consumers time to re-read AWSCURRENT, as services with a short cache do, before time moves on (the rotator's
    // own credential has no consumer to wait for).
    const consumersAffected = Object.entries(summary.outcomes).some(([secret, outcome]) => outcome !== "not-due" && secret.startsWith("openclaw/"));
    if (consumersAffected) await new Promise((r) => setTimeout(r, CONSUMER_CACHE_MS + 300));
  }
  return rotations;
}

async function moveClock(clock: OffsetClock, gateway: ReferenceGateway, to: number): Promise<void> {
  clock.offsetMs = to - Date.now();
  await gateway.setClockOffset(clock.offsetMs);
}

async function listTokens(ledger: DynamoDbLedger): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  for await (const entry of ledger.list()) entries.push(entry);
  return entries;
}

/** The name a token's consumer gives the gateway: a service identity, as a pod or task ID would be. */
function consumerIdentity(tokenName: string): string {
  return `${tokenName}-worker`;
}

async function currentToken(store: SecretsManagerTokenStore, name: string): Promise<Sensitive> {
  const record = await store.read(`openclaw/dev/${name}`, Stage.Current);
  if (!record) throw new Error(`no AWSCURRENT for ${name}`);
  return record.token;
}

/** The rotator's log lines: all of them as JSON to a file, the steps of each rotation on screen. */
class FileAndProgressLog implements RotationLogger {
  constructor(
    private readonly file: string,
    private readonly ui: Progress,
  ) {
    writeFileSync(file, "");
  }
  info(message: string, fields?: LogFields): void {
    this.write("INFO", message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.write("WARN", message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.write("ERROR", message, fields);
  }
  private write(level: string, message: string, fields: LogFields = {}): void {
    appendFileSync(this.file, `${JSON.stringify({ level, message, ...fields, timestamp: new Date().toISOString() })}\n`);
    if (fields.token && fields.step && fields.step !== "lease") {
      this.ui.detail(`${String(fields.token).padEnd(12)} ${message}${fields.tokenId ? ` [${String(fields.tokenId)}]` : ""}`);
    } else if (level !== "INFO") {
      this.ui.warn(message);
    }
  }
}

function summaryLine(pulumiOutput: string): string {
  const match = /Resources:\s*\n([\s\S]*?)\n\n/.exec(pulumiOutput);
  return match ? match[1].trim().replace(/\s+/g, " ") : "stack is up";
}

/** For --keep-running: the environment the operator CLI needs to reach the local stack. */
function writeCliEnv(moto: MotoServer, gateway: ReferenceGateway, clock: OffsetClock): void {
  const lines = [
    ...Object.entries(moto.env).map(([k, v]) => `export ${k}=${v}`),
    "export OPENCLAW_ENVIRONMENT=dev",
    `export OPENCLAW_GATEWAY_URL=${gateway.url}`,
    // The local stack's clock ran ahead through the simulated rotations; the CLI must agree with its gateway.
    `export OPENCLAW_CLOCK_OFFSET_MS=${clock.offsetMs}`,
  ];
  writeFileSync(join(RUN_DIR, "cli.env"), `${lines.join("\n")}\n`, { mode: 0o600 });
}

void main();

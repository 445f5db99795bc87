/**
 * One full rotation of one token, as the schedule does it: run 1 finds it due in the ledger and goes as far as it can
 * (intent, mint, stage, verify, promote, record promotion, first drain check: consumers cannot have moved yet); a
 * consumer then uses the new token; the quiet period passes; run 2 drains (traffic check, record the decision,
 * revoke after the gateway's record agrees, confirm, record completion).
 *
 * Calls are counted per service and attributed to phases by the engine's checkpoints. The protocol minimum each is
 * compared with is defined below (and in BENCHMARKS.md).
 */
import { Sensitive } from "../../src/domain/sensitive";
import { Boundary } from "../../src/rotation/observability";
import { GatewayTokenOutputs } from "../../src/provider/outputs";
import { Stage } from "../../src/store/token-store";
import { DAY_MS } from "../environment";
import { CallLog, Service } from "../instrument";
import { Figure, figure, ScenarioResult } from "../report";
import { ScenarioContext } from "../scenario";
import { median, sum } from "../stats";

/**
 * Gateway calls a dual-active rotation of the ledger design cannot do without: mint; whoami with the new token
 * (verify); one consumer-evidence check, which on the documented API is one query of the per-token consumers aggregate
 * per token (which consumers use the new token? which are still on the old one?); describe the old token (the gateway's own record must name it as
 * the ledger does before it is revoked: the design's second witness); revoke it; describe it again (confirm it is
 * refused). Not counted: the describe of the current token before the revocation (a guard against revoking what may
 * be the only valid token, not something the protocol needs when the run itself just verified and promoted it).
 */
export const GATEWAY_MINIMUM = { mint: 1, whoami: 1, consumers: 2, describe: 2, revoke: 1 } as const;

/**
 * Secrets Manager calls of a rotation when the ledger holds the state: stage the new value (PutSecretValue
 * AWSPENDING) and promote it (UpdateSecretVersionStage AWSCURRENT, moved off the version the ledger records as
 * current). Nothing else: no tags are written; the value just staged need not be read back (a version's value is
 * immutable, and the run holds it); AWSCURRENT's version is in the ledger (DescribeSecret only if the move is refused
 * because someone moved it by hand); AWSPENDING may stay on the promoted version (Secrets Manager's own rotation
 * accepts AWSPENDING on the AWSCURRENT version); the revocation is confirmed on the gateway, not with the old value.
 */
export const SECRETS_MANAGER_MINIMUM = { PutSecretValue: 1, UpdateSecretVersionStage: 1 } as const;

/**
 * Ledger (DynamoDB) calls, besides the due index's Query (one page per run, shared by every token listed):
 *   run 1: GetItem (the index holds keys only and is eventually consistent: the entry is read consistently once) ·
 *     UpdateItem lease + intent (one conditional write, before minting) · UpdateItem staged token (before
 *     promoting: a crash after the promotion must find the new token recorded) · UpdateItem draining + lease release;
 *   run 2: GetItem · UpdateItem lease + revoking (after the traffic check, before the revocation) · UpdateItem idle +
 *     lease release.
 * Every write is conditional on the version read or last written, which is what fences the actors.
 */
export const LEDGER_MINIMUM = { GetItem: 2, UpdateItem: 5 } as const;
/** The due index's Query: one page per run, whatever the number of tokens. */
export const LEDGER_QUERY_MINIMUM = 2;

const RUN1_START = "run1-start";
const RUN1_END = "run1-end";
const RUN2_START = "run2-start";
const RUN2_END = "run2-end";

/** Phases between consecutive marks, in order; calls are attributed to the phase in which they started. */
const PHASES: ReadonlyArray<{ name: string; from: string; to: string }> = [
  { name: "run 1: due query, read, lease, record intent", from: RUN1_START, to: Boundary.IntentRecorded },
  { name: "run 1: mint", from: Boundary.IntentRecorded, to: Boundary.Minted },
  { name: "run 1: stage (AWSPENDING), record staged", from: Boundary.Minted, to: Boundary.Staged },
  { name: "run 1: verify (read back, whoami)", from: Boundary.Staged, to: Boundary.Verified },
  { name: "run 1: promote (AWSCURRENT)", from: Boundary.Verified, to: Boundary.Promoted },
  { name: "run 1: record promotion", from: Boundary.Promoted, to: Boundary.DrainingRecorded },
  { name: "run 1: first drain check, lease release", from: Boundary.DrainingRecorded, to: RUN1_END },
  { name: "run 2: due query, read, lease, traffic check, record revoking, revoke, confirm", from: RUN2_START, to: Boundary.OldRevoked },
  { name: "run 2: (revoked -> confirmed: no calls)", from: Boundary.OldRevoked, to: Boundary.RevocationConfirmed },
  { name: "run 2: record completion", from: Boundary.RevocationConfirmed, to: Boundary.Completed },
  { name: "run 2: lease release", from: Boundary.Completed, to: RUN2_END },
];

interface PhaseSample {
  readonly ms: number;
  readonly secretsManager: number;
  readonly gateway: number;
  readonly ledger: number;
  readonly calls: string[];
}

export async function rotation(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { env } = ctx;
  await env.reset();
  const runtime = env.providerRuntime();
  const store = env.plainStore();
  const quietPeriodMs = env.settings().quietPeriodMs;
  const samples: Array<{ log: CallLog; phases: PhaseSample[]; run1Ms: number; run2Ms: number }> = [];

  for (let i = 0; i < ctx.options.rotationRuns; i++) {
    ctx.progress(`rotation: ${i + 1}/${ctx.options.rotationRuns}`);
    const name = `rotate-${String(i).padStart(3, "0")}`;
    const checked = await runtime.check({}, { name, scopes: ["run:jobs"], ttl: "30d", environment: "dev", gatewayUrl: env.gateway.url, adminToken: env.gateway.adminToken, recoveryWindowDays: 0 });
    if (checked.failures?.length) throw new Error(`rotation: bad token declaration: ${JSON.stringify(checked.failures)}`);
    const created = await runtime.create(checked.inputs);
    const secretName = created.id;
    const outs = created.outs as GatewayTokenOutputs;
    await env.advance(25 * DAY_MS);

    const log = new CallLog();
    const instrumented = env.instrumentedEngine(log);
    log.mark(RUN1_START);
    const first = await instrumented.engine.runScheduled();
    log.mark(RUN1_END);
    expectOutcome(first.outcomes, secretName, "waiting");

    // A consumer picks up the new token; then the old one stays quiet for the quiet period.
    const fresh = await store.read(secretName, Stage.Current);
    if (!fresh) throw new Error(`rotation: ${secretName} has no AWSCURRENT`);
    await consume(env.gateway.url, fresh.token);
    await env.advance(quietPeriodMs + 60_000);

    log.mark(RUN2_START);
    const second = await instrumented.engine.runScheduled();
    log.mark(RUN2_END);
    expectOutcome(second.outcomes, secretName, "completed");
    instrumented.dispose();

    samples.push({ log, phases: phases(log), run1Ms: at(log, RUN1_END) - at(log, RUN1_START), run2Ms: at(log, RUN2_END) - at(log, RUN2_START) });
    // Only one token in the ledger per repetition (the clock moves 25 days each time): each run lists exactly this one.
    // pulumi destroy's path (not counted): revoke its tokens, delete the secret and the ledger entry.
    await runtime.delete(secretName, outs);
  }

  const count = (service: Service, op?: string) => samples.map((s) => s.log.of(service).filter((c) => !op || c.op === op).length);
  const smMin = sum(Object.values(SECRETS_MANAGER_MINIMUM));
  const gwMin = sum(Object.values(GATEWAY_MINIMUM));
  const ledgerMin = sum(Object.values(LEDGER_MINIMUM));
  const ledgerNoQuery = samples.map((s) => s.log.of(Service.DynamoDb).filter((c) => c.op !== "Query").length);
  const figures: Figure[] = [
    figure("gateway calls per rotation", "calls", count(Service.Gateway), { value: gwMin, label: "protocol minimum" }),
    figure("Secrets Manager calls per rotation", "calls", count(Service.SecretsManager), { value: smMin, label: "protocol minimum" }),
    figure("ledger (DynamoDB) calls per rotation (without the due query)", "calls", ledgerNoQuery, { value: ledgerMin, label: "protocol minimum" }),
    figure("ledger writes (UpdateItem) per rotation", "calls", count(Service.DynamoDb, "UpdateItem"), { value: LEDGER_MINIMUM.UpdateItem, label: "protocol minimum" }),
    figure("ledger reads (GetItem) per rotation", "calls", count(Service.DynamoDb, "GetItem"), { value: LEDGER_MINIMUM.GetItem, label: "protocol minimum" }),
    figure("ledger due-index Query per rotation (2 runs)", "calls", count(Service.DynamoDb, "Query"), { value: LEDGER_QUERY_MINIMUM, label: "1 page per run" }),
    figure("run 1 wall time (due -> draining)", "ms", samples.map((s) => s.run1Ms), { value: median(samples.map((s) => serialMinimumMs(s.log, RUN1_START, RUN1_END))), label: "sum of its calls" }),
    figure("run 2 wall time (drain -> completed)", "ms", samples.map((s) => s.run2Ms), { value: median(samples.map((s) => serialMinimumMs(s.log, RUN2_START, RUN2_END))), label: "sum of its calls" }),
  ];
  for (const [i, phase] of PHASES.entries()) {
    figures.push(figure(`phase: ${phase.name}`, "ms", samples.map((s) => s.phases[i].ms)));
  }

  const last = samples[samples.length - 1];
  const breakdown = PHASES.map((phase, i) => ({
    phase: phase.name,
    medianMs: Math.round(median(samples.map((s) => s.phases[i].ms)) * 10) / 10,
    secretsManager: last.phases[i].secretsManager,
    gateway: last.phases[i].gateway,
    ledger: last.phases[i].ledger,
    calls: last.phases[i].calls.join(" "),
  }));
  const gatewayByOp = last.log.byOp(Service.Gateway);
  const smByOp = last.log.byOp(Service.SecretsManager);
  const storeByOp = last.log.byOp(Service.Store);
  const ledgerByOp = last.log.byOp(Service.DynamoDb);
  const smCallMs = median(samples.flatMap((s) => s.log.of(Service.SecretsManager).map((c) => c.end - c.start)));
  const gwCallMs = median(samples.flatMap((s) => s.log.of(Service.Gateway).map((c) => c.end - c.start)));
  const ddbCallMs = median(samples.flatMap((s) => s.log.of(Service.DynamoDb).map((c) => c.end - c.start)));
  const notes = [
    `Gateway calls by operation: ${JSON.stringify(gatewayByOp)}; minimum ${JSON.stringify(GATEWAY_MINIMUM)}.`,
    `Secrets Manager calls by operation: ${JSON.stringify(smByOp)}; minimum ${JSON.stringify(SECRETS_MANAGER_MINIMUM)}.`,
    `Ledger (DynamoDB) calls by operation: ${JSON.stringify(ledgerByOp)}; minimum ${JSON.stringify(LEDGER_MINIMUM)} plus one due-index Query page per run.`,
    `TokenStore methods the engine called: ${JSON.stringify(storeByOp)}.`,
    `Median call: Secrets Manager ${smCallMs.toFixed(1)} ms, DynamoDB ${ddbCallMs.toFixed(1)} ms (moto on loopback), gateway ${gwCallMs.toFixed(1)} ms (${ctx.options.latencyMs} ms added latency).`,
    "Per phase (last repetition's calls; median wall time): " +
      breakdown.map((b) => `${b.phase}: ${b.medianMs} ms, SM ${b.secretsManager}, GW ${b.gateway}, DDB ${b.ledger} [${b.calls}]`).join("; "),
  ];
  return {
    id: "rotation",
    title: "one full rotation",
    figures,
    notes,
    details: {
      gatewayByOp,
      secretsManagerByOp: smByOp,
      ledgerByOp,
      storeByOp,
      phases: breakdown,
      gatewayMinimum: GATEWAY_MINIMUM,
      secretsManagerMinimum: SECRETS_MANAGER_MINIMUM,
      ledgerMinimum: { ...LEDGER_MINIMUM, Query: LEDGER_QUERY_MINIMUM },
      medianCallMs: { secretsManager: smCallMs, dynamoDb: ddbCallMs, gateway: gwCallMs },
    },
  };
}

/**
 * The run's remote calls' durations added up. The run can beat it only where it overlaps calls (the two traffic
 * queries of a drain check); anything above it is our own time.
 */
function serialMinimumMs(log: CallLog, from: string, to: string): number {
  return log.serialMs(at(log, from), at(log, to));
}

function phases(log: CallLog): PhaseSample[] {
  return PHASES.map(({ from, to }) => {
    const start = at(log, from);
    const end = at(log, to);
    const calls = [Service.SecretsManager, Service.Gateway, Service.DynamoDb].flatMap((s) => log.of(s, start, end)).sort((a, b) => a.start - b.start);
    return {
      ms: end - start,
      secretsManager: log.of(Service.SecretsManager, start, end).length,
      gateway: log.of(Service.Gateway, start, end).length,
      ledger: log.of(Service.DynamoDb, start, end).length,
      calls: calls.map((c) => `${c.service === Service.Gateway ? "gw." : c.service === Service.DynamoDb ? "ddb." : "sm."}${c.op}`),
    };
  });
}

function at(log: CallLog, label: string): number {
  const mark = log.marks.find((m) => m.label === label);
  if (!mark) throw new Error(`rotation: no checkpoint "${label}" was reached (marks: ${log.marks.map((m) => m.label).join(", ")})`);
  return mark.at;
}

function expectOutcome(outcomes: Readonly<Record<string, string>>, secretName: string, expected: string): void {
  if (outcomes[secretName] !== expected) throw new Error(`rotation: ${secretName} ended "${outcomes[secretName]}", expected "${expected}"`);
}

/** A consumer's request with its token (not the rotator's User-Agent, so it counts as consumer traffic). */
async function consume(gatewayUrl: string, token: Sensitive): Promise<void> {
  const res = await fetch(`${gatewayUrl}/v1/jobs`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token.reveal()}`, "Content-Type": "application/json", "User-Agent": "consumer-service/1.0" },
    body: JSON.stringify({ agentId: "agt_echo", input: { text: "bench" } }),
  });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`rotation: the consumer's request answered ${res.status}`);
}

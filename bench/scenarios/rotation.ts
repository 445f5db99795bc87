/**
 * One full rotation of one token, as the schedule does it: run 1 finds it due and goes as far as it can (intent,
 * mint, stage, verify, promote, record promotion, first drain check: consumers cannot have moved yet); a consumer
 * then uses the new token; the quiet period passes; run 2 drains (traffic check, revoke, confirm, record).
 *
 * Calls are counted per service and attributed to phases by the engine's checkpoints. The protocol minimum each is
 * compared with is defined below (and in BENCHMARKS.md).
 */
import { Sensitive } from "../../src/domain/sensitive";
import { Boundary } from "../../src/rotation/observability";
import { Stage } from "../../src/store/token-store";
import { DAY_MS } from "../environment";
import { CallLog, Service } from "../instrument";
import { Figure, figure, ScenarioResult } from "../report";
import { ScenarioContext } from "../scenario";
import { median, sum } from "../stats";

/**
 * Gateway calls a dual-active rotation cannot do without: mint; whoami with the new token (verify); one traffic
 * check, which on the documented API is one request-log query per token (has the new token consumer traffic? has the
 * old one been quiet?); revoke the old token; whoami with the old token (confirm it is refused).
 */
export const GATEWAY_MINIMUM = { mint: 1, whoami: 2, traffic: 2, revoke: 1 } as const;

/**
 * Secrets Manager calls a crash-safe rotation cannot do without, besides the scan's ListSecrets (which brings every
 * token's tags and stages, one page per 100 tokens per run):
 *   TagResource (intent, before minting) · GetSecretValue AWSCURRENT (what to mint: scopes) · PutSecretValue
 *   AWSPENDING (stage) · UpdateSecretVersionStage AWSCURRENT (promote) · TagResource + UntagResource (promotion:
 *   new token ID, retiring token, promoted-at; intent keys removed) · GetSecretValue AWSPREVIOUS (the old value, to
 *   confirm it is refused) · TagResource + UntagResource (completion: last-rotated-at; retiring keys removed).
 */
export const SECRETS_MANAGER_MINIMUM = { TagResource: 3, UntagResource: 2, GetSecretValue: 2, PutSecretValue: 1, UpdateSecretVersionStage: 1 } as const;

/** Lease calls: take and release, in each of the two runs. */
export const LEASE_MINIMUM = 4;

const RUN1_START = "run1-start";
const RUN1_END = "run1-end";
const RUN2_START = "run2-start";
const RUN2_END = "run2-end";

/** Phases between consecutive marks, in order; calls are attributed to the phase in which they started. */
const PHASES: ReadonlyArray<{ name: string; from: string; to: string }> = [
  { name: "run 1: scan, lease, record intent", from: RUN1_START, to: Boundary.IntentRecorded },
  { name: "run 1: mint", from: Boundary.IntentRecorded, to: Boundary.Minted },
  { name: "run 1: stage (AWSPENDING)", from: Boundary.Minted, to: Boundary.Staged },
  { name: "run 1: verify (whoami)", from: Boundary.Staged, to: Boundary.Verified },
  { name: "run 1: promote (AWSCURRENT)", from: Boundary.Verified, to: Boundary.Promoted },
  { name: "run 1: record promotion", from: Boundary.Promoted, to: Boundary.DrainingRecorded },
  { name: "run 1: first drain check, lease release", from: Boundary.DrainingRecorded, to: RUN1_END },
  { name: "run 2: scan, lease, traffic check, revoke", from: RUN2_START, to: Boundary.OldRevoked },
  { name: "run 2: confirm revoked (whoami)", from: Boundary.OldRevoked, to: Boundary.RevocationConfirmed },
  { name: "run 2: record completion", from: Boundary.RevocationConfirmed, to: Boundary.Completed },
  { name: "run 2: lease release", from: Boundary.Completed, to: RUN2_END },
];

interface PhaseSample {
  readonly ms: number;
  readonly secretsManager: number;
  readonly gateway: number;
  readonly leases: number;
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
    // Only one token in the namespace per repetition: each scan lists exactly one secret.
    await store.delete(secretName, { recoveryWindowDays: 0 });
  }

  const count = (service: Service, op?: string) => samples.map((s) => s.log.of(service).filter((c) => !op || c.op === op).length);
  const smMin = sum(Object.values(SECRETS_MANAGER_MINIMUM));
  const gwMin = sum(Object.values(GATEWAY_MINIMUM));
  const smNoList = samples.map((s) => s.log.of(Service.SecretsManager).filter((c) => c.op !== "ListSecrets").length);
  const figures: Figure[] = [
    figure("gateway calls per rotation", "calls", count(Service.Gateway), { value: gwMin, label: "protocol minimum" }),
    figure("Secrets Manager calls per rotation (without scan)", "calls", smNoList, { value: smMin, label: "protocol minimum" }),
    figure("Secrets Manager DescribeSecret per rotation", "calls", count(Service.SecretsManager, "DescribeSecret"), { value: 0, label: "tags come with ListSecrets" }),
    figure("Secrets Manager ListSecrets per rotation (2 runs)", "calls", count(Service.SecretsManager, "ListSecrets"), { value: 2, label: "1 page per run" }),
    figure("lease (DynamoDB) calls per rotation", "calls", count(Service.DynamoDb), { value: LEASE_MINIMUM, label: "take + release per run" }),
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
    leases: last.phases[i].leases,
    calls: last.phases[i].calls.join(" "),
  }));
  const gatewayByOp = last.log.byOp(Service.Gateway);
  const smByOp = last.log.byOp(Service.SecretsManager);
  const storeByOp = last.log.byOp(Service.Store);
  const smCallMs = median(samples.flatMap((s) => s.log.of(Service.SecretsManager).map((c) => c.end - c.start)));
  const gwCallMs = median(samples.flatMap((s) => s.log.of(Service.Gateway).map((c) => c.end - c.start)));
  const notes = [
    `Gateway calls by operation: ${JSON.stringify(gatewayByOp)}; minimum ${JSON.stringify(GATEWAY_MINIMUM)}.`,
    `Secrets Manager calls by operation: ${JSON.stringify(smByOp)}; minimum ${JSON.stringify(SECRETS_MANAGER_MINIMUM)} plus one ListSecrets page per run.`,
    `TokenStore methods the engine called: ${JSON.stringify(storeByOp)} (each setMetadata is TagResource [+ UntagResource], and a DescribeSecret when the caller has not just described the secret).`,
    `Median call: Secrets Manager ${smCallMs.toFixed(1)} ms (moto on loopback), gateway ${gwCallMs.toFixed(1)} ms (${ctx.options.latencyMs} ms added latency).`,
    "Per phase (last repetition's calls; median wall time): " +
      breakdown.map((b) => `${b.phase}: ${b.medianMs} ms, SM ${b.secretsManager}, GW ${b.gateway}, DDB ${b.leases} [${b.calls}]`).join("; "),
  ];
  return {
    id: "rotation",
    title: "one full rotation",
    figures,
    notes,
    details: { gatewayByOp, secretsManagerByOp: smByOp, storeByOp, phases: breakdown, gatewayMinimum: GATEWAY_MINIMUM, secretsManagerMinimum: SECRETS_MANAGER_MINIMUM, medianCallMs: { secretsManager: smCallMs, gateway: gwCallMs } },
  };
}

/**
 * The run's remote calls' durations added up. The run can beat it only where it overlaps calls (the two traffic
 * queries of a drain check, the two GetSecretValue of recording a promotion); anything above it is our own time.
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
      leases: log.of(Service.DynamoDb, start, end).length,
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

import { randomBytes } from "node:crypto";
import { ValidationError, type Problem } from "../src/domain/errors";
import type { Agent, AgentStore } from "./catalog";

/**
 * Checks a `POST /v1/jobs` body: `{"agentId": <an agent id>, "input": <any JSON>, "delaySeconds"?: 1-3600}`.
 * A delayed job stays `queued` (cancellable) until its time comes; the default runs at once.
 */
export function parseJobRequest(body: unknown, agents: AgentStore): { agent: Agent; input: unknown; delaySeconds: number } {
  const fields: Record<string, unknown> = typeof body === "object" && body !== null && !Array.isArray(body) ? { ...body } : {};
  const agent = typeof fields.agentId === "string" ? agents.get(fields.agentId) : undefined;
  const problems: Problem[] = [];
  if (!agent) {
    problems.push({ field: "agentId", message: `required; one of ${agents.list().map((a) => a.id).join(", ")} (see GET /v1/agents)` });
  }
  if (!("input" in fields)) problems.push({ field: "input", message: "required; any JSON value" });
  const delay = fields.delaySeconds ?? 0;
  if (typeof delay !== "number" || !Number.isInteger(delay) || delay < 0 || delay > 3600) {
    problems.push({ field: "delaySeconds", message: "optional; a whole number of seconds from 0 to 3600" });
  }
  if (!agent || problems.length > 0) throw new ValidationError("job request", problems);
  return { agent, input: fields.input, delaySeconds: delay as number };
}

export const JobStatus = { Queued: "queued", Succeeded: "succeeded", Cancelled: "cancelled" } as const;
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];

export interface Job {
  readonly id: string;
  readonly agentId: string;
  readonly status: JobStatus;
  /** The agent's output once succeeded; null while queued or when cancelled. */
  readonly output: unknown;
  readonly createdAt: string;
}

interface StoredJob {
  readonly job: Omit<Job, "status" | "output">;
  readonly output: unknown;
  /** When a queued job runs (epoch ms). */
  readonly runAtMs: number;
  cancelledAt?: string;
}

/** Jobs held in memory, bounded so a long benchmark cannot grow the process without limit. */
const MAX_JOBS = 10_000;

/** Jobs "run" by echoing their input, at once or after their delay: all a token-handling client needs. */
export class JobStore {
  readonly #jobs = new Map<string, StoredJob>();

  run(agent: Agent, input: unknown, now: Date, delaySeconds = 0): Job {
    const stored: StoredJob = {
      job: { id: `job_${randomBytes(8).toString("hex")}`, agentId: agent.id, createdAt: now.toISOString() },
      output: { agent: agent.name, echo: input },
      runAtMs: now.getTime() + delaySeconds * 1000,
    };
    this.#jobs.set(stored.job.id, stored);
    // Maps iterate in insertion order: the first key is the oldest job.
    if (this.#jobs.size > MAX_JOBS) this.#jobs.delete(this.#jobs.keys().next().value as string);
    return view(stored, now);
  }

  get(id: string, now: Date): Job | undefined {
    const stored = this.#jobs.get(id);
    return stored && view(stored, now);
  }

  /**
   * Cancels a queued job. Resolves to the job as it is after the call, with whether this call cancelled it:
   * cancelling a cancelled job is a no-op, a finished job cannot be cancelled. Undefined for an unknown id.
   */
  cancel(id: string, now: Date): { job: Job; cancelled: boolean } | undefined {
    const stored = this.#jobs.get(id);
    if (!stored) return undefined;
    const before = view(stored, now);
    if (before.status !== JobStatus.Queued) return { job: before, cancelled: false };
    stored.cancelledAt = now.toISOString();
    return { job: view(stored, now), cancelled: true };
  }
}

function view(stored: StoredJob, now: Date): Job {
  const status = stored.cancelledAt !== undefined ? JobStatus.Cancelled : now.getTime() >= stored.runAtMs ? JobStatus.Succeeded : JobStatus.Queued;
  return { ...stored.job, status, output: status === JobStatus.Succeeded ? stored.output : null };
}

import { randomBytes } from "node:crypto";
import { ValidationError, type Problem } from "../src/domain/errors";

export interface Agent {
  readonly id: string;
  readonly name: string;
}

/** The gateway serves a fixed catalogue: enough for clients to exercise read:agents and run:jobs. */
export const AGENTS: readonly Agent[] = [
  { id: "agt_echo", name: "echo" },
  { id: "agt_summarizer", name: "summarizer" },
];

/** Checks a `POST /v1/jobs` body: `{"agentId": <a catalogue id>, "input": <any JSON>}`. */
export function parseJobRequest(body: unknown): { agent: Agent; input: unknown } {
  const fields: Record<string, unknown> = typeof body === "object" && body !== null && !Array.isArray(body) ? { ...body } : {};
  const agent = AGENTS.find((a) => a.id === fields.agentId);
  const problems: Problem[] = [];
  if (!agent) {
    problems.push({ field: "agentId", message: `required; one of ${AGENTS.map((a) => a.id).join(", ")} (see GET /v1/agents)` });
  }
  if (!("input" in fields)) problems.push({ field: "input", message: "required; any JSON value" });
  if (!agent || problems.length > 0) throw new ValidationError("job request", problems);
  return { agent, input: fields.input };
}

export interface Job {
  readonly id: string;
  readonly agentId: string;
  readonly status: "succeeded";
  readonly output: unknown;
  readonly createdAt: string;
}

/** Jobs held in memory, bounded so a long benchmark cannot grow the process without limit. */
const MAX_JOBS = 10_000;

/** Jobs run synchronously: the agent "echoes" its input, which is all a token-handling client needs. */
export class JobStore {
  readonly #jobs = new Map<string, Job>();

  run(agent: Agent, input: unknown, now: Date): Job {
    const job: Job = {
      id: `job_${randomBytes(8).toString("hex")}`,
      agentId: agent.id,
      status: "succeeded",
      output: { agent: agent.name, echo: input },
      createdAt: now.toISOString(),
    };
    this.#jobs.set(job.id, job);
    // Maps iterate in insertion order: the first key is the oldest job.
    if (this.#jobs.size > MAX_JOBS) this.#jobs.delete(this.#jobs.keys().next().value as string);
    return job;
  }

  get(id: string): Job | undefined {
    return this.#jobs.get(id);
  }
}

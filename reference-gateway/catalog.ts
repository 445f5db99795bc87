import { randomBytes } from "node:crypto";
import { ValidationError, type Problem } from "../src/domain/errors";

/**
 * The standalone gateway's agents and custom tools, in memory: enough for every row of the guide's scope table
 * (inspect agents, create and update agent configs, register, update and remove tools) to have a real endpoint.
 */
export interface Agent {
  readonly id: string;
  readonly name: string;
  /** Free-form agent configuration (model, prompt, tools...); `{}` for the sample agents. */
  readonly config: Readonly<Record<string, unknown>>;
}

export interface Tool {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  /** JSON Schema of the tool's input, as registered. */
  readonly inputSchema: Readonly<Record<string, unknown>>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** The sample agents every standalone gateway starts with. */
export const SAMPLE_AGENTS: readonly Agent[] = [
  { id: "agt_echo", name: "echo", config: {} },
  { id: "agt_summarizer", name: "summarizer", config: {} },
];

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NAME_RULE = "1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit";
/** In-memory bounds, so that no client can grow the process without limit. */
const MAX_ENTRIES = 1_000;

export class AgentStore {
  readonly #agents = new Map<string, Agent>(SAMPLE_AGENTS.map((a) => [a.id, a]));

  list(): Agent[] {
    return [...this.#agents.values()];
  }

  get(id: string): Agent | undefined {
    return this.#agents.get(id);
  }

  /** `{"name", "config"?}`; every problem reported at once. */
  create(body: unknown): Agent {
    const fields = objectBody(body, "agent", ["name", "config"]);
    const problems: Problem[] = [...fields.problems];
    const name = requiredName(fields.value.name, problems);
    const config = optionalObject(fields.value, "config", problems) ?? {};
    if (this.#agents.size >= MAX_ENTRIES) problems.push({ field: "body", message: `at most ${MAX_ENTRIES} agents; update one instead` });
    if (problems.length > 0 || name === undefined) throw new ValidationError("agent", problems);
    const agent: Agent = { id: `agt_${randomBytes(6).toString("hex")}`, name, config };
    this.#agents.set(agent.id, agent);
    return agent;
  }

  /** `{"name"?, "config"?}` replaces what it names. Undefined for an unknown id. */
  update(id: string, body: unknown): Agent | undefined {
    const current = this.#agents.get(id);
    const fields = objectBody(body, "agent", ["name", "config"]);
    const problems: Problem[] = [...fields.problems];
    const name = fields.value.name === undefined ? undefined : requiredName(fields.value.name, problems);
    const config = optionalObject(fields.value, "config", problems);
    if (problems.length === 0 && name === undefined && config === undefined) {
      problems.push({ field: "body", message: 'give "name", "config" or both' });
    }
    if (problems.length > 0) throw new ValidationError("agent update", problems);
    if (!current) return undefined;
    const updated: Agent = { ...current, ...(name !== undefined && { name }), ...(config !== undefined && { config }) };
    this.#agents.set(id, updated);
    return updated;
  }
}

export class ToolStore {
  readonly #tools = new Map<string, Tool>();

  list(): Tool[] {
    return [...this.#tools.values()];
  }

  get(id: string): Tool | undefined {
    return this.#tools.get(id);
  }

  /** `{"name", "description"?, "inputSchema"?}`; names are unique. */
  register(body: unknown, now: Date): Tool {
    const fields = objectBody(body, "tool", ["name", "description", "inputSchema"]);
    const problems: Problem[] = [...fields.problems];
    const name = requiredName(fields.value.name, problems);
    const description = optionalString(fields.value, "description", problems) ?? "";
    const inputSchema = optionalObject(fields.value, "inputSchema", problems) ?? { type: "object" };
    if (name !== undefined && this.list().some((t) => t.name === name)) {
      problems.push({ field: "name", message: `a tool named "${name}" is registered already; update it with PATCH /v1/tools/{id}` });
    }
    if (this.#tools.size >= MAX_ENTRIES) problems.push({ field: "body", message: `at most ${MAX_ENTRIES} tools; remove one first` });
    if (problems.length > 0 || name === undefined) throw new ValidationError("tool", problems);
    const at = now.toISOString();
    const tool: Tool = { id: `tool_${randomBytes(6).toString("hex")}`, name, description, inputSchema, createdAt: at, updatedAt: at };
    this.#tools.set(tool.id, tool);
    return tool;
  }

  /** `{"description"?, "inputSchema"?}`; a tool keeps its name. Undefined for an unknown id. */
  update(id: string, body: unknown, now: Date): Tool | undefined {
    const fields = objectBody(body, "tool", ["description", "inputSchema"]);
    const problems: Problem[] = [...fields.problems];
    const description = optionalString(fields.value, "description", problems);
    const inputSchema = optionalObject(fields.value, "inputSchema", problems);
    if (problems.length === 0 && description === undefined && inputSchema === undefined) {
      problems.push({ field: "body", message: 'give "description", "inputSchema" or both' });
    }
    if (problems.length > 0) throw new ValidationError("tool update", problems);
    const current = this.#tools.get(id);
    if (!current) return undefined;
    const updated: Tool = {
      ...current,
      ...(description !== undefined && { description }),
      ...(inputSchema !== undefined && { inputSchema }),
      updatedAt: now.toISOString(),
    };
    this.#tools.set(id, updated);
    return updated;
  }

  remove(id: string): Tool | undefined {
    const tool = this.#tools.get(id);
    this.#tools.delete(id);
    return tool;
  }
}

function objectBody(body: unknown, what: string, allowed: readonly string[]): { value: Record<string, unknown>; problems: Problem[] } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { value: {}, problems: [{ field: "body", message: `send a JSON object with the ${what}'s fields: ${allowed.join(", ")}` }] };
  }
  const value = body as Record<string, unknown>;
  const problems = Object.keys(value)
    .filter((key) => !allowed.includes(key))
    .map((key) => ({ field: key, message: `unknown field; allowed fields are ${allowed.join(", ")}` }));
  return { value, problems };
}

function requiredName(value: unknown, problems: Problem[]): string | undefined {
  if (typeof value === "string" && NAME_PATTERN.test(value)) return value;
  problems.push({ field: "name", message: `required; ${NAME_RULE}` });
  return undefined;
}

function optionalString(fields: Record<string, unknown>, field: string, problems: Problem[]): string | undefined {
  const value = fields[field];
  if (value === undefined) return undefined;
  if (typeof value === "string" && value.length <= 1_000) return value;
  problems.push({ field, message: "must be a string of at most 1000 characters" });
  return undefined;
}

function optionalObject(fields: Record<string, unknown>, field: string, problems: Problem[]): Record<string, unknown> | undefined {
  const value = fields[field];
  if (value === undefined) return undefined;
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  problems.push({ field, message: "must be a JSON object" });
  return undefined;
}

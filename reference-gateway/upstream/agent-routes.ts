import { Scope } from "../../src/domain/scopes";
import { ApiError, ApiErrorCode } from "../errors";
import { ok } from "../http-io";
import type { AuthenticatedContext, Route } from "../router";

/** Calls an admin RPC method upstream on behalf of the request's token (UpstreamProxy.rpc with its identity). */
export type UpstreamRpc = (ctx: AuthenticatedContext, method: string, params: unknown) => Promise<unknown>;

interface OpenClawAgent {
  readonly id: string;
  readonly name?: string;
  readonly [key: string]: unknown;
}

/**
 * The guide's first call, `GET /v1/agents` (and `GET /v1/agents/{id}`), in front mode: answered from OpenClaw's
 * `agents.list` (admin HTTP RPC) in the guide's shape, so the quick start and the 401/403 checklist hold against
 * a real OpenClaw as they do standalone. The host path of an agent's workspace is left out.
 */
export function frontAgentRoutes(rpc: UpstreamRpc): Route[] {
  const agentsOf = async (ctx: AuthenticatedContext): Promise<OpenClawAgent[]> => {
    const payload = (await rpc(ctx, "agents.list", {})) as { agents?: unknown } | undefined;
    const agents = Array.isArray(payload?.agents) ? payload.agents : [];
    return agents.filter((a): a is OpenClawAgent => typeof a === "object" && a !== null && typeof (a as OpenClawAgent).id === "string");
  };
  return [
    {
      method: "GET",
      pattern: "/v1/agents",
      requires: Scope.ReadAgents,
      handle: async (ctx) => ok({ agents: (await agentsOf(ctx)).map((a) => ({ id: a.id, name: a.name ?? a.id })) }),
    },
    {
      method: "GET",
      pattern: "/v1/agents/:id",
      requires: Scope.ReadAgents,
      handle: async (ctx) => {
        const agent = (await agentsOf(ctx)).find((a) => a.id === ctx.params.id);
        if (!agent) throw new ApiError(404, ApiErrorCode.NotFound, `no agent ${ctx.params.id}; list agents with GET /v1/agents`);
        const { id, name, workspace: _workspace, ...config } = agent;
        return ok({ id, name: name ?? id, config });
      },
    },
  ];
}

import { Scope } from "../../src/domain/scopes";
import { ApiError, ApiErrorCode } from "../errors";
import { ok, readJsonBody } from "../http-io";
import type { Route } from "../router";
import type { GatewayServices } from "./context";

/**
 * Agents and custom tools of the standalone gateway: the guide's "inspect agents" (read:agents), "create and
 * update agent configs" (write:agents) and "register, update and remove custom tools" (admin:tools).
 */
export function catalogRoutes(services: GatewayServices): Route[] {
  const { clock, agents, tools } = services;
  const noAgent = (id: string) => new ApiError(404, ApiErrorCode.NotFound, `no agent ${id}; list agents with GET /v1/agents`);
  const noTool = (id: string) => new ApiError(404, ApiErrorCode.NotFound, `no tool ${id}; list tools with GET /v1/tools`);
  return [
    {
      method: "GET",
      pattern: "/v1/agents/:id",
      requires: Scope.ReadAgents,
      handle: ({ params }) => {
        const agent = agents.get(params.id);
        if (!agent) throw noAgent(params.id);
        return ok(agent);
      },
    },
    {
      method: "POST",
      pattern: "/v1/agents",
      requires: Scope.WriteAgents,
      handle: async ({ req }) => ok(agents.create(await readJsonBody(req)), 201),
    },
    {
      method: "PATCH",
      pattern: "/v1/agents/:id",
      requires: Scope.WriteAgents,
      handle: async ({ req, params }) => {
        const agent = agents.update(params.id, await readJsonBody(req));
        if (!agent) throw noAgent(params.id);
        return ok(agent);
      },
    },
    {
      method: "GET",
      pattern: "/v1/tools",
      requires: Scope.AdminTools,
      handle: () => ok({ tools: tools.list() }),
    },
    {
      method: "POST",
      pattern: "/v1/tools",
      requires: Scope.AdminTools,
      handle: async ({ req }) => ok(tools.register(await readJsonBody(req), clock.now()), 201),
    },
    {
      method: "PATCH",
      pattern: "/v1/tools/:id",
      requires: Scope.AdminTools,
      handle: async ({ req, params }) => {
        const tool = tools.update(params.id, await readJsonBody(req), clock.now());
        if (!tool) throw noTool(params.id);
        return ok(tool);
      },
    },
    {
      method: "DELETE",
      pattern: "/v1/tools/:id",
      requires: Scope.AdminTools,
      handle: ({ params }) => {
        const tool = tools.remove(params.id);
        if (!tool) throw noTool(params.id);
        return ok(tool);
      },
    },
  ];
}

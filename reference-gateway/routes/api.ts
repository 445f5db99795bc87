import { Scope } from "../../src/domain/scopes";
import { ApiError, ApiErrorCode } from "../errors";
import { ok, readJsonBody } from "../http-io";
import { AGENTS, parseJobRequest } from "../jobs";
import type { Route } from "../router";
import type { GatewayServices } from "./context";

/** The client-facing API: health, whoami, agents and jobs. */
export function apiRoutes(services: GatewayServices): Route[] {
  const { environment, clock, jobs } = services;
  return [
    {
      method: "GET",
      pattern: "/healthz",
      requires: null,
      handle: () => ok({ status: "ok", environment }),
    },
    {
      method: "GET",
      pattern: "/v1/auth/whoami",
      requires: "token",
      handle: ({ token }) =>
        ok({
          id: token.id,
          name: token.name,
          scopes: token.scopes,
          createdAt: token.createdAt,
          expiresAt: token.expiresAt,
          environment,
        }),
    },
    {
      method: "GET",
      pattern: "/v1/agents",
      requires: Scope.ReadAgents,
      handle: () => ok({ agents: AGENTS }),
    },
    {
      method: "POST",
      pattern: "/v1/jobs",
      requires: Scope.RunJobs,
      handle: async ({ req }) => {
        const { agent, input } = parseJobRequest(await readJsonBody(req));
        return ok(jobs.run(agent, input, clock.now()), 201);
      },
    },
    {
      method: "GET",
      pattern: "/v1/jobs/:id",
      requires: Scope.ReadJobs,
      handle: ({ params }) => {
        const job = jobs.get(params.id);
        if (!job) throw new ApiError(404, ApiErrorCode.NotFound, `no job ${params.id}; jobs are kept in memory until the gateway restarts`);
        return ok(job);
      },
    },
  ];
}

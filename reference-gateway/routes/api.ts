import { Scope } from "../../src/domain/scopes";
import { ApiError, ApiErrorCode } from "../errors";
import { ok, readJsonBody } from "../http-io";
import { logOutageRefusal } from "../log-outage";
import { JobStatus, parseJobRequest } from "../jobs";
import type { Route } from "../router";
import type { GatewayServices } from "./context";

/** The client-facing API: health, whoami, agents and jobs. */
export function apiRoutes(services: GatewayServices): Route[] {
  const { environment, clock, jobs, agents, requestLog } = services;
  const jobNotFound = (id: string): ApiError =>
    new ApiError(404, ApiErrorCode.NotFound, `no job ${id}; jobs are kept in memory until the gateway restarts`);
  return [
    {
      method: "GET",
      pattern: "/healthz",
      requires: null,
      handle: () => {
        // Out of service while this front cannot record (the load balancer's check): its traffic goes to the others.
        const refusal = logOutageRefusal(requestLog);
        if (refusal) throw refusal;
        return ok({ status: "ok", environment });
      },
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
      handle: () => ok({ agents: agents.list().map(({ id, name }) => ({ id, name })) }),
    },
    {
      method: "POST",
      pattern: "/v1/jobs",
      requires: Scope.RunJobs,
      handle: async ({ req }) => {
        const { agent, input, delaySeconds } = parseJobRequest(await readJsonBody(req), agents);
        return ok(jobs.run(agent, input, clock.now(), delaySeconds), 201);
      },
    },
    {
      method: "GET",
      pattern: "/v1/jobs/:id",
      requires: Scope.ReadJobs,
      handle: ({ params }) => {
        const job = jobs.get(params.id, clock.now());
        if (!job) throw jobNotFound(params.id);
        return ok(job);
      },
    },
    {
      method: "POST",
      pattern: "/v1/jobs/:id/cancel",
      requires: Scope.RunJobs,
      handle: ({ params }) => {
        const outcome = jobs.cancel(params.id, clock.now());
        if (!outcome) throw jobNotFound(params.id);
        const { job, cancelled } = outcome;
        if (!cancelled && job.status === JobStatus.Succeeded) {
          throw new ApiError(409, ApiErrorCode.Conflict, `job ${job.id} has already succeeded; only a queued job can be cancelled`);
        }
        return ok(job);
      },
    },
  ];
}

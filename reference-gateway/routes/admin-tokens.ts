import { ValidationError } from "../../src/domain/errors";
import { Scope } from "../../src/domain/scopes";
import { ApiError, ApiErrorCode } from "../errors";
import { ok, readJsonBody } from "../http-io";
import { MAX_ENTRIES_PER_TOKEN, type RequestQuery } from "../request-log";
import type { Route } from "../router";
import { requireMayChange, requireMayMint } from "../token-grants";
import { toMetadata, type TokenMetadata, type TokenRecord } from "../token-registry";
import { validateCreateToken } from "../token-validation";
import type { GatewayServices } from "./context";

const DEFAULT_REQUEST_LIMIT = 100;

/**
 * Token management: every route needs `admin:tokens` (which `admin:*` includes). What an `admin:tokens` caller may
 * not do to `admin:*` tokens is refused by token-grants.ts.
 */
export function adminTokenRoutes(services: GatewayServices): Route[] {
  const { clock, registry, requestLog } = services;
  const metadataOf = async (records: readonly TokenRecord[]): Promise<TokenMetadata[]> => {
    const lastUsed = await requestLog.lastUsedAt(records.map((r) => r.id));
    const now = clock.now().getTime();
    return records.map((record) => toMetadata(record, lastUsed.get(record.id) ?? null, now));
  };
  const metadata = async (record: TokenRecord): Promise<TokenMetadata> => (await metadataOf([record]))[0];
  const existing = async (id: string): Promise<TokenRecord> => {
    const record = await registry.get(id);
    if (!record) throw notFound(id);
    return record;
  };

  return [
    {
      method: "POST",
      pattern: "/v1/admin/tokens",
      requires: Scope.AdminTokens,
      handle: async ({ req, token }) => {
        const spec = validateCreateToken(await readJsonBody(req), clock.now().getTime());
        requireMayMint(token, spec);
        const { record, value } = await registry.create(spec);
        // The one place the API reveals a token value: the creator must copy it now, it is not stored.
        return ok({ token: value.reveal(), ...(await metadata(record)) }, 201);
      },
    },
    {
      method: "GET",
      pattern: "/v1/admin/tokens",
      requires: Scope.AdminTokens,
      handle: async ({ url }) => {
        const name = url.searchParams.get("name") ?? undefined;
        return ok({ tokens: await metadataOf(await registry.list({ name })) });
      },
    },
    {
      method: "GET",
      pattern: "/v1/admin/tokens/:id",
      requires: Scope.AdminTokens,
      handle: async ({ params }) => ok(await metadata(await existing(params.id))),
    },
    {
      method: "POST",
      pattern: "/v1/admin/tokens/:id/revoke",
      requires: Scope.AdminTokens,
      handle: async ({ params, token }) => {
        requireMayChange(token, await existing(params.id), "revoke");
        const revoked = await registry.revoke(params.id);
        if (!revoked) throw notFound(params.id);
        return ok(await metadata(revoked));
      },
    },
    {
      method: "POST",
      pattern: "/v1/admin/tokens/:id/suspend",
      requires: Scope.AdminTokens,
      handle: async ({ params, token }) => {
        requireMayChange(token, await existing(params.id), "suspend");
        const record = await registry.suspend(params.id);
        if (!record) throw notFound(params.id);
        if (record.revokedAt !== null) throw revokedConflict(params.id, "suspended");
        return ok(await metadata(record));
      },
    },
    {
      method: "POST",
      pattern: "/v1/admin/tokens/:id/reinstate",
      requires: Scope.AdminTokens,
      handle: async ({ params, token }) => {
        requireMayChange(token, await existing(params.id), "reinstate");
        const record = await registry.reinstate(params.id);
        if (!record) throw notFound(params.id);
        if (record.revokedAt !== null) throw revokedConflict(params.id, "reinstated");
        return ok(await metadata(record));
      },
    },
    {
      method: "GET",
      pattern: "/v1/admin/tokens/:id/consumers",
      requires: Scope.AdminTokens,
      handle: async ({ params, url }) => {
        const record = await existing(params.id);
        return ok({ consumers: await requestLog.consumers(record.id, parseSince(url.searchParams)) });
      },
    },
    {
      method: "GET",
      pattern: "/v1/admin/tokens/:id/requests",
      requires: Scope.AdminTokens,
      handle: async ({ params, url }) => {
        const record = await existing(params.id);
        return ok({ requests: await requestLog.entries(record.id, parseRequestQuery(url.searchParams)) });
      },
    },
  ];
}

function notFound(id: string): ApiError {
  return new ApiError(404, ApiErrorCode.NotFound, `no token ${id}; list tokens with GET /v1/admin/tokens`);
}

function revokedConflict(id: string, verb: string): ApiError {
  return new ApiError(409, ApiErrorCode.Conflict, `token ${id} is revoked and cannot be ${verb}; revocation is final`);
}

function parseSince(search: URLSearchParams): number | undefined {
  const since = search.get("since");
  if (since === null) return undefined;
  const ms = Date.parse(since);
  if (Number.isNaN(ms)) {
    throw new ValidationError("consumers query", [{ field: "since", message: "must be an ISO 8601 date-time, e.g. 2026-05-01T12:00:00.000Z" }]);
  }
  return ms;
}

function parseRequestQuery(search: URLSearchParams): RequestQuery {
  const since = search.get("since");
  const limit = search.get("limit");
  const sinceMs = since === null ? undefined : Date.parse(since);
  const limitValue = limit === null ? DEFAULT_REQUEST_LIMIT : /^[0-9]{1,4}$/.test(limit) ? Number(limit) : Number.NaN;
  const problems = [
    ...(sinceMs !== undefined && Number.isNaN(sinceMs)
      ? [{ field: "since", message: "must be an ISO 8601 date-time, e.g. 2026-05-01T12:00:00.000Z" }]
      : []),
    ...(limitValue >= 1 && limitValue <= MAX_ENTRIES_PER_TOKEN
      ? []
      : [{ field: "limit", message: `must be a whole number from 1 to ${MAX_ENTRIES_PER_TOKEN} (default ${DEFAULT_REQUEST_LIMIT})` }]),
  ];
  if (problems.length > 0) throw new ValidationError("request log query", problems);
  return { sinceMs, limit: limitValue };
}

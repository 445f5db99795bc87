import { adminTokenRoutes } from "../../reference-gateway/routes/admin-tokens";
import type { GatewayServices } from "../../reference-gateway/routes/context";
import type { Route } from "../../reference-gateway/router";
import type { ReferenceGateway } from "../support/reference-gateway";
import { call, createToken, type ApiResponse } from "./http";

/** Route tables are read without running a handler: services are never touched. */
export const NO_SERVICES = {} as GatewayServices;

/** The gateway's token-management routes, from its own table: the cases of the admin:tokens suites. */
export const ADMIN_ROUTES: readonly Route[] = adminTokenRoutes(NO_SERVICES);

export const label = (route: Route): string => `${route.method} ${route.pattern}`;

/**
 * Calls one token-management route as `token` on a target token made for that call (so that revoke, suspend and
 * reinstate each start from an active target), and checks the answer is the route's success.
 */
export async function callAdminRoute(gateway: ReferenceGateway, route: Route, token: string): Promise<{ res: ApiResponse; targetId: string }> {
  const target = await createToken(gateway.url, gateway.adminToken, { name: "route-target", scopes: ["run:jobs"] });
  const path = route.pattern.replace(":id", target.id);
  const body = route.method === "POST" && route.pattern === "/v1/admin/tokens" ? { name: "minted-by-token-admin", scopes: ["run:jobs"] } : undefined;
  return { res: await call(gateway.url, route.method, path, { token, body }), targetId: target.id };
}

/** What a successful call of `route` answers (status and the fields that show it did its work). */
export function expectAdminRouteSucceeded(route: Route, res: ApiResponse, targetId: string): void {
  const created = route.pattern === "/v1/admin/tokens" && route.method === "POST";
  expect(res.status).toBe(created ? 201 : 200);
  if (route.pattern.endsWith("/:id")) expect(res.body.id).toBe(targetId);
  if (route.pattern.endsWith("/revoke")) expect(res.body.status).toBe("revoked");
  if (route.pattern.endsWith("/suspend")) expect(res.body.status).toBe("suspended");
  if (route.pattern.endsWith("/reinstate")) expect(res.body.status).toBe("active");
  if (route.pattern.endsWith("/requests")) expect(res.body.requests).toEqual(expect.any(Array));
  if (route.pattern.endsWith("/consumers")) expect(res.body.consumers).toEqual(expect.any(Array));
  if (route.pattern === "/v1/admin/tokens" && route.method === "GET") expect(res.body.tokens.map((t: { id: string }) => t.id)).toContain(targetId);
  if (created) expect(res.body).toMatchObject({ name: "minted-by-token-admin", scopes: ["run:jobs"], token: expect.stringMatching(/^openclaw_gw_dev_/) });
}

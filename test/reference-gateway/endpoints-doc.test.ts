import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { apiRoutes } from "../../reference-gateway/routes/api";
import { catalogRoutes } from "../../reference-gateway/routes/catalog";
import { NO_SERVICES, ADMIN_ROUTES, label } from "./token-admin-routes";

/** docs/gateway-api.md's "Endpoints" table says what the gateway's route tables require, row by row. */
describe("docs/gateway-api.md: the Endpoints table", () => {
  const doc = readFileSync(resolve(__dirname, "../../docs/gateway-api.md"), "utf8");
  const table = doc.slice(doc.indexOf("## Endpoints"), doc.indexOf("### `GET /healthz`"));
  /** "`GET /v1/admin/tokens/{id}/requests[?since=&limit=]` | `admin:tokens` |" → ["GET /v1/admin/tokens/:id/requests", "admin:tokens"]. */
  const rows = new Map(
    [...table.matchAll(/^\| `([A-Z]+) ([^`[]+)(?:\[[^\]]*\])?` \| ([^|]+) \|$/gm)].map((m) => [
      `${m[1]} ${m[2].replace(/\{(\w+)\}/g, ":$1")}`,
      m[3].replace(/ \(extension\)$/, "").trim(),
    ]),
  );
  const routes = [...apiRoutes(NO_SERVICES), ...catalogRoutes(NO_SERVICES), ...ADMIN_ROUTES];

  it.each(routes.map((r) => [label(r), r] as const))("%s is documented with the scope it requires", (_label, route) => {
    const documented = route.requires === null ? "nothing" : route.requires === "token" ? "any valid token" : `\`${route.requires}\``;

    expect(rows.get(label(route))).toBe(documented);
  });

  it("documents no route the gateway does not have", () => {
    expect([...rows.keys()].sort()).toEqual(routes.map(label).sort());
  });
});

import { scopeForEndpoint } from "../../cli/doctor/endpoints";
import { scopeSatisfies } from "../../src/domain/scopes";
import { ADMIN_ROUTES, label } from "../reference-gateway/token-admin-routes";

/** The doctor's endpoint table agrees with the reference gateway's token-management routes (admin:tokens). */
describe("doctor: the scope of each token-management endpoint", () => {
  it.each(ADMIN_ROUTES.map((r) => [label(r), r] as const))("%s needs admin:tokens, which admin:* and admin:tokens satisfy", (_label, route) => {
    const needed = scopeForEndpoint(`${route.method} ${route.pattern.replace(":id", "tok_0123456789abcdef")}`);

    expect(needed).toEqual({ known: true, scope: route.requires });
    expect(route.requires).toBe("admin:tokens");
    expect(scopeSatisfies(["admin:tokens"], "admin:tokens")).toBe(true);
    expect(scopeSatisfies(["admin:*"], "admin:tokens")).toBe(true);
    expect(scopeSatisfies(["admin:tools"], "admin:tokens")).toBe(false);
  });
});

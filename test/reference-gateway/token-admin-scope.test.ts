import { apiRoutes } from "../../reference-gateway/routes/api";
import { catalogRoutes } from "../../reference-gateway/routes/catalog";
import { MAX_TOKEN_ADMIN_EXPIRY_SECONDS } from "../../reference-gateway/token-validation";
import { runGatewayCli, startReferenceGateway, type ReferenceGateway } from "../support/reference-gateway";
import { call, createToken } from "./http";
import { ADMIN_ROUTES, callAdminRoute, expectAdminRouteSucceeded, label, NO_SERVICES } from "./token-admin-routes";

/**
 * `admin:tokens`, the token-management scope (docs/gateway-api.md, "Token management scope"), standalone: every
 * token-management route and whoami, nothing else, no escalation to `admin:*`, and the self-rotation primitive.
 * front-token-admin.test.ts checks the same scope in front of an upstream.
 */

const DAY_S = 86_400;
const SEVEN_DAYS_S = 7 * DAY_S;

const CLIENT_ROUTES = [...apiRoutes(NO_SERVICES), ...catalogRoutes(NO_SERVICES)];

/** A token's life, to the second: the gateway reads its clock for the expiry a moment before `createdAt`. */
const lifeSeconds = (metadata: { createdAt: string; expiresAt: string }): number =>
  Math.round((Date.parse(metadata.expiresAt) - Date.parse(metadata.createdAt)) / 1000);

describe("admin:tokens on the standalone gateway", () => {
  let gateway: ReferenceGateway;
  let tokenAdmin: { id: string; token: string };

  beforeAll(async () => {
    gateway = await startReferenceGateway();
    tokenAdmin = await createToken(gateway.url, gateway.adminToken, { name: "rotator-credential", scopes: ["admin:tokens"], expiresInSeconds: SEVEN_DAYS_S });
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  describe("what it may call", () => {
    it("has a route table to test: every token-management route, and client routes that need a scope", () => {
      expect(ADMIN_ROUTES.map(label)).toEqual([
        "POST /v1/admin/tokens",
        "GET /v1/admin/tokens",
        "GET /v1/admin/tokens/:id",
        "POST /v1/admin/tokens/:id/revoke",
        "POST /v1/admin/tokens/:id/suspend",
        "POST /v1/admin/tokens/:id/reinstate",
        "GET /v1/admin/tokens/:id/consumers",
        "GET /v1/admin/tokens/:id/requests",
      ]);
      expect(CLIENT_ROUTES.filter((r) => r.requires !== null && r.requires !== "token").length).toBeGreaterThanOrEqual(10);
    });

    it.each(ADMIN_ROUTES.map((r) => [label(r), r] as const))("%s is allowed", async (_label, route) => {
      // Act
      const { res, targetId } = await callAdminRoute(gateway, route, tokenAdmin.token);

      // Assess
      expectAdminRouteSucceeded(route, res, targetId);
    });

    it("GET /v1/auth/whoami is allowed and names the one scope", async () => {
      const res = await call(gateway.url, "GET", "/v1/auth/whoami", { token: tokenAdmin.token });

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: tokenAdmin.id, scopes: ["admin:tokens"] });
    });

    it.each(CLIENT_ROUTES.filter((r) => r.requires !== null && r.requires !== "token").map((r) => [label(r), r] as const))(
      "%s is refused with 403 insufficient_scope naming the route's scope",
      async (_label, route) => {
        // Act
        const res = await call(gateway.url, route.method, route.pattern.replace(":id", "agt_echo"), {
          token: tokenAdmin.token,
          body: route.method === "GET" ? undefined : {},
        });

        // Assess
        expect(res.status).toBe(403);
        expect(res.body.error).toEqual({ code: "insufficient_scope", message: `insufficient scope: requires ${route.requires}`, required_scope: route.requires });
        expect(res.headers.get("www-authenticate")).toBe(`Bearer error="insufficient_scope", scope="${route.requires}"`);
      },
    );

    it("changed nothing through the refused routes: no tool, no agent, no job", async () => {
      const tools = await call(gateway.url, "GET", "/v1/tools", { token: gateway.adminToken });
      const agents = await call(gateway.url, "GET", "/v1/agents", { token: gateway.adminToken });

      expect(tools.body.tools).toEqual([]);
      expect(agents.body.agents.map((a: { id: string }) => a.id).sort()).toEqual(["agt_echo", "agt_summarizer"]);
    });
  });

  describe("no escalation", () => {
    const namesOf = async (name: string): Promise<string[]> => (await gateway.listTokens(name)).map((t) => t.id);

    it.each([
      ["admin:* alone", ["admin:*"]],
      ["admin:* with another scope", ["run:jobs", "admin:*"]],
    ])("refuses to create a token with %s (403, nothing created)", async (_case, scopes) => {
      // Act
      const res = await call(gateway.url, "POST", "/v1/admin/tokens", { token: tokenAdmin.token, body: { name: "escalated", scopes, expiresInSeconds: 3600 } });

      // Assess
      expect(res.status).toBe(403);
      expect(res.body.error).toEqual({
        code: "insufficient_scope",
        message: "insufficient scope: only an admin:* token may create a token with admin:*; this token manages tokens short of admin:*",
        required_scope: "admin:*",
      });
      expect(await namesOf("escalated")).toEqual([]);
    });

    it.each([
      ["without an expiry", {}, "expiresInSeconds", /^required with admin:tokens: a token-management credential must expire within 30 days/],
      ["for 31 days", { expiresInSeconds: 31 * DAY_S }, "expiresInSeconds", /^at most 30 days \(2592000 seconds\) with admin:tokens/],
      ["until a date 31 days out", { expiresAt: "+31d" }, "expiresAt", /^at most 30 days \(2592000 seconds\) with admin:tokens/],
    ])("refuses to create an admin:tokens token %s (400, nothing created), whoever asks", async (_case, expiry, field, message) => {
      const body = (name: string) => ({
        name,
        scopes: ["admin:tokens"],
        ...("expiresAt" in expiry ? { expiresAt: new Date(Date.now() + 31 * DAY_S * 1000).toISOString() } : expiry),
      });

      // Act: the token-management credential, and admin:* too (the rule is the credential's, not the caller's)
      const byTokenAdmin = await call(gateway.url, "POST", "/v1/admin/tokens", { token: tokenAdmin.token, body: body("long-lived-a") });
      const byAdmin = await call(gateway.url, "POST", "/v1/admin/tokens", { token: gateway.adminToken, body: body("long-lived-b") });

      // Assess
      for (const res of [byTokenAdmin, byAdmin]) {
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe("invalid_request");
        expect(res.body.error.problems).toEqual([{ field, message: expect.stringMatching(message) }]);
      }
      expect([...(await namesOf("long-lived-a")), ...(await namesOf("long-lived-b"))]).toEqual([]);
    });

    it("creates an admin:tokens token for exactly the documented maximum", async () => {
      const res = await call(gateway.url, "POST", "/v1/admin/tokens", {
        token: tokenAdmin.token,
        body: { name: "longest-allowed", scopes: ["admin:tokens"], expiresInSeconds: MAX_TOKEN_ADMIN_EXPIRY_SECONDS },
      });

      expect(MAX_TOKEN_ADMIN_EXPIRY_SECONDS).toBe(30 * DAY_S);
      expect(res.status).toBe(201);
      expect(lifeSeconds(res.body)).toBe(30 * DAY_S);
    });

    it.each(["revoke", "suspend", "reinstate"])("refuses to %s an admin:* token (403), which stays active", async (verb) => {
      // Act
      const res = await call(gateway.url, "POST", `/v1/admin/tokens/${gateway.adminTokenId}/${verb}`, { token: tokenAdmin.token });

      // Assess
      expect(res.status).toBe(403);
      expect(res.body.error).toEqual({
        code: "insufficient_scope",
        message: `insufficient scope: ${gateway.adminTokenId} holds admin:* (a break-glass credential); only an admin:* token may ${verb} it`,
        required_scope: "admin:*",
      });
      const admin = await call(gateway.url, "GET", `/v1/admin/tokens/${gateway.adminTokenId}`, { token: tokenAdmin.token });
      expect(admin.body).toMatchObject({ status: "active", revokedAt: null, suspendedAt: null });
      expect((await call(gateway.url, "GET", "/v1/auth/whoami", { token: gateway.adminToken })).status).toBe(200);
    });

    it("refuses to reinstate an admin:* token that admin:* suspended: lifting it stays admin:*'s call", async () => {
      const breakGlass = await createToken(gateway.url, gateway.adminToken, { name: "break-glass-2", scopes: ["admin:*"] });
      await call(gateway.url, "POST", `/v1/admin/tokens/${breakGlass.id}/suspend`, { token: gateway.adminToken });

      const res = await call(gateway.url, "POST", `/v1/admin/tokens/${breakGlass.id}/reinstate`, { token: tokenAdmin.token });

      expect(res.status).toBe(403);
      expect((await call(gateway.url, "GET", `/v1/admin/tokens/${breakGlass.id}`, { token: tokenAdmin.token })).body.status).toBe("suspended");
    });

    it("answers 404 for an unknown token before any escalation check", async () => {
      const res = await call(gateway.url, "POST", "/v1/admin/tokens/tok_0000000000000000/revoke", { token: tokenAdmin.token });

      expect(res.status).toBe(404);
    });

    it("admin:* keeps full control: it creates, suspends, reinstates and revokes an admin:* token", async () => {
      const created = await call(gateway.url, "POST", "/v1/admin/tokens", { token: gateway.adminToken, body: { name: "second-admin", scopes: ["admin:*"] } });
      expect(created.status).toBe(201);
      const statuses: string[] = [];
      for (const verb of ["suspend", "reinstate", "revoke"]) {
        const res = await call(gateway.url, "POST", `/v1/admin/tokens/${created.body.id}/${verb}`, { token: gateway.adminToken });
        statuses.push(`${res.status} ${res.body.status}`);
      }

      expect(statuses).toEqual(["200 suspended", "200 active", "200 revoked"]);
    });

    it("may revoke another admin:tokens token, and read the request log of any token, admin:* ones included", async () => {
      const other = await createToken(gateway.url, tokenAdmin.token, { name: "sibling", scopes: ["admin:tokens"], expiresInSeconds: 3600 });

      const inspected = await call(gateway.url, "GET", `/v1/admin/tokens/${gateway.adminTokenId}/requests`, { token: tokenAdmin.token });
      const revoked = await call(gateway.url, "POST", `/v1/admin/tokens/${other.id}/revoke`, { token: tokenAdmin.token });

      expect(inspected.status).toBe(200);
      expect(Array.isArray(inspected.body.requests)).toBe(true);
      expect(revoked.body.status).toBe("revoked");
    });
  });
});

describe("admin:tokens: the rotator credential rotating itself", () => {
  let gateway: ReferenceGateway;

  beforeAll(async () => {
    gateway = await startReferenceGateway();
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  const bootstrap = (...extra: string[]) =>
    runGatewayCli([
      "auth", "create-token", "--state-dir", gateway.stateDir, "--environment", "dev", "--name", "rotator-credential", "--scope", "admin:tokens", "--json", ...extra,
    ]);

  it("the gateway CLI refuses an admin:tokens token without --expires-in, or beyond 30 days, and creates nothing", async () => {
    const without = await bootstrap();
    const tooLong = await bootstrap("--expires-in", "31d");

    expect(without.code).toBe(2);
    expect(without.stdout).toBe("");
    expect(without.stderr).toMatch(/expiresInSeconds: required with admin:tokens: .* with the CLI, --expires-in 7d\)/);
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toMatch(/expiresInSeconds: at most 30 days/);
    const help = await runGatewayCli(["help"]);
    expect(help.stdout).toContain("A token with admin:tokens (token management alone, e.g. the rotator's credential) needs --expires-in of at most 30d.");
    expect(await gateway.listTokens("rotator-credential")).toEqual([]);
  });

  it("bootstraps with the CLI, then each credential mints its successor (admin:tokens, 7d), which revokes it; the predecessor is refused", async () => {
    // Arrange: a human with the state dir (admin:*-equivalent) bootstraps the first credential.
    const first = await bootstrap("--expires-in", "7d");
    expect(first.code).toBe(0);
    let current = JSON.parse(first.stdout) as { id: string; token: string; expiresAt: string };
    const chain = [current.id];

    for (let cycle = 1; cycle <= 3; cycle++) {
      // At 80% of the 7 days, as the rotator would.
      await gateway.setClockOffset(Math.round(cycle * 0.8 * SEVEN_DAYS_S * 1000));

      // Act: mint the successor with the current credential, then revoke the current one with the successor.
      const minted = await call(gateway.url, "POST", "/v1/admin/tokens", {
        token: current.token,
        body: { name: "rotator-credential", scopes: ["admin:tokens"], expiresInSeconds: SEVEN_DAYS_S },
      });
      expect(minted.status).toBe(201);
      const successor = minted.body as { id: string; token: string; createdAt: string; expiresAt: string };
      const revoked = await call(gateway.url, "POST", `/v1/admin/tokens/${current.id}/revoke`, { token: successor.token });

      // Assess
      expect(lifeSeconds(successor)).toBe(SEVEN_DAYS_S);
      expect(revoked.status).toBe(200);
      expect(revoked.body).toMatchObject({ id: current.id, status: "revoked" });
      const oldWhoami = await call(gateway.url, "GET", "/v1/auth/whoami", { token: current.token });
      const oldMint = await call(gateway.url, "POST", "/v1/admin/tokens", { token: current.token, body: { name: "late", scopes: ["admin:tokens"], expiresInSeconds: 60 } });
      expect([oldWhoami.status, oldWhoami.body.error.code]).toEqual([401, "invalid_token"]);
      expect([oldMint.status, oldMint.body.error.code]).toEqual([401, "invalid_token"]);
      const newWhoami = await call(gateway.url, "GET", "/v1/auth/whoami", { token: successor.token });
      expect(newWhoami.body).toMatchObject({ id: successor.id, scopes: ["admin:tokens"] });

      current = successor;
      chain.push(successor.id);
    }

    // One active credential at the end, every predecessor revoked; no "late" token was minted.
    const tokens = await gateway.listTokens("rotator-credential");
    expect(tokens.map((t) => [t.id, t.status])).toEqual(chain.map((id, i) => [id, i === chain.length - 1 ? "active" : "revoked"]));
    expect(await gateway.listTokens("late")).toEqual([]);
  });
});

import { startReferenceGateway, type ReferenceGateway } from "../support/reference-gateway";
import { call, createToken } from "./http";

/** Every row of the guide's scope table has real endpoints in standalone mode, each refused without its scope. */
describe("reference gateway: the guide's scope table, row by row", () => {
  let gateway: ReferenceGateway;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    gateway = await startReferenceGateway();
    for (const scope of ["read:agents", "read:jobs", "run:jobs", "write:agents", "admin:tools"]) {
      tokens[scope] = (await createToken(gateway.url, gateway.adminToken, { name: scope.replace(/[:*]/g, "-"), scopes: [scope] })).token;
    }
    // The guide's "scoped, short-lived admin token": token management alone, within 30 days.
    tokens["admin:tokens"] = (await createToken(gateway.url, gateway.adminToken, { name: "admin-tokens", scopes: ["admin:tokens"], expiresInSeconds: 7 * 86_400 })).token;
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it("read:agents lists and inspects agents; another scope is refused", async () => {
    const one = await call(gateway.url, "GET", "/v1/agents/agt_echo", { token: tokens["read:agents"] });
    const missing = await call(gateway.url, "GET", "/v1/agents/agt_nope", { token: tokens["read:agents"] });
    const denied = await call(gateway.url, "GET", "/v1/agents/agt_echo", { token: tokens["run:jobs"] });

    expect(one.status).toBe(200);
    expect(one.body).toEqual({ id: "agt_echo", name: "echo", config: {} });
    expect(missing.status).toBe(404);
    expect(denied.status).toBe(403);
    expect(denied.body.error.required_scope).toBe("read:agents");
  });

  it("write:agents creates and updates agent configs, which read:agents then sees; read:agents cannot write", async () => {
    const created = await call(gateway.url, "POST", "/v1/agents", { token: tokens["write:agents"], body: { name: "triage", config: { model: "m1" } } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const updated = await call(gateway.url, "PATCH", `/v1/agents/${id}`, { token: tokens["write:agents"], body: { config: { model: "m2" } } });
    const seen = await call(gateway.url, "GET", `/v1/agents/${id}`, { token: tokens["read:agents"] });
    const listed = await call(gateway.url, "GET", "/v1/agents", { token: tokens["read:agents"] });
    const denied = await call(gateway.url, "POST", "/v1/agents", { token: tokens["read:agents"], body: { name: "x" } });
    const invalid = await call(gateway.url, "POST", "/v1/agents", { token: tokens["write:agents"], body: { name: "", config: [], extra: 1 } });

    expect(updated.status).toBe(200);
    expect(seen.body).toEqual({ id, name: "triage", config: { model: "m2" } });
    expect(listed.body.agents).toContainEqual({ id, name: "triage" });
    expect(denied.status).toBe(403);
    expect(denied.body.error.required_scope).toBe("write:agents");
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.problems.map((p: { field: string }) => p.field).sort()).toEqual(["config", "extra", "name"]);
  });

  it("run:jobs submits and cancels a job; read:jobs reads its status; a finished job cannot be cancelled", async () => {
    const queued = await call(gateway.url, "POST", "/v1/jobs", { token: tokens["run:jobs"], body: { agentId: "agt_echo", input: 1, delaySeconds: 600 } });
    expect(queued.body.status).toBe("queued");
    const cancelled = await call(gateway.url, "POST", `/v1/jobs/${queued.body.id}/cancel`, { token: tokens["run:jobs"] });
    const read = await call(gateway.url, "GET", `/v1/jobs/${queued.body.id}`, { token: tokens["read:jobs"] });
    const readerCannotCancel = await call(gateway.url, "POST", `/v1/jobs/${queued.body.id}/cancel`, { token: tokens["read:jobs"] });
    const done = await call(gateway.url, "POST", "/v1/jobs", { token: tokens["run:jobs"], body: { agentId: "agt_echo", input: 2 } });
    const tooLate = await call(gateway.url, "POST", `/v1/jobs/${done.body.id}/cancel`, { token: tokens["run:jobs"] });

    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: "cancelled", output: null });
    expect(read.body.status).toBe("cancelled");
    expect(readerCannotCancel.status).toBe(403);
    expect(readerCannotCancel.body.error.required_scope).toBe("run:jobs");
    expect(done.body.status).toBe("succeeded");
    expect(tooLate.status).toBe(409);
    expect(tooLate.body.error.code).toBe("conflict");
  });

  it("admin:tools registers, updates and removes custom tools; write:agents cannot", async () => {
    const registered = await call(gateway.url, "POST", "/v1/tools", { token: tokens["admin:tools"], body: { name: "lookup", description: "v1" } });
    expect(registered.status).toBe(201);
    const id = registered.body.id as string;
    const duplicate = await call(gateway.url, "POST", "/v1/tools", { token: tokens["admin:tools"], body: { name: "lookup" } });
    const updated = await call(gateway.url, "PATCH", `/v1/tools/${id}`, { token: tokens["admin:tools"], body: { description: "v2" } });
    const denied = await call(gateway.url, "DELETE", `/v1/tools/${id}`, { token: tokens["write:agents"] });
    const removed = await call(gateway.url, "DELETE", `/v1/tools/${id}`, { token: tokens["admin:tools"] });
    const listed = await call(gateway.url, "GET", "/v1/tools", { token: gateway.adminToken });

    expect(duplicate.status).toBe(400);
    expect(updated.body).toMatchObject({ id, name: "lookup", description: "v2" });
    expect(denied.status).toBe(403);
    expect(denied.body.error.required_scope).toBe("admin:tools");
    expect(removed.status).toBe(200);
    expect(listed.body.tools).toEqual([]);
  });

  it("admin:tokens is the guide's scoped, short-lived admin token: token management, none of the rows above, never admin:*", async () => {
    const minted = await call(gateway.url, "POST", "/v1/admin/tokens", { token: tokens["admin:tokens"], body: { name: "ci-runner", scopes: ["run:jobs"], expiresInSeconds: 3600 } });
    const escalated = await call(gateway.url, "POST", "/v1/admin/tokens", { token: tokens["admin:tokens"], body: { name: "ci-admin", scopes: ["admin:*"], expiresInSeconds: 3600 } });
    const rows = [
      ["GET", "/v1/agents/agt_echo", "read:agents"],
      ["GET", "/v1/jobs/job_x", "read:jobs"],
      ["POST", "/v1/jobs", "run:jobs"],
      ["POST", "/v1/agents", "write:agents"],
      ["GET", "/v1/tools", "admin:tools"],
    ] as const;
    const refused = await Promise.all(rows.map(([method, path]) => call(gateway.url, method, path, { token: tokens["admin:tokens"], body: method === "POST" ? {} : undefined })));

    expect(minted.status).toBe(201);
    expect(escalated.status).toBe(403);
    expect(escalated.body.error.required_scope).toBe("admin:*");
    expect(refused.map((r) => [r.status, r.body.error.required_scope])).toEqual(rows.map(([, , scope]) => [403, scope]));
  });

  it("admin:* is full control including token management: every row above, and every token", async () => {
    const rows = [
      ["GET", "/v1/agents/agt_echo"],
      ["POST", "/v1/agents", { name: "by-admin" }],
      ["POST", "/v1/jobs", { agentId: "agt_echo", input: 1 }],
      ["GET", "/v1/tools"],
      ["POST", "/v1/admin/tokens", { name: "by-admin", scopes: ["admin:*"] }],
      ["GET", "/v1/admin/tokens"],
    ] as const;
    const answered = await Promise.all(rows.map(([method, path, body]) => call(gateway.url, method, path, { token: gateway.adminToken, body })));

    expect(answered.map((r) => r.status)).toEqual([200, 201, 201, 200, 201, 200]);
  });

  it("answers 405 with Allow for a known path and another method", async () => {
    const res = await call(gateway.url, "DELETE", "/v1/agents/agt_echo", { token: gateway.adminToken });

    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, PATCH");
  });
});

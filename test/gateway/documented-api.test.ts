import { createServer, IncomingMessage, ServerResponse } from "node:http";
import { EnvironmentMismatchError } from "../../src/domain/errors";
import { Sensitive } from "../../src/domain/sensitive";
import { DocumentedApiGateway } from "../../src/gateway/documented-api";

/**
 * A gateway that misbehaves in a way the reference gateway never will: it answers a dev mint with a live (prod)
 * token. The client must revoke it and refuse, so that no token crosses an environment boundary.
 */
async function misconfiguredGateway() {
  const calls: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    calls.push(`${req.method} ${req.url}`);
    res.setHeader("Content-Type", "application/json");
    if (req.method === "POST" && req.url === "/v1/admin/tokens") {
      res.statusCode = 201;
      res.end(JSON.stringify({ token: "openclaw_gw_live_wrong-environment-token", id: "tok_0123456789abcdef", name: "ci-runner-x", scopes: ["run:jobs"], createdAt: new Date().toISOString(), expiresAt: null, lastUsedAt: null, status: "active" }));
      return;
    }
    res.end(JSON.stringify({ id: "tok_0123456789abcdef", status: "revoked" }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, calls, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe("DocumentedApiGateway environment isolation", () => {
  it("revokes and refuses a minted token whose prefix names another environment", async () => {
    const gateway = await misconfiguredGateway();
    try {
      const client = new DocumentedApiGateway({ url: gateway.url, environment: "dev", adminToken: new Sensitive("openclaw_gw_dev_fake-admin-token"), userAgent: "test" });
      const error = await client.mint({ name: "ci-runner-x", scopes: ["run:jobs"], expiresAt: new Date(Date.now() + 86400_000) }).catch((e: Error) => e);
      expect(error).toBeInstanceOf(EnvironmentMismatchError);
      expect((error as Error).message).toMatch(/minted token tok_0123456789abcdef without the dev prefix; it was revoked/);
      expect((error as Error).message).not.toContain("wrong-environment-token");
      expect(gateway.calls).toEqual(["POST /v1/admin/tokens", "POST /v1/admin/tokens/tok_0123456789abcdef/revoke"]);
    } finally {
      await gateway.close();
    }
  });

  it("refuses to send a token of another environment, before any request", async () => {
    const gateway = await misconfiguredGateway();
    try {
      const client = new DocumentedApiGateway({ url: gateway.url, environment: "dev", adminToken: new Sensitive("openclaw_gw_dev_fake-admin-token"), userAgent: "test" });
      await expect(client.whoami(new Sensitive("openclaw_gw_live_fake-prod-token"))).rejects.toThrow(/the token is a prod token, but .* is the dev gateway/);
      expect(() => new DocumentedApiGateway({ url: gateway.url, environment: "dev", adminToken: new Sensitive("openclaw_gw_stage_ADMIN0123456789"), userAgent: "test" })).toThrow(
        /the admin credential is a stage token/,
      );
      expect(gateway.calls).toEqual([]);
    } finally {
      await gateway.close();
    }
  });
});

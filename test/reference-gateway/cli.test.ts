import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runGatewayCli, startReferenceGateway, type ReferenceGateway } from "../support/reference-gateway";
import { call } from "./http";

describe("reference gateway: admin CLI next to a running server", () => {
  let gateway: ReferenceGateway;

  beforeAll(async () => {
    gateway = await startReferenceGateway();
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  const createWithCli = async (name: string, ...extra: string[]) => {
    const result = await runGatewayCli([
      "auth", "create-token", "--state-dir", gateway.stateDir, "--environment", "dev", "--name", name, "--scope", "read:agents", ...extra,
    ]);
    expect(result.code).toBe(0);
    return result;
  };

  describe("auth create-token", () => {
    it("mints a token the running server accepts without a restart", async () => {
      // Act
      const created = JSON.parse((await createWithCli("cli-made", "--expires-in", "90d", "--json")).stdout);
      const res = await call(gateway.url, "GET", "/v1/auth/whoami", { token: created.token });

      // Assess
      expect(created).toEqual({ id: expect.stringMatching(/^tok_/), token: expect.stringMatching(/^openclaw_gw_dev_/), name: "cli-made", scopes: ["read:agents"], expiresAt: expect.any(String) });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: created.id, name: "cli-made" });
    });

    it("prints only the token on stdout without --json, everything else on stderr", async () => {
      // Act
      const result = await createWithCli("plain");

      // Assess
      expect(result.stdout).toMatch(/^openclaw_gw_dev_[A-Za-z0-9_-]+\n$/);
      expect(result.stderr).toContain("shown only once");
      expect(result.stderr).not.toContain(result.stdout.trim());
    });

    it("refuses a state dir of another environment", async () => {
      // Act
      const result = await runGatewayCli([
        "auth", "create-token", "--state-dir", gateway.stateDir, "--environment", "prod", "--name", "wrong-env", "--scope", "read:agents",
      ]);

      // Assess
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain('belongs to environment "dev", not "prod"');
    });

    it.each([
      ["an unknown option", ["--colour", "red"], "unknown option --colour"],
      ["a bad duration", ["--expires-in", "3 months"], "--expires-in"],
      ["an unknown scope", ["--scope", "read:everything"], "scopes[1]"],
      ["a bad environment", ["--environment", "qa"], "--environment"],
    ])("exits 2 on %s", async (_label, extra, message) => {
      // Act
      const base = ["auth", "create-token", "--state-dir", gateway.stateDir, "--name", "usage", "--scope", "read:agents"];
      const result = await runGatewayCli([...base, ...(extra.includes("--environment") ? [] : ["--environment", "dev"]), ...extra]);

      // Assess
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stdout).toBe("");
    });
  });

  describe("auth revoke", () => {
    it("makes the running server refuse the token on its next request", async () => {
      // Prepare
      const created = JSON.parse((await createWithCli("to-revoke", "--json")).stdout);
      const before = await call(gateway.url, "GET", "/v1/agents", { token: created.token });

      // Act
      const result = await runGatewayCli(["auth", "revoke", created.id, "--state-dir", gateway.stateDir]);
      const after = await call(gateway.url, "GET", "/v1/agents", { token: created.token });

      // Assess
      expect(before.status).toBe(200);
      expect(result.code).toBe(0);
      expect(after.status).toBe(401);
      expect(after.body.error.code).toBe("invalid_token");
    });

    it("fails with exit 1 for an unknown id and exit 2 without one", async () => {
      // Act
      const unknown = await runGatewayCli(["auth", "revoke", "tok_0000000000000000", "--state-dir", gateway.stateDir]);
      const missing = await runGatewayCli(["auth", "revoke", "--state-dir", gateway.stateDir]);

      // Assess
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain("no token tok_0000000000000000");
      expect(missing.code).toBe(2);
    });
  });

  describe("auth list", () => {
    it("lists metadata, including tokens the server created, never values or hashes", async () => {
      // Act
      const result = await runGatewayCli(["auth", "list", "--state-dir", gateway.stateDir, "--json"]);
      const table = await runGatewayCli(["auth", "list", "--state-dir", gateway.stateDir]);

      // Assess
      expect(result.code).toBe(0);
      const { tokens } = JSON.parse(result.stdout);
      expect(tokens).toEqual(expect.arrayContaining([expect.objectContaining({ id: gateway.adminTokenId, name: "test-admin", status: "active" })]));
      expect(result.stdout).not.toMatch(/openclaw_gw_|sha256|lookupId/);
      expect(table.stdout).toContain(gateway.adminTokenId);
      expect(table.stdout).not.toContain(gateway.adminToken);
    });
  });

  describe("serve", () => {
    it("refuses to serve a state dir of another environment", async () => {
      // Act
      const result = await runGatewayCli(["serve", "--environment", "stage", "--state-dir", gateway.stateDir]);

      // Assess
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('belongs to environment "dev", not "stage"');
    });

    it("exits 2 with the usage on bad arguments", async () => {
      // Prepare
      const emptyDir = await mkdtemp(join(tmpdir(), "reference-gateway-usage-"));

      // Act
      const result = await runGatewayCli(["serve", "--environment", "dev", "--state-dir", emptyDir, "--port", "99999"]);
      await rm(emptyDir, { recursive: true, force: true });

      // Assess
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("--port 99999 must be a whole number from 0 to 65535");
      expect(result.stderr).toContain("usage:");
    });
  });
});

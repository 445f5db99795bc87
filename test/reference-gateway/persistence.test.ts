import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { systemClock } from "../../src/domain/clock";
import { TokenRegistry } from "../../reference-gateway/token-registry";
import { mintTokenValue } from "../../reference-gateway/token-value";
import { startReferenceGateway, type ReferenceGateway } from "../support/reference-gateway";
import { call, createToken } from "./http";

describe("reference gateway: state dir", () => {
  let gateway: ReferenceGateway;

  beforeAll(async () => {
    gateway = await startReferenceGateway();
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it("keeps tokens, revocations and the request log across a restart", async () => {
    // Prepare
    const kept = await createToken(gateway.url, gateway.adminToken, { name: "kept", scopes: ["read:agents"] });
    const gone = await createToken(gateway.url, gateway.adminToken, { name: "gone", scopes: ["read:agents"] });
    await call(gateway.url, "GET", "/v1/agents", { token: kept.token, userAgent: "before-restart" });
    await call(gateway.url, "POST", `/v1/admin/tokens/${gone.id}/revoke`, { token: gateway.adminToken });
    const pidBefore = gateway.pid;

    // Act
    await gateway.restart();
    const keptAnswer = await call(gateway.url, "GET", "/v1/agents", { token: kept.token });
    const goneAnswer = await call(gateway.url, "GET", "/v1/agents", { token: gone.token });
    const log = await call(gateway.url, "GET", `/v1/admin/tokens/${kept.id}/requests`, { token: gateway.adminToken });
    const metadata = await call(gateway.url, "GET", `/v1/admin/tokens/${kept.id}`, { token: gateway.adminToken });

    // Assess
    expect(gateway.pid).not.toBe(pidBefore);
    expect(keptAnswer.status).toBe(200);
    expect(goneAnswer.status).toBe(401);
    expect(log.body.requests[0]).toMatchObject({ path: "/v1/agents", status: 200, userAgent: "before-restart" });
    expect(log.body.requests).toHaveLength(2);
    expect(metadata.body.lastUsedAt).toBe(log.body.requests[1].at);
  });

  it("keeps the clock offset across a restart, so expired tokens stay expired", async () => {
    // Prepare
    const daily = await createToken(gateway.url, gateway.adminToken, { name: "daily", scopes: ["read:agents"], expiresInSeconds: 86_400 });
    await gateway.setClockOffset(2 * 86_400_000);

    // Act
    await gateway.restart();
    const res = await call(gateway.url, "GET", "/v1/agents", { token: daily.token });
    await gateway.setClockOffset(0);

    // Assess
    expect(res.body.error.code).toBe("token_expired");
  });

  it("never writes a token value, only its hash, to files readable by the owner alone", async () => {
    // Prepare
    const secret = await createToken(gateway.url, gateway.adminToken, { name: "secret", scopes: ["read:agents"] });
    await call(gateway.url, "GET", "/v1/agents", { token: secret.token });

    // Act: the database and its write-ahead log, as bytes (the values are never stored, whatever the page layout).
    const files = (await readdir(gateway.stateDir)).filter((f) => f.startsWith("registry.sqlite"));
    const contents = await Promise.all(files.map((f) => readFile(join(gateway.stateDir, f), "latin1")));
    const mode = (await stat(join(gateway.stateDir, "registry.sqlite"))).mode & 0o777;
    const db = new DatabaseSync(join(gateway.stateDir, "registry.sqlite"), { readOnly: true });
    const environment = db.prepare("SELECT value FROM meta WHERE key = 'environment'").get() as { value: string };
    const stored = db.prepare("SELECT id, sha256 FROM tokens WHERE id = ?").get(secret.id) as { id: string; sha256: string };
    const logged = db.prepare("SELECT COUNT(*) AS n FROM requests WHERE token_id = ?").get(secret.id) as { n: number };
    db.close();

    // Assess
    expect(files).toContain("registry.sqlite");
    const secretPart = secret.token.slice(-32);
    for (const content of contents) {
      expect(content).not.toContain(secret.token);
      expect(content).not.toContain(gateway.adminToken);
      expect(content).not.toContain(secretPart);
    }
    expect(environment.value).toBe("dev");
    expect(stored.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(logged.n).toBe(1);
    expect(mode).toBe(0o600);
  });

  it("answers 503 when another writer holds the registry past the busy timeout, and still answers reads", async () => {
    // Prepare: another process (here the test) holds the database's write lock for longer than the 1 s busy timeout.
    const reader = await createToken(gateway.url, gateway.adminToken, { name: "busy-reader", scopes: ["read:agents"] });
    const holder = new DatabaseSync(join(gateway.stateDir, "registry.sqlite"));
    holder.exec("BEGIN IMMEDIATE");

    try {
      // Act
      const [created, read] = await Promise.all([
        call(gateway.url, "POST", "/v1/admin/tokens", { token: gateway.adminToken, body: { name: "blocked", scopes: ["read:agents"] } }),
        call(gateway.url, "GET", "/v1/agents", { token: reader.token }),
      ]);

      // Assess
      expect(created.status).toBe(503);
      expect(created.body.error.code).toBe("unavailable");
      expect(read.status).toBe(200); // its log entry is lost (reported on stderr), not its answer
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    const after = await call(gateway.url, "POST", "/v1/admin/tokens", { token: gateway.adminToken, body: { name: "unblocked", scopes: ["read:agents"] } });
    expect(after.status).toBe(201);
  }, 15_000);

  it("imports the tokens.json of an earlier version once, keeping IDs, hashes, revocations and the environment", async () => {
    // Prepare: a state dir as the JSON-file registry wrote it.
    const dir = await mkdtemp(join(tmpdir(), "legacy-state-"));
    const minted = mintTokenValue("dev");
    await writeFile(
      join(dir, "tokens.json"),
      JSON.stringify({
        version: 1,
        environment: "dev",
        tokens: [
          { id: "tok_00000000000000aa", name: "old-consumer", scopes: ["read:agents"], lookupId: minted.lookupId, sha256: minted.sha256, createdAt: "2026-01-01T00:00:00.000Z", expiresAt: null, revokedAt: null },
          { id: "tok_00000000000000bb", name: "old-revoked", scopes: ["run:jobs"], lookupId: "AAAAAAAAAAAA", sha256: "0".repeat(64), createdAt: "2026-01-01T00:00:00.000Z", expiresAt: null, revokedAt: "2026-01-02T00:00:00.000Z" },
        ],
      }),
      { mode: 0o600 },
    );

    try {
      // Act
      const registry = await TokenRegistry.open(dir, "dev", systemClock);
      const found = registry.findByValue(minted.value.reveal());
      const revoked = registry.get("tok_00000000000000bb");
      registry.close();
      const wrongEnvironment = TokenRegistry.open(dir, "prod", systemClock);

      // Assess
      expect(found?.id).toBe("tok_00000000000000aa");
      expect(revoked?.revokedAt).toBe("2026-01-02T00:00:00.000Z");
      await expect(wrongEnvironment).rejects.toThrow('belongs to environment "dev", not "prod"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

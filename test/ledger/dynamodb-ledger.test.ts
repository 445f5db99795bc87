/**
 * The ledger on a real DynamoDB API (moto): conditional writes on the version (the fence), the due index, the lease
 * judged with a bounded clock skew, take-over, and isolation between environments.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDbLedger } from "../../src/ledger/dynamodb-ledger";
import { FencedEntry } from "../../src/ledger/fenced-entry";
import { Declaration, idleState, isLeaseFree, LedgerEntry, LedgerPhase, LedgerToken, MAX_CLOCK_SKEW_MS } from "../../src/ledger/ledger";
import { MotoServer, startMoto } from "../support/moto";

const t0 = new Date("2026-11-21T12:00:00Z");
const at = (ms: number) => new Date(t0.getTime() + ms);
const clockAt = (ms: number) => ({ now: () => at(ms) });

function declaration(name: string, environment: "dev" | "prod" = "dev"): Declaration {
  return {
    name,
    secretName: `openclaw/${environment}/${name}`,
    environment,
    gatewayUrl: "http://127.0.0.1:1",
    backend: "documented-api",
    scopes: ["run:jobs"],
    allowAdminScope: false,
    ttlSeconds: 30 * 86400,
    rotationFraction: 0.8,
    consumerCacheTtlSeconds: 3600,
  };
}

function token(issuedAt: Date): LedgerToken {
  return { tokenId: "tok_1", gatewayName: "svc-1", issuedAt, expiresAt: new Date(issuedAt.getTime() + 30 * 86400_000), versionId: "v1", valueSha256: "00" };
}

describe("DynamoDbLedger", () => {
  let moto: MotoServer;
  let client: DynamoDBClient;
  let ledger: DynamoDbLedger;

  beforeAll(async () => {
    moto = await startMoto();
    client = new DynamoDBClient({ endpoint: moto.endpoint, region: "us-east-1", credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
    ledger = new DynamoDbLedger({ tableName: "ledger-dev", environment: "dev", client });
  });
  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    await ledger.ensureTable();
  });

  async function create(name: string, issuedAt = t0): Promise<LedgerEntry> {
    const d = declaration(name);
    return ledger.create({ declaration: d, state: idleState(token(issuedAt), d, 3600_000), lease: undefined });
  }

  describe("fencing", () => {
    it("creates an entry once; a second create is a conflict", async () => {
      await create("svc");
      await expect(create("svc")).rejects.toMatchObject({ code: "ledger_conflict" });
    });

    it("writes only at the version that was read: a stale writer changes nothing", async () => {
      const entry = await create("svc");
      const first = await ledger.writeState(entry, { ...entry.state, lastError: "first" }, undefined);
      await expect(ledger.writeState(entry, { ...entry.state, lastError: "stale" }, undefined)).rejects.toMatchObject({ code: "ledger_conflict" });
      expect((await ledger.get("openclaw/dev/svc"))?.state.lastError).toBe("first");
      expect(first.version).toBe(entry.version + 1);
    });

    it("keeps the declaration out of the rotator's writes", async () => {
      const entry = await create("svc");
      const forged = { ...entry, declaration: { ...entry.declaration, scopes: ["admin:*"] } };
      await ledger.writeState(forged, entry.state, undefined);
      expect((await ledger.get("openclaw/dev/svc"))?.declaration.scopes).toEqual(["run:jobs"]);
    });

    it("deletes only at the version that was read", async () => {
      const entry = await create("svc");
      await ledger.writeState(entry, entry.state, undefined);
      await expect(ledger.delete(entry)).rejects.toMatchObject({ code: "ledger_conflict" });
      await ledger.delete((await ledger.get("openclaw/dev/svc")) as LedgerEntry);
      expect(await ledger.get("openclaw/dev/svc")).toBeUndefined();
    });
  });

  describe("the due index", () => {
    it("lists only entries whose next check has come, however many there are", async () => {
      await create("early", at(-25 * 86400_000)); // due at 24 days: already due
      for (let i = 0; i < 30; i++) await create(`later-${i}`);
      const due: string[] = [];
      for await (const entry of ledger.due(t0)) due.push(entry.declaration.name);
      expect(due).toEqual(["early"]);
    });
  });

  describe("leases", () => {
    it("frees a lease only past its TTL plus the clock-skew bound, by the taker's clock", () => {
      const lease = { owner: "lambda", renewedAt: t0, ttlMs: 600_000 };
      // A laptop 11 minutes ahead sees the Lambda's lease as expired after 10 minutes: not yet free.
      expect(isLeaseFree(lease, "laptop", at(11 * 60_000))).toBe(false);
      expect(isLeaseFree(lease, "laptop", at(600_000 + MAX_CLOCK_SKEW_MS))).toBe(false);
      expect(isLeaseFree(lease, "laptop", at(600_000 + MAX_CLOCK_SKEW_MS + 1))).toBe(true);
      expect(isLeaseFree(lease, "lambda", at(1))).toBe(true); // its own: a renewal
    });

    it("gives a held entry to no one else, and takes it over for the leak response, fencing the holder", async () => {
      await create("svc");
      const held = await FencedEntry.acquire(ledger, "openclaw/dev/svc", { owner: "run-1", clock: clockAt(0), ttlMs: 600_000 });
      expect(held.kind).toBe("acquired");
      expect(await FencedEntry.acquire(ledger, "openclaw/dev/svc", { owner: "run-2", clock: clockAt(11 * 60_000), ttlMs: 600_000 })).toMatchObject({ kind: "busy", holder: "run-1" });

      const taken = await FencedEntry.acquire(ledger, "openclaw/dev/svc", { owner: "emergency", clock: clockAt(60_000), ttlMs: 600_000, takeOver: true });
      expect(taken.kind).toBe("acquired");
      if (held.kind === "acquired") await expect(held.entry.write({ ...held.entry.state, phase: LedgerPhase.Minting })).rejects.toMatchObject({ code: "ledger_conflict" });
      expect((await ledger.get("openclaw/dev/svc"))?.state.phase).toBe(LedgerPhase.Idle);
    });

    it("says missing for a token the ledger does not have", async () => {
      expect(await FencedEntry.acquire(ledger, "openclaw/dev/none", { owner: "run", clock: clockAt(0), ttlMs: 1 })).toEqual({ kind: "missing" });
    });
  });

  describe("environment isolation", () => {
    it("refuses to read an entry of another environment", async () => {
      const prodLedger = new DynamoDbLedger({ tableName: "ledger-dev", environment: "prod", client });
      const d = declaration("svc", "prod");
      await prodLedger.create({ declaration: d, state: idleState(token(t0), d, 3600_000), lease: undefined });
      await expect(ledger.get("openclaw/prod/svc")).rejects.toThrow(/belongs to prod, not dev/);
    });
  });
});

import { Sensitive } from "../../src/domain/sensitive";
import { GatewayBackend } from "../../src/gateway/backend";
import { DocumentedApiGateway } from "../../src/gateway/documented-api";
import { AmbiguousOutcomeError, InvalidTokenError } from "../../src/gateway/errors";
import { GatewayTokenInputs } from "../../src/provider/inputs";
import { GatewayTokenOutputs } from "../../src/provider/outputs";
import { createProviderRuntime, defaultDependencies, ProviderRuntime } from "../../src/provider/runtime";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { DynamoDbLedger } from "../../src/ledger/dynamodb-ledger";
import { serialiseRecord } from "../../src/store/record";
import { LedgerEntry } from "../../src/ledger/ledger";
import { RotationEngine } from "../../src/rotation/engine";
import { noMetrics, silentLogger } from "../../src/rotation/observability";
import { DEFAULT_SETTINGS } from "../../src/rotation/settings";
import { systemClock } from "../../src/domain/clock";
import { ownUserAgent } from "../../src/gateway/backend";
import { SecretsManagerTokenStore } from "../../src/store/secrets-manager-store";
import { Stage } from "../../src/store/token-store";
import { MotoServer, startMoto } from "../support/moto";
import { ReferenceGateway, startReferenceGateway } from "../support/reference-gateway";

describe("GatewayToken provider runtime (moto + reference gateway)", () => {
  let moto: MotoServer;
  let gateway: ReferenceGateway;
  let runtime: ProviderRuntime;
  let store: SecretsManagerTokenStore;
  let admin: DocumentedApiGateway;
  let ledger: DynamoDbLedger;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    [moto, gateway] = await Promise.all([startMoto(), startReferenceGateway({ environment: "dev" })]);
    // The provider builds its SDK client the way it does under Pulumi: from the environment.
    Object.assign(process.env, moto.env);
    runtime = createProviderRuntime();
    store = new SecretsManagerTokenStore({ environment: "dev" });
    ledger = new DynamoDbLedger({ tableName: "openclaw-rotator-dev-ledger", environment: "dev" });
    admin = new DocumentedApiGateway({
      url: gateway.url,
      environment: "dev",
      adminToken: new Sensitive(gateway.adminToken),
      userAgent: "test-observer",
    });
  });
  afterAll(async () => {
    process.env = savedEnv;
    await Promise.all([moto?.stop(), gateway?.stop()]);
  });
  beforeEach(async () => {
    await moto.reset();
    await ledger.ensureTable();
    await gateway.setClockOffset(0);
  });

  const entry = async (name = "openclaw/dev/ci-runner") => (await ledger.get(name)) as LedgerEntry;

  const declare = (overrides: Partial<GatewayTokenInputs> = {}): Record<string, unknown> => ({
    name: "ci-runner",
    scopes: ["run:jobs"],
    ttl: "30d",
    environment: "dev",
    gatewayUrl: gateway.url,
    adminToken: gateway.adminToken,
    recoveryWindowDays: 0,
    ...overrides,
  });

  async function checked(raw: Record<string, unknown>): Promise<GatewayTokenInputs> {
    const result = await runtime.check({}, raw);
    if (result.failures?.length) throw new Error(JSON.stringify(result.failures));
    return result.inputs as GatewayTokenInputs;
  }

  async function createToken(overrides: Partial<GatewayTokenInputs> = {}) {
    const inputs = await checked(declare(overrides));
    const { id, outs } = await runtime.create(inputs);
    return { id, inputs, outs: outs as GatewayTokenOutputs };
  }

  /** Every token on the gateway, through the documented list endpoint (no name filter). */
  const listAllTokens = async (): Promise<Array<{ id: string; name: string; status: string }>> => {
    const res = await fetch(`${gateway.url}/v1/admin/tokens`, { headers: { Authorization: `Bearer ${gateway.adminToken}` } });
    return ((await res.json()) as { tokens: Array<{ id: string; name: string; status: string }> }).tokens;
  };
  /** Tokens the gateway holds now that it did not hold at `before` (the gateway outlives single tests). */
  const mintedSince = async (before: Set<string>) => (await listAllTokens()).filter((t) => !before.has(t.id));
  const snapshot = async () => new Set((await listAllTokens()).map((t) => t.id));

  const currentValue = async (name = "openclaw/dev/ci-runner") => (await store.read(name, Stage.Current))!.token;
  const isAccepted = (value: Sensitive) =>
    admin.whoami(value).then(
      () => true,
      (e) => (e instanceof InvalidTokenError || e.name === "TokenExpiredError" ? false : Promise.reject(e)),
    );

  describe("check", () => {
    it("returns Pulumi failures naming the property and the fix", async () => {
      const result = await runtime.check({}, declare({ scopes: ["run:job" as never] }));
      expect(result.failures).toEqual([{ property: "scopes", reason: expect.stringMatching(/scopes\[0\]: "run:job" is not a scope/) }]);
    });
  });

  describe("create", () => {
    it("mints a live token, stores it as AWSCURRENT and keeps its value out of the outputs", async () => {
      const { id, outs } = await createToken();
      const value = await currentValue();

      expect(id).toBe("openclaw/dev/ci-runner");
      expect(await admin.whoami(value)).toMatchObject({ id: outs.tokenId, scopes: ["run:jobs"] });
      expect(outs).toMatchObject({ secretName: "openclaw/dev/ci-runner", tokenStatus: "active" });
      expect(outs.secretArn).toMatch(/^arn:aws:secretsmanager:us-east-1:/);
      expect(JSON.stringify(outs)).not.toContain(value.reveal());
      expect(new Date(outs.expiresAt).getTime() - Date.now()).toBeGreaterThan(29 * 86400_000);
    });

    it("refuses a secret name that is taken, before minting anything", async () => {
      await createToken();
      const before = await snapshot();
      await expect(runtime.create(await checked(declare()))).rejects.toThrow(/openclaw\/dev\/ci-runner already exists/);
      expect(await mintedSince(before)).toEqual([]);
    });

    it("revokes the minted token when the secret cannot be written", async () => {
      const failing = createProviderRuntime({
        ...defaultDependencies,
        store: (inputs) => {
          const real = defaultDependencies.store(inputs);
          return Object.assign(Object.create(Object.getPrototypeOf(real)), real, {
            create: () => Promise.reject(new Error("AccessDeniedException: simulated")),
          });
        },
      });
      const before = await snapshot();
      await expect(failing.create(await checked(declare()))).rejects.toThrow(/simulated/);
      const minted = await mintedSince(before);
      expect(minted.map((t) => t.status)).toEqual(["revoked"]);
      expect(await store.describe("openclaw/dev/ci-runner")).toBeUndefined();
      expect(await ledger.get("openclaw/dev/ci-runner")).toBeUndefined(); // nothing half-made is left behind
    });

    it("finds and revokes a token whose mint answer was lost", async () => {
      const lossy = createProviderRuntime({
        ...defaultDependencies,
        backend: (inputs) => {
          const real = defaultDependencies.backend(inputs);
          const wrapper: GatewayBackend = Object.create(real);
          wrapper.mint = async (request) => {
            await real.mint(request);
            throw new AmbiguousOutcomeError({ method: "POST", endpoint: "/v1/admin/tokens", gatewayUrl: real.url }, "answer lost");
          };
          return wrapper;
        },
      });
      const before = await snapshot();
      await expect(lossy.create(await checked(declare()))).rejects.toBeInstanceOf(AmbiguousOutcomeError);
      const minted = await mintedSince(before);
      expect(minted.map((t) => t.status)).toEqual(["revoked"]);
    });
  });

  describe("adopt (after lost state, or a token made by hand)", () => {
    /** A secret made by hand: a token minted on the gateway, its record written with no tags and no ledger entry. */
    async function handMade(name: string, scopes: string[], tokenName = `${name}-made-by-hand`) {
      const issued = await admin.mint({ name: tokenName, scopes, expiresAt: new Date(Date.now() + 20 * 86400_000) });
      const client = new SecretsManagerClient({});
      const record = { token: issued.value, tokenId: issued.metadata.id, gatewayTokenName: tokenName, name, environment: "dev" as const, gatewayUrl: gateway.url, backend: "documented-api", scopes, issuedAt: new Date(), expiresAt: issued.metadata.expiresAt! };
      await client.send(new CreateSecretCommand({ Name: `openclaw/dev/${name}`, SecretString: serialiseRecord(record) }));
      client.destroy();
      return issued;
    }

    it("refuses an existing secret without adopt, with the fix that names it", async () => {
      await handMade("ci-runner", ["run:jobs"]);
      await expect(runtime.create(await checked(declare()))).rejects.toThrow(/set adopt: true/);
    });

    it("takes over a secret whose token whoami proves to be the declared one, without rotating it", async () => {
      const issued = await handMade("ci-runner", ["run:jobs"]);

      const { outs } = await runtime.create(await checked(declare({ adopt: true } as never)));

      expect(outs).toMatchObject({ tokenId: issued.metadata.id, tokenStatus: "active" });
      expect((await entry()).state).toMatchObject({ phase: "idle", current: { tokenId: issued.metadata.id } });
      expect((await currentValue()).reveal()).toBe(issued.value.reveal());
      expect((await store.describe("openclaw/dev/ci-runner"))?.tags).toMatchObject({ "openclaw:environment": "dev", "openclaw:token-name": "ci-runner" });
      // Managed from now on: refresh sees it healthy.
      expect((await runtime.read("openclaw/dev/ci-runner", outs as GatewayTokenOutputs)).props.tokenStatus).toBe("active");
    });

    it.each([
      ["other scopes", ["run:jobs", "read:jobs"], "ci-runner-made-by-hand", /its token has scopes read:jobs,run:jobs, the declaration says run:jobs/],
      ["another token's name", ["run:jobs"], "dashboard-made-by-hand", /its token is named dashboard-made-by-hand on the gateway, not ci-runner/],
    ])("refuses a token with %s, changing nothing", async (_what, scopes, tokenName, expected) => {
      await handMade("ci-runner", scopes, tokenName);
      await expect(runtime.create(await checked(declare({ adopt: true } as never)))).rejects.toThrow(expected);
      expect(await ledger.get("openclaw/dev/ci-runner")).toBeUndefined();
      expect((await store.describe("openclaw/dev/ci-runner"))?.tags).toEqual({});
    });

    it("refuses a secret whose token the gateway refuses", async () => {
      const issued = await handMade("ci-runner", ["run:jobs"]);
      await admin.revoke(issued.metadata.id);
      await expect(runtime.create(await checked(declare({ adopt: true } as never)))).rejects.toThrow(/the gateway refuses its token \(invalid_token\)/);
    });
  });

  describe("read (refresh)", () => {
    it("reports a healthy token as active without changing the outputs", async () => {
      const { id, outs } = await createToken();
      const { props } = await runtime.read(id, outs);
      expect(props).toEqual(outs);
    });

    it("reports a token revoked out of band as drift", async () => {
      const { id, outs } = await createToken();
      await admin.revoke(outs.tokenId);
      const { props } = await runtime.read(id, outs);
      expect(props.tokenStatus).toBe("revoked");
      expect((await runtime.diff(id, props, await checked(declare()))).changes).toBe(true);
    });

    it("reports an expired token as drift", async () => {
      const { id, outs } = await createToken({ ttl: "20h" });
      await gateway.setClockOffset(21 * 3600_000);
      expect((await runtime.read(id, outs)).props.tokenStatus).toBe("expired");
    });

    it("reports a secret deleted out of band as gone", async () => {
      const { id, outs } = await createToken();
      await store.delete("openclaw/dev/ci-runner", { recoveryWindowDays: 0 });
      expect((await runtime.read(id, outs)).id).toBeUndefined();
    });

    it("neither shows nor undoes a rotation done outside Pulumi", async () => {
      // Prepare: the rotator's work: a new token becomes AWSCURRENT, recorded in the ledger.
      const { id, inputs, outs } = await createToken();
      const rotatorBackend = new DocumentedApiGateway({ url: gateway.url, environment: "dev", adminToken: new Sensitive(gateway.adminToken), userAgent: ownUserAgent("rotator") });
      const settings = { ...DEFAULT_SETTINGS, environment: "dev" as const, gatewayUrl: gateway.url, backend: "documented-api" as const };
      await new RotationEngine({ store, backend: rotatorBackend, ledger, clock: systemClock, settings, log: silentLogger, metrics: noMetrics }).rotateNow("openclaw/dev/ci-runner");
      const rotated = await currentValue();
      // Act
      const { props } = await runtime.read(id, outs);
      const diff = await runtime.diff(id, props, inputs);
      // Assess
      expect((await admin.whoami(rotated)).id).not.toBe(outs.tokenId);
      expect(props).toEqual(outs);
      expect(diff.changes).toBe(false);
      expect((await currentValue()).reveal()).toBe(rotated.reveal());
    });

    it("reports AWSCURRENT overwritten outside this tool as drift, which the next up repairs", async () => {
      const { id, inputs, outs } = await createToken();
      const other = await admin.mint({ name: "someone-elses", scopes: ["run:jobs"], expiresAt: new Date(Date.now() + 86400_000) });
      const current = await store.read("openclaw/dev/ci-runner", Stage.Current);
      await store.putVersion("openclaw/dev/ci-runner", "44444444-4444-4444-8444-444444444444", { ...current!, token: other.value, tokenId: other.metadata.id }, [Stage.Current]);

      const { props } = await runtime.read(id, outs);
      expect(props.tokenStatus).toBe("mismatch");
      const { outs: repaired } = await runtime.update(id, props, inputs);

      expect((await admin.whoami(await currentValue())).id).toBe(repaired.tokenId);
      expect((await entry()).state.current?.tokenId).toBe(repaired.tokenId);
      expect(await isAccepted(other.value)).toBe(true); // a token the ledger never recorded is not this tool's to revoke
    });
  });

  describe("diff", () => {
    it("sees no change for the same declaration", async () => {
      const { id, inputs, outs } = await createToken();
      expect(await runtime.diff(id, outs, inputs)).toMatchObject({ changes: false, replaces: [] });
    });

    it("updates scopes in place but replaces a renamed token, deleting first when the secret name is reused", async () => {
      const { id, outs } = await createToken();
      expect(await runtime.diff(id, outs, await checked(declare({ scopes: ["run:jobs", "read:jobs"] as never })))).toMatchObject({
        changes: true,
        replaces: [],
      });
      expect(await runtime.diff(id, outs, await checked(declare({ name: "ci-runner-2" })))).toMatchObject({
        changes: true,
        replaces: ["name", "secretName"],
        deleteBeforeReplace: false,
      });
      expect(await runtime.diff(id, outs, await checked(declare({ gatewayUrl: `${gateway.url}/v2` })))).toMatchObject({
        replaces: ["gatewayUrl"],
        deleteBeforeReplace: true,
      });
    });
  });

  describe("update", () => {
    it("changes scopes dual-active: the new token is current, the old one stays valid as AWSPREVIOUS", async () => {
      const { id, outs } = await createToken();
      const oldValue = await currentValue();
      const news = await checked(declare({ scopes: ["run:jobs", "read:jobs"] as never }));

      const { outs: updated } = await runtime.update(id, outs, news);

      const newValue = await currentValue();
      const secret = await store.describe("openclaw/dev/ci-runner");
      expect(await admin.whoami(newValue)).toMatchObject({ id: updated.tokenId, scopes: ["read:jobs", "run:jobs"] });
      expect(await isAccepted(oldValue)).toBe(true);
      expect((await store.read("openclaw/dev/ci-runner", Stage.Previous))?.tokenId).toBe(outs.tokenId);
      expect(secret?.stages.AWSCURRENT).toBe((await entry()).state.current?.versionId);
      expect((await entry()).state.retiring?.tokenId).toBe(outs.tokenId);
      expect((await entry()).state.current?.tokenId).toBe(updated.tokenId);
      expect((await entry()).declaration.scopes).toEqual(["read:jobs", "run:jobs"]);
    });

    it("changes the TTL as metadata only, keeping the live token", async () => {
      const { id, outs } = await createToken();
      const { outs: updated } = await runtime.update(id, outs, await checked(declare({ ttl: "90d" })));
      expect(updated.tokenId).toBe(outs.tokenId);
      expect((await entry()).declaration.ttlSeconds).toBe(90 * 86400);
      expect((await entry()).state.current?.tokenId).toBe(outs.tokenId);
    });

    it("repairs a token revoked out of band", async () => {
      const { id, inputs, outs } = await createToken();
      await admin.revoke(outs.tokenId);
      const { props } = await runtime.read(id, outs);
      const { outs: repaired } = await runtime.update(id, props, inputs);
      expect(repaired.tokenStatus).toBe("active");
      expect(repaired.tokenId).not.toBe(outs.tokenId);
      expect(await isAccepted(await currentValue())).toBe(true);
    });
  });

  describe("delete", () => {
    it("revokes every recorded token, confirms with whoami, then deletes the secret", async () => {
      const { id, outs } = await createToken();
      const first = await currentValue();
      const { outs: updated } = await runtime.update(id, outs, await checked(declare({ scopes: ["read:jobs"] as never })));
      const second = await currentValue();

      await runtime.delete(id, updated);

      expect(await isAccepted(first)).toBe(false);
      expect(await isAccepted(second)).toBe(false);
      expect(await store.describe("openclaw/dev/ci-runner")).toBeUndefined();
      expect(await ledger.get("openclaw/dev/ci-runner")).toBeUndefined();
    });

    it("keeps the secret in its recovery window when one is set, and a later create takes it back", async () => {
      const { id, outs } = await createToken({ recoveryWindowDays: 7 });
      await runtime.delete(id, outs);
      expect((await store.describe("openclaw/dev/ci-runner"))?.deletedAt).toBeInstanceOf(Date);

      const again = await createToken({ recoveryWindowDays: 7 });
      expect(again.outs.tokenStatus).toBe("active");
      expect(await isAccepted(await currentValue())).toBe(true);
    });

    it("keeps the secret when the gateway cannot be reached, so no live token is forgotten", async () => {
      const { id, outs } = await createToken();
      await gateway.stop();
      try {
        await expect(runtime.delete(id, outs)).rejects.toThrow(/no answer after \d attempts/);
        expect(await store.describe("openclaw/dev/ci-runner")).toBeDefined();
      } finally {
        gateway = await startReferenceGateway({ environment: "dev" });
      }
    });
  });
});

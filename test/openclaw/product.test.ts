/**
 * The product on the REAL OpenClaw gateway (npm openclaw, installed by scripts/setup-openclaw.sh): the GatewayToken
 * provider, the rotation engine and the Pulumi engine with `backend: openclaw-devices`, where a token is a paired
 * operator device. One gateway for the whole file (it takes 15-45 s and ~1 GB to start), moto for Secrets Manager
 * and DynamoDB. The gateway has real time only, so rotations are started with rotateNow and drained with a short
 * quiet period in real time instead of moving a clock.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Sensitive } from "../../src/domain/sensitive";
import { BackendKind, GatewayBackend, ownUserAgent } from "../../src/gateway/backend";
import { InvalidTokenError } from "../../src/gateway/errors";
import { createBackend } from "../../src/gateway/factory";
import { parseCredential } from "../../src/gateway/openclaw/credential";
import { OperatorScope } from "../../src/gateway/openclaw/scopes";
import { DynamoDbLedger } from "../../src/ledger/dynamodb-ledger";
import { LedgerEntry, LedgerPhase } from "../../src/ledger/ledger";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { spawnSync } from "node:child_process";
import { resolve as resolvePath } from "node:path";
import { adminSecretName, ledgerTableName } from "../../src/store/metadata";
import { GatewayTokenInputs } from "../../src/provider/inputs";
import { GatewayTokenOutputs, TokenHealth } from "../../src/provider/outputs";
import { createProviderRuntime, ProviderRuntime } from "../../src/provider/runtime";
import { RotationEngine } from "../../src/rotation/engine";
import { DEFAULT_SETTINGS, RotatorSettings } from "../../src/rotation/settings";
import { SecretsManagerTokenStore } from "../../src/store/secrets-manager-store";
import { Stage } from "../../src/store/token-store";
import { MotoServer, startMoto } from "../support/moto";
import { OpenClawGateway, startOpenClawGateway } from "../support/openclaw-gateway";
import { PulumiWorkspace } from "../support/pulumi";
import { Recorder } from "../support/rotation-harness";
import { CallResult, DeviceConsumer } from "./device-consumer";

jest.setTimeout(60_000);

/** The table the provider records tokens in by default (its ledgerTable input), and the rotator and the CLI read. */
const LEDGER_TABLE = ledgerTableName("dev");
const secretOf = (name: string) => `openclaw/dev/${name}`;

describe("openclaw-devices through the product (real gateway)", () => {
  let moto: MotoServer;
  let gateway: OpenClawGateway;
  let store: SecretsManagerTokenStore;
  let ledger: DynamoDbLedger;
  /** The tests' own view of the gateway, with the rotator's User-Agent. */
  let backend: GatewayBackend;
  let runtime: ProviderRuntime;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    // Started side by side; whichever starts is kept for afterAll even if the other fails, so nothing leaks.
    const [motoStart, gatewayStart] = await Promise.allSettled([startMoto(), startOpenClawGateway()]);
    if (motoStart.status === "fulfilled") moto = motoStart.value;
    if (gatewayStart.status === "fulfilled") gateway = gatewayStart.value;
    for (const start of [motoStart, gatewayStart]) if (start.status === "rejected") throw start.reason;
    // The provider builds its SDK clients the way it does under Pulumi: from the environment.
    Object.assign(process.env, moto.env);
    store = new SecretsManagerTokenStore({ environment: "dev" });
    // In AWS the rotator's deployment creates the ledger table; here the tests do, before anything is declared.
    ledger = new DynamoDbLedger({ tableName: LEDGER_TABLE, environment: "dev" });
    await ledger.ensureTable();
    backend = createBackend({
      kind: BackendKind.OpenClawDevices,
      url: gateway.url,
      environment: "dev",
      adminToken: new Sensitive(gateway.sharedToken),
      userAgent: ownUserAgent("rotator"),
    });
    runtime = createProviderRuntime();
  }, 120_000);

  afterAll(async () => {
    process.env = savedEnv;
    await Promise.all([moto?.stop(), gateway?.stop()]);
  }, 30_000);

  const declare = (name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
    name,
    scopes: [OperatorScope.Read],
    ttl: "30d",
    environment: "dev",
    gatewayUrl: gateway.url,
    adminToken: gateway.sharedToken,
    backend: BackendKind.OpenClawDevices,
    recoveryWindowDays: 0,
    ...overrides,
  });

  async function checked(raw: Record<string, unknown>): Promise<GatewayTokenInputs> {
    const result = await runtime.check({}, raw);
    if (result.failures?.length) throw new Error(JSON.stringify(result.failures));
    return result.inputs as GatewayTokenInputs;
  }

  /** The token's ledger entry: what the rotator, the provider and the CLI decide from. */
  async function entryOf(name: string): Promise<LedgerEntry> {
    const entry = await ledger.get(secretOf(name));
    if (!entry) throw new Error(`no ledger entry for ${name}`);
    return entry;
  }

  async function current(name: string): Promise<Sensitive> {
    const record = await store.read(secretOf(name), Stage.Current);
    if (!record) throw new Error(`no AWSCURRENT for ${name}`);
    return record.token;
  }

  const isAccepted = (value: Sensitive) =>
    backend.whoami(value).then(
      () => true,
      (e: unknown) => (e instanceof InvalidTokenError ? false : Promise.reject(e)),
    );

  /** The gateway's own list of paired devices, through its admin HTTP RPC route (not through the backend). */
  async function adminRpc<T>(method: string, params: Record<string, unknown>, bearer = gateway.sharedToken): Promise<{ status: number; body: T }> {
    const res = await fetch(`${gateway.url}/api/v1/admin/rpc`, {
      method: "POST",
      headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json" },
      body: JSON.stringify({ method, params }),
    });
    return { status: res.status, body: (await res.json()) as T };
  }
  async function pairedDevices(): Promise<Array<{ deviceId: string; displayName?: string }>> {
    return (await adminRpc<{ payload: { paired: Array<{ deviceId: string; displayName?: string }> } }>("device.pair.list", {})).body.payload.paired;
  }
  /** Devices minted for a declared token name (each mint is `<name>-<stamp>-<nonce>`). */
  const devicesOf = async (name: string) => (await pairedDevices()).filter((d) => d.displayName?.startsWith(`${name}-`));

  describe("provider runtime", () => {
    const NAME = "ops-dashboard";
    let inputs: GatewayTokenInputs;
    let outs: GatewayTokenOutputs;

    it("check refuses an unknown operator scope and operator.admin without the opt-in, naming the fix", async () => {
      // Act
      const unknown = await runtime.check({}, declare(NAME, { scopes: ["operator.read", "operator.bogus"] }));
      const admin = await runtime.check({}, declare(NAME, { scopes: ["operator.admin"] }));
      const optedIn = await runtime.check({}, declare(NAME, { scopes: ["operator.admin"], allowAdminScope: true }));

      // Assess
      expect(unknown.failures).toEqual([
        { property: "scopes", reason: expect.stringMatching(/^scopes\[1\]: "operator.bogus" is not an operator scope; use one of operator.read, operator.write, operator.admin/) },
      ]);
      expect(admin.failures).toEqual([{ property: "scopes", reason: expect.stringMatching(/^scopes: operator.admin is full control of the gateway/) }]);
      expect(optedIn.failures ?? []).toEqual([]);
      expect(await devicesOf(NAME)).toEqual([]);
    });

    it("create pairs a device with the requested scopes and stores its credential as AWSCURRENT", async () => {
      // Prepare
      inputs = await checked(declare(NAME, { scopes: [OperatorScope.Write, OperatorScope.Read] }));

      // Act
      const created = await runtime.create(inputs);
      outs = created.outs as GatewayTokenOutputs;

      // Assess
      expect(created.id).toBe(secretOf(NAME));
      const value = await current(NAME);
      const credential = parseCredential(value);
      expect(credential).toMatchObject({ deviceId: outs.tokenId, environment: "dev", scopes: [OperatorScope.Read, OperatorScope.Write] });
      expect(await backend.whoami(value)).toMatchObject({ id: outs.tokenId, scopes: [OperatorScope.Read, OperatorScope.Write] });
      expect(outs).toMatchObject({ backend: "openclaw-devices", scopes: [OperatorScope.Read, OperatorScope.Write], tokenStatus: TokenHealth.Active });
      // Neither secret of the credential nor the shared token reaches the outputs (the shared token is the adminToken
      // input, which the resource marks secret).
      const text = JSON.stringify({ ...outs, adminToken: undefined });
      expect(text).not.toContain(credential.deviceToken.reveal());
      expect(text).not.toContain(credential.identity.exportPrivateKey());
      expect(text).not.toContain(gateway.sharedToken);
      expect((await entryOf(NAME)).state).toMatchObject({ phase: LedgerPhase.Idle, current: { tokenId: outs.tokenId } });
      expect((await devicesOf(NAME)).map((d) => d.deviceId)).toEqual([outs.tokenId]);
    });

    it("read (refresh) reports the token active", async () => {
      // Act
      const read = await runtime.read(secretOf(NAME), outs);

      // Assess
      expect(read).toMatchObject({ id: secretOf(NAME), props: { tokenStatus: TokenHealth.Active, tokenId: outs.tokenId } });
    });

    it("a device removed out of band is drift for refresh, and update repairs it with a new device", async () => {
      // Prepare: an operator removes the device by hand (openclaw devices remove).
      const removed = await adminRpc("device.pair.remove", { deviceId: outs.tokenId });
      expect(removed.status).toBe(200);

      // Act
      const refreshed = await runtime.read(secretOf(NAME), outs);
      const drifted = refreshed.props as GatewayTokenOutputs;
      const diff = await runtime.diff(secretOf(NAME), drifted, inputs);
      const updated = (await runtime.update(secretOf(NAME), drifted, inputs)).outs as GatewayTokenOutputs;

      // Assess
      expect(drifted.tokenStatus).toBe(TokenHealth.Revoked);
      expect(diff).toMatchObject({ changes: true, replaces: [] });
      expect(updated.tokenId).not.toBe(outs.tokenId);
      const repaired = await current(NAME);
      expect(await backend.whoami(repaired)).toMatchObject({ id: updated.tokenId, scopes: [OperatorScope.Read, OperatorScope.Write] });
      expect((await runtime.read(secretOf(NAME), updated)).props).toMatchObject({ tokenStatus: TokenHealth.Active });
      // The removed device was not live, so nothing is left retiring.
      const { state } = await entryOf(NAME);
      expect(state.retiring).toBeUndefined();
      expect(state.current?.tokenId).toBe(updated.tokenId);
      expect((await devicesOf(NAME)).map((d) => d.deviceId)).toEqual([updated.tokenId]);
      outs = updated;
    });

    it("delete removes the device, whose credential is then refused, and deletes the secret", async () => {
      // Prepare
      const value = await current(NAME);

      // Act
      await runtime.delete(secretOf(NAME), outs);

      // Assess
      await expect(backend.describe(outs.tokenId)).resolves.toBeUndefined();
      await expect(backend.whoami(value)).rejects.toBeInstanceOf(InvalidTokenError);
      expect(await devicesOf(NAME)).toEqual([]);
      expect(await store.describe(secretOf(NAME))).toBeUndefined();
      expect(await ledger.get(secretOf(NAME))).toBeUndefined();
    });
  });

  describe("rotation engine", () => {
    const NAME = "ops-agent";
    const QUIET_MS = 1_500;
    let engine: RotationEngine;
    let recorder: Recorder;
    let declared: GatewayTokenOutputs;
    /** Every whoami the engine made (the only backend call that connects as a device), with when and as whom. */
    const engineWhoamis: Array<{ at: number; deviceId: string }> = [];

    const settings = (): RotatorSettings => ({
      ...DEFAULT_SETTINGS,
      environment: "dev",
      gatewayUrl: gateway.url,
      backend: BackendKind.OpenClawDevices,
      quietPeriodMs: QUIET_MS,
    });

    beforeAll(async () => {
      declared = (await runtime.create(await checked(declare(NAME)))).outs as GatewayTokenOutputs;
      recorder = new Recorder();
      const spied: GatewayBackend = Object.assign(Object.create(Object.getPrototypeOf(backend)), backend, {
        whoami: (token: Sensitive) => {
          engineWhoamis.push({ at: Date.now(), deviceId: parseCredential(token).deviceId });
          return backend.whoami(token);
        },
      });
      engine = new RotationEngine({ store, backend: spied, ledger, clock: { now: () => new Date() }, settings: settings(), log: recorder, metrics: recorder });
    });

    it("rotates dual-active: a consumer connecting with AWSCURRENT sees zero refusals, and the old device is removed", async () => {
      // Prepare
      const oldValue = await current(NAME);
      const oldId = parseCredential(oldValue).deviceId;
      const consumer = new DeviceConsumer(() => current(NAME), gateway.url, { cacheMs: 200 });
      consumer.start();
      try {
        await consumer.waitForSuccesses(3);

        // Act: start the rotation now (not due), then let the schedule drain it in real time.
        const started = await engine.rotateNow(secretOf(NAME));
        const promoted = (await entryOf(NAME)).state;
        const newId = promoted.current?.tokenId;
        const promotedAt = promoted.promotedAt?.getTime() ?? Number.NaN;
        // The ledger says when the drain looks again (at least a minute after a look inside the quiet period); the
        // due index lists the token from then on, and scheduled runs before that leave it alone.
        const nextCheckAt = promoted.nextCheckAt.getTime();
        let outcome: string | undefined;
        const deadline = nextCheckAt + 20_000;
        while (Date.now() < deadline) {
          outcome = (await engine.runScheduled()).outcomes[secretOf(NAME)];
          if (outcome !== undefined && outcome !== "waiting") break;
          await new Promise((r) => setTimeout(r, 1_000));
        }
        await consumer.waitForSuccesses(3);
        await consumer.stop();

        // Assess
        expect(started).toBe("waiting");
        expect(nextCheckAt).toBeGreaterThan(promotedAt);
        expect(outcome).toBe("completed");
        expect(newId).not.toBe(oldId);
        expect(consumer.tally).toMatchObject({ [CallResult.Refused]: 0, [CallResult.Error]: 0 });
        expect(consumer.tally.ok).toBeGreaterThan(10);
        expect(consumer.devicesUsed).toEqual([oldId, newId]);
        // The drain saw the consumer's connects, not the engine's own: the engine connected as the new device only to
        // verify it, before promotion, and never after.
        expect(engineWhoamis.filter((w) => w.deviceId === newId).every((w) => w.at < promotedAt)).toBe(true);
        expect(engineWhoamis.some((w) => w.deviceId === newId)).toBe(true);
        expect(recorder.counts).toMatchObject({ RotationsStarted: 1, RotationsCompleted: 1 });
        expect(recorder.counts.ConsumersStillOnOldToken ?? 0).toBe(0);
        // Exactly one live device for the token: the new one; the old device is gone and refused.
        expect((await devicesOf(NAME)).map((d) => d.deviceId)).toEqual([newId]);
        await expect(backend.describe(oldId)).resolves.toBeUndefined();
        expect(await consumer.callWith(oldValue)).toBe(CallResult.Refused);
        expect(parseCredential(await current(NAME)).deviceId).toBe(newId);
        expect(promoted).toMatchObject({ phase: LedgerPhase.Draining, retiring: { tokenId: oldId } });
        const after = (await entryOf(NAME)).state;
        expect(after.phase).toBe(LedgerPhase.Idle);
        expect(after.retiring).toBeUndefined();
        expect(after.lastRotatedAt).toBeInstanceOf(Date);
      } finally {
        await consumer.stop();
      }
    }, 120_000);

    it("does not take its own verification for consumer traffic when its clock is behind the gateway's", async () => {
      // Prepare: a rotator whose clock is 5 s behind the gateway's, so that the gateway stamps the verification whoami
      // of the new device (lastUsedAtMs, gateway clock) after promotedAt (rotator clock). No consumer uses the token.
      const SKEWED = "skewed-agent";
      const declaredSkewed = (await runtime.create(await checked(declare(SKEWED)))).outs as GatewayTokenOutputs;
      const skewed = new Recorder();
      const behind = new RotationEngine({
        store,
        backend: createBackend({ kind: BackendKind.OpenClawDevices, url: gateway.url, environment: "dev", adminToken: new Sensitive(gateway.sharedToken), userAgent: ownUserAgent("rotator") }),
        ledger,
        clock: { now: () => new Date(Date.now() - 5_000) },
        settings: settings(),
        log: skewed,
        metrics: skewed,
      });

      // Act
      const started = await behind.rotateNow(secretOf(SKEWED));
      const promoted = (await entryOf(SKEWED)).state;
      await new Promise((r) => setTimeout(r, QUIET_MS + 300));
      // The drain step now, as the operator's rotate runs it (the due index lists the token only a minute after promotion).
      const later = await behind.rotateNow(secretOf(SKEWED));

      // Assess: the new device's last use IS after promotedAt, yet the drain keeps waiting for a consumer.
      const lastUsedAt = (await backend.describe(promoted.current?.tokenId ?? ""))?.lastUsedAt?.getTime() ?? 0;
      expect(promoted.phase).toBe(LedgerPhase.Draining);
      expect(lastUsedAt).toBeGreaterThan(promoted.promotedAt?.getTime() ?? Number.POSITIVE_INFINITY);
      expect([started, later]).toEqual(["waiting", "waiting"]);
      expect(skewed.lines.filter((l) => l.message.startsWith("drain: waiting")).at(-1)?.message).toBe("drain: waiting, no consumer traffic under the new token yet");
      expect(await devicesOf(SKEWED)).toHaveLength(2);
      // Destroy mid-drain removes both devices.
      await runtime.delete(secretOf(SKEWED), declaredSkewed);
      expect(await devicesOf(SKEWED)).toEqual([]);
    });

    it("does not take a pulumi refresh during the drain for consumer traffic", async () => {
      // Prepare: a token mid-rotation, which no consumer uses.
      const REFRESHED = "refreshed-agent";
      const declaredRefreshed = (await runtime.create(await checked(declare(REFRESHED)))).outs as GatewayTokenOutputs;
      expect(await engine.rotateNow(secretOf(REFRESHED))).toBe("waiting");

      // Act: refresh reads the token's health (on this gateway, any use of the device would look like a consumer).
      const read = await runtime.read(secretOf(REFRESHED), declaredRefreshed);
      await new Promise((r) => setTimeout(r, QUIET_MS + 300));
      // The drain step now, as the operator's rotate runs it (the due index lists the token only a minute after promotion).
      const later = await engine.rotateNow(secretOf(REFRESHED));

      // Assess
      expect(read.props).toMatchObject({ tokenStatus: TokenHealth.Active });
      expect(later).toBe("waiting");
      expect(await devicesOf(REFRESHED)).toHaveLength(2);
      await runtime.delete(secretOf(REFRESHED), declaredRefreshed);
    });

    it("emergency revocation refuses the leaked credential at once and issues a working replacement", async () => {
      // Prepare
      const leaked = await current(NAME);
      const leakedId = parseCredential(leaked).deviceId;
      const consumer = new DeviceConsumer(() => current(NAME), gateway.url);

      // Act
      const result = await engine.emergencyRevoke(secretOf(NAME));

      // Assess
      expect(result.revokedTokenIds).toEqual([leakedId]);
      await expect(backend.whoami(leaked)).rejects.toBeInstanceOf(InvalidTokenError);
      expect(await consumer.callWith(leaked)).toBe(CallResult.Refused);
      const replacement = await current(NAME);
      expect(parseCredential(replacement).deviceId).toBe(result.newTokenId);
      expect(await consumer.callWith(replacement)).toBe(CallResult.Ok);
      expect(await backend.whoami(replacement)).toMatchObject({ id: result.newTokenId, scopes: [OperatorScope.Read] });
      expect((await devicesOf(NAME)).map((d) => d.deviceId)).toEqual([result.newTokenId]);
      expect((await entryOf(NAME)).state).toMatchObject({ phase: LedgerPhase.Idle, current: { tokenId: result.newTokenId }, retiring: undefined, revokeNow: [] });
    });

    it("a revoked token is refused everywhere it could be presented", async () => {
      // Prepare: a live device, used once, then revoked the way the product revokes.
      const value = await current(NAME);
      const credential = parseCredential(value);
      const consumer = new DeviceConsumer(async () => value, gateway.url);
      expect(await consumer.callWith(value)).toBe(CallResult.Ok);

      // Act
      await backend.revoke(credential.deviceId);

      // Assess: the WebSocket handshake, whoami, and the admin HTTP RPC route (which takes device tokens as bearer).
      expect(await consumer.callWith(value)).toBe(CallResult.Refused);
      expect(consumer.errors.at(-1)).toMatch(/AUTH_DEVICE_TOKEN_MISMATCH|device token/i);
      await expect(backend.whoami(value)).rejects.toBeInstanceOf(InvalidTokenError);
      const http = await adminRpc("health", {}, credential.deviceToken.reveal());
      expect(http.status).toBe(401);
      await expect(backend.describe(credential.deviceId)).resolves.toBeUndefined();
      // And refresh shows it as drift, for the next up to repair.
      expect((await runtime.read(secretOf(NAME), declared)).props).toMatchObject({ tokenStatus: TokenHealth.Revoked });
    });
  });

  describe("operator CLI (the built bundle), backend chosen from the tokens' declarations in the ledger", () => {
    const NAME = "cli-viewer";
    const cli = (...args: string[]) => {
      const result = spawnSync(process.execPath, [resolvePath(__dirname, "../../dist/cli.js"), ...args, "--environment", "dev", "--ledger-table", LEDGER_TABLE], {
        env: { ...process.env, ...moto.env },
        encoding: "utf8",
      });
      return { code: result.status, out: result.stdout + result.stderr };
    };

    beforeAll(async () => {
      // Where a real environment keeps the gateway's admin credential: for this backend, the shared gateway token.
      const client = new SecretsManagerClient({});
      await client.send(new CreateSecretCommand({ Name: adminSecretName("dev"), SecretString: gateway.sharedToken })).catch((e: Error) => {
        if (e.name !== "ResourceExistsException") throw e;
      });
      client.destroy();
      await runtime.create(await checked(declare(NAME, { scopes: ["operator.read"] })));
    });

    it("status and verify work on paired-device tokens", () => {
      const status = cli("status");
      // Exit code 3 says a token has a problem: earlier tests here leave drifted tokens behind, never this one.
      expect(status.code).toBe(/^\S+: problem: /m.test(status.out) ? 3 : 0);
      expect(status.out).not.toMatch(new RegExp(`^${NAME}: problem: `, "m"));
      expect(status.out).toMatch(new RegExp(`^${NAME}\\s+idle\\s+`, "m"));
      const verify = cli("verify", NAME);
      expect(verify.code).toBe(0);
      expect(verify.out).toMatch(/operator\.read/);
    });

    it("revoke --emergency removes the leaked device and issues a working replacement", async () => {
      const leaked = await current(NAME);
      const revoke = cli("revoke", NAME, "--emergency");
      expect(revoke.code).toBe(0);
      expect(await isAccepted(leaked)).toBe(false);
      expect(await isAccepted(await current(NAME))).toBe(true);
      expect(revoke.out + cli("status").out).not.toContain(gateway.sharedToken);
    });
  });

  describe("through the real Pulumi engine", () => {
    const TOKEN = { name: "ops-console", scopes: [OperatorScope.Read], ttl: "30d", recoveryWindowDays: 0 };
    let workspace: PulumiWorkspace;
    const seen = new Set<string>();

    beforeAll(async () => {
      workspace = new PulumiWorkspace("openclaw-e2e", moto.env);
      await workspace.init();
      const salt = /encryptionsalt: (\S+)/.exec(readFileSync(workspace.configFile, "utf8"))?.[1];
      const config = {
        "openclaw:environment": "dev",
        "openclaw:gatewayUrl": gateway.url,
        "openclaw:backend": "openclaw-devices",
        "openclaw:tokens": [TOKEN],
      };
      writeFileSync(workspace.configFile, JSON.stringify({ ...(salt ? { encryptionsalt: salt } : {}), config }, null, 2));
      await workspace.ok(["config", "set", "--secret", "openclaw:adminToken"], { stdin: gateway.sharedToken });
      seen.add(gateway.sharedToken);
    }, 60_000);
    afterAll(() => workspace?.dispose());

    it("up pairs the device, refresh finds no change, destroy removes it; no secret reaches state or output", async () => {
      // Act: up
      await workspace.ok(["up", "--yes", "--skip-preview"]);
      const value = await current(TOKEN.name);
      const credential = parseCredential(value);
      seen.add(credential.deviceToken.reveal());
      seen.add(credential.identity.exportPrivateKey());

      // Assess: up
      expect(await backend.whoami(value)).toMatchObject({ id: credential.deviceId, scopes: [OperatorScope.Read] });
      expect((await devicesOf(TOKEN.name)).map((d) => d.deviceId)).toEqual([credential.deviceId]);
      expect((await entryOf(TOKEN.name)).state.current?.tokenId).toBe(credential.deviceId);

      // Act / Assess: refresh
      await workspace.ok(["refresh", "--yes", "--expect-no-changes"]);

      // Act: destroy
      const exported = await workspace.ok(["stack", "export", "--stack", workspace.stack], { stackScoped: false });
      await workspace.ok(["destroy", "--yes"]);

      // Assess: destroy
      expect(await isAccepted(value)).toBe(false);
      expect(await devicesOf(TOKEN.name)).toEqual([]);
      expect(await store.describe(secretOf(TOKEN.name))).toBeUndefined();
      expect(await ledger.get(secretOf(TOKEN.name))).toBeUndefined();
      const stateText = listFiles(join(workspace.dir, "backend")).map((f) => readFileSync(f, "utf8")).join("\n") + exported.stdout;
      for (const secret of seen) {
        expect(stateText).not.toContain(secret);
        expect(workspace.transcript).not.toContain(secret);
      }
    }, 150_000);
  });
});

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

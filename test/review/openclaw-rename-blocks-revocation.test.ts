/**
 * Review of the ledger design (a reproduced finding, now fixed): with backend openclaw-devices, the gateway name that revokeWitnessed checks before every revocation is the
 * paired device's displayName, and the real OpenClaw gateway overwrites a paired device's displayName with the
 * client.displayName of every connect made with that device's own credential (updatePairedDeviceMetadata on connect).
 * So whoever holds a LEAKED credential renames its device with one connect, and the leak response then refuses to
 * revoke it ("named ..., not ... as recorded; it was not revoked"): the leaked token stays valid (the gateway has no
 * expiry for devices), and the sweep fails on it in every later run.
 */
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Sensitive } from "../../src/domain/sensitive";
import { BackendKind, GatewayBackend, ownUserAgent } from "../../src/gateway/backend";
import { createBackend } from "../../src/gateway/factory";
import { OpenClawConnection, webSocketUrlOf } from "../../src/gateway/openclaw/connection";
import { parseCredential } from "../../src/gateway/openclaw/credential";
import { OperatorScope } from "../../src/gateway/openclaw/scopes";
import { DynamoDbLedger } from "../../src/ledger/dynamodb-ledger";
import { GatewayTokenInputs } from "../../src/provider/inputs";
import { createProviderRuntime } from "../../src/provider/runtime";
import { RotationEngine } from "../../src/rotation/engine";
import { DEFAULT_SETTINGS } from "../../src/rotation/settings";
import { adminSecretName } from "../../src/store/metadata";
import { SecretsManagerTokenStore } from "../../src/store/secrets-manager-store";
import { Stage } from "../../src/store/token-store";
import { MotoServer, startMoto } from "../support/moto";
import { OpenClawGateway, startOpenClawGateway } from "../support/openclaw-gateway";
import { LEDGER_TABLE, Recorder } from "../support/rotation-harness";

jest.setTimeout(180_000);

describe("review 9: openclaw-devices leak response vs a renamed device", () => {
  let moto: MotoServer;
  let gateway: OpenClawGateway;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    const [m, g] = await Promise.allSettled([startMoto(), startOpenClawGateway()]);
    if (m.status === "fulfilled") moto = m.value;
    if (g.status === "fulfilled") gateway = g.value;
    for (const s of [m, g]) if (s.status === "rejected") throw s.reason;
    Object.assign(process.env, moto.env);
  }, 150_000);
  afterAll(async () => {
    process.env = savedEnv;
    await Promise.all([moto?.stop(), gateway?.stop()]);
  }, 30_000);

  it("revokes a leaked device credential even after its holder renamed the device with a connect", async () => {
    const store = new SecretsManagerTokenStore({ environment: "dev" });
    const ledger = new DynamoDbLedger({ tableName: LEDGER_TABLE, environment: "dev" });
    await ledger.ensureTable();
    const sm = new SecretsManagerClient({});
    await sm.send(new CreateSecretCommand({ Name: adminSecretName("dev"), SecretString: gateway.sharedToken })).catch(() => undefined);
    sm.destroy();
    const backend: GatewayBackend = createBackend({ kind: BackendKind.OpenClawDevices, url: gateway.url, environment: "dev", adminToken: new Sensitive(gateway.sharedToken), userAgent: ownUserAgent("rotator") });
    const runtime = createProviderRuntime();
    const checked = await runtime.check({}, { name: "leaky", scopes: [OperatorScope.Read], ttl: "30d", environment: "dev", gatewayUrl: gateway.url, adminToken: gateway.sharedToken, backend: BackendKind.OpenClawDevices, recoveryWindowDays: 0 });
    await runtime.create(checked.inputs as GatewayTokenInputs);
    const secretName = "openclaw/dev/leaky";
    const leaked = (await store.read(secretName, Stage.Current))!.token;
    const credential = parseCredential(leaked);

    // The thief connects once with the stolen credential, under a display name of its choosing.
    const connectAs = async (displayName: string) => {
      const connection = await OpenClawConnection.open({
        wsUrl: webSocketUrlOf(gateway.url),
        context: { method: "WS", endpoint: "/ connect", gatewayUrl: gateway.url, tokenId: credential.deviceId },
        identity: credential.identity,
        token: credential.deviceToken,
        isDeviceToken: true,
        role: credential.role,
        scopes: credential.scopes,
        client: { ...credential.client, displayName, version: "1.0.0" },
        userAgent: "thief/1.0",
      });
      await connection.request("health");
      await connection.close();
    };
    await connectAs("totally-legit");

    const recorder = new Recorder();
    const engine = new RotationEngine({
      store, backend, ledger, clock: { now: () => new Date() }, log: recorder, metrics: recorder,
      settings: { ...DEFAULT_SETTINGS, environment: "dev", gatewayUrl: gateway.url, backend: BackendKind.OpenClawDevices },
    });
    const outcome = await engine.emergencyRevoke(secretName).then(() => "revoked", (e: Error) => `error: ${e.message}`);
    expect(outcome).toBe("revoked");
    const stillValid = await connectAs("totally-legit").then(() => true, () => false);
    // Later runs: every one starts with the sweep of the leaked token, which fails the same way.
    const later = [await engine.rotateNow(secretName), (await engine.runScheduled()).outcomes[secretName]];
    expect((await ledger.get(secretName))?.state.revokeNow).toEqual([]);
    expect({ stillValid, later }).toEqual({ stillValid: false, later: expect.not.arrayContaining(["bad-state"]) });
  });
});

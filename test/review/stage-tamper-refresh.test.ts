/**
 * Review of the ledger design (a reproduced finding, now fixed): one UpdateSecretVersionStage by the attacker (AWSCURRENT moved back to the draining token's version) makes
 * the next `pulumi up --refresh` see drift (health: mismatch) and run the provider's update, which revokes the
 * draining token at once (revokeNow), without any quiet period: consumers still on the old token are cut off.
 */
import { SecretsManagerClient, UpdateSecretVersionStageCommand } from "@aws-sdk/client-secrets-manager";
import { LedgerPhase } from "../../src/ledger/ledger";
import { GatewayTokenInputs } from "../../src/provider/inputs";
import { GatewayTokenOutputs } from "../../src/provider/outputs";
import { createProviderRuntime } from "../../src/provider/runtime";
import { DAY, RotationHarness } from "../support/rotation-harness";

jest.setTimeout(90_000);

describe("review 9: a stage moved by the attacker, then pulumi up --refresh", () => {
  let h: RotationHarness;
  beforeAll(async () => {
    h = await RotationHarness.start();
  });
  afterAll(() => h?.stop());

  it("does not revoke the draining token under its consumers", async () => {
    const runtime = createProviderRuntime({ backend: () => h.admin, store: () => h.store, ledger: () => h.ledger, clock: h.clock, leaseWaitMs: 50 });
    const inputs = (await runtime.check({}, { name: "app", scopes: ["run:jobs"], ttl: "30d", environment: "dev", gatewayUrl: h.gateway.url, adminToken: h.gateway.adminToken, recoveryWindowDays: 0 })).inputs as GatewayTokenInputs;
    const created = (await runtime.create(inputs)).outs as GatewayTokenOutputs;
    const old = await h.current("app");
    await h.advance(25 * DAY);
    await h.engine().runScheduled();
    const entry = await h.entry("app");
    expect(entry.state.phase).toBe(LedgerPhase.Draining);
    // A consumer still on the old token (its cache is long-lived), inside the drain.
    expect(await h.consume(old)).toBe(201);

    // The attacker: one UpdateSecretVersionStage.
    const sm = new SecretsManagerClient({});
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: h.secretName("app"), VersionStage: "AWSCURRENT", MoveToVersionId: entry.state.retiring!.versionId, RemoveFromVersionId: entry.state.current!.versionId }));
    sm.destroy();

    // The next pulumi up --refresh: read, diff, update (nothing was changed in the program).
    const read = await runtime.read(h.secretName("app"), created);
    const diff = await runtime.diff(h.secretName("app"), read.props as GatewayTokenOutputs, inputs);
    if (diff.changes) await runtime.update(h.secretName("app"), read.props as GatewayTokenOutputs, inputs);

    expect(await h.consume(old)).toBe(201);
  });
});

/**
 * Review 12, finding 2: one write to the rotator credential's secret stops every rotation of the environment until a
 * human brings the break-glass token. readRotatorCredential (src/store/rotator-credential.ts) reads AWSCURRENT and
 * refuses a value the ledger does not record, so the value indeed goes nowhere; but every run, the provider and the CLI
 * then fail before doing anything. Nothing repairs it: the credential's own rotation (which would move AWSCURRENT back,
 * as it does for any token) needs the credential. The declared tokens pass their due date and expire under their
 * consumers; the credential expires too (7 days), and bootstrap-rotator is the only way out.
 *
 * The threat model says the secret's value decides nothing and that nothing may "wedge a token so that no later run can
 * finish its rotation"; the table lists anyone granted PutSecretValue on this secret as a writer of it. (With
 * UpdateSecretVersionStage alone the same follows once the secret has an older version: AWSCURRENT moved onto the
 * revoked AWSPREVIOUS is refused the same way.)
 *
 * Interleaving: bootstrap-rotator; a token declared without adminToken (10d TTL); one PutSecretValue of any value into
 * openclaw-admin/dev/rotator; scheduled runs every 12 hours (every 20 minutes while a rotation is under way) for 11 days.
 * Expected: the declared token rotates before it expires and its consumer keeps working; the planted value is never
 * presented. Observed: every run exits 1 with rotator_credential_mismatch, the token expires on day 10, consumers get 401.
 *
 * Fix: the ledger already records which version holds the current credential (state.current.versionId, immutable in
 * Secrets Manager): read that version and check its digest, instead of whatever AWSCURRENT points at.
 */
import { PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Sensitive } from "../../src/domain/sensitive";
import { DocumentedApiGateway } from "../../src/gateway/documented-api";
import { LedgerPhase } from "../../src/ledger/ledger";
import { createProviderRuntime } from "../../src/provider/runtime";
import { rotatorCredentialSecretName } from "../../src/store/metadata";
import { Stage } from "../../src/store/token-store";
import { runCli } from "../cli/run-cli";
import { DAY, RotationHarness } from "../support/rotation-harness";
import { runBundledRotator } from "../support/run-rotator";

jest.setTimeout(300_000);

const HOUR = 3600_000;
let h: RotationHarness;

beforeAll(async () => {
  h = await RotationHarness.start();
  await h.dropAdminSecret();
}, 120_000);
afterAll(() => h?.stop());

it("keeps rotating the environment's tokens after someone writes into the rotator credential's secret", async () => {
  const boot = await runCli(h, ["bootstrap-rotator", "--gateway-url", h.gateway.url, "--json"], {
    env: { OPENCLAW_ADMIN_TOKEN: h.gateway.adminToken, OPENCLAW_CLOCK_OFFSET_MS: String(h.clock.offsetMs) },
  });
  expect(boot.code).toBe(0);
  const runtime = createProviderRuntime({
    backend: (inputs) => new DocumentedApiGateway({ url: inputs.gatewayUrl, environment: "dev", adminToken: new Sensitive(inputs.adminToken), userAgent: "openclaw-token-ops/0.1 (provider)" }),
    store: () => h.store,
    ledger: () => h.ledger,
    clock: h.clock,
  });
  const checked = await runtime.check({}, { name: "billing-svc", scopes: ["run:jobs"], ttl: "10d", environment: "dev", gatewayUrl: h.gateway.url, recoveryWindowDays: 0 });
  expect(checked.failures ?? []).toEqual([]);
  await runtime.create(checked.inputs);
  const firstToken = (await h.entry("billing-svc")).state.current?.tokenId;

  // The attacker's one call: a value of their own as AWSCURRENT of the credential's secret.
  const client = new SecretsManagerClient({});
  await client.send(new PutSecretValueCommand({ SecretId: rotatorCredentialSecretName("dev"), SecretString: "planted-by-someone-with-PutSecretValue" }));
  client.destroy();

  const consume = async () => h.consume((await h.store.read(h.secretName("billing-svc"), Stage.Current))?.token as Sensitive, "billing-svc-1");
  const failedRuns: number[] = [];
  const end = h.clock.now().getTime() + 11 * DAY;
  while (h.clock.now().getTime() < end) {
    const run = await runBundledRotator(h, { env: { OPENCLAW_ADMIN_SECRET_ID: "" } });
    expect(run.stdout + run.stderr).not.toContain("planted-by-someone");
    if (run.code !== 0) failedRuns.push(h.clock.now().getTime());
    const atRest = (await h.entry("billing-svc")).state.phase === LedgerPhase.Idle && (await h.ledger.get(rotatorCredentialSecretName("dev")))?.state.phase === LedgerPhase.Idle;
    await h.advance(atRest ? 12 * HOUR : 20 * 60_000);
  }
  // Day 11: the declared token was rotated, and its consumer, reading AWSCURRENT, is served.
  expect((await h.entry("billing-svc")).state.current?.tokenId).not.toBe(firstToken);
  expect(await consume()).toBe(201);
  expect(failedRuns.length).toBe(0);
  // The credential's own rotation put AWSCURRENT back on the version the ledger records.
  const credential = await h.ledger.get(rotatorCredentialSecretName("dev"));
  expect((await h.store.describe(rotatorCredentialSecretName("dev")))?.stages.AWSCURRENT).toBe(credential?.state.current?.versionId);
});

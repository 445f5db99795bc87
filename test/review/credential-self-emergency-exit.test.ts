/**
 * Review 12, finding 4 (no fix committed): the leak response on the rotator credential, run with the credential itself
 * (the CLI without OPENCLAW_ADMIN_TOKEN, or the Lambda's `{"action":"emergency-revoke"}` operator request, which always
 * acts with it), revokes the leaked credential and then reports failure.
 *
 * Interleaving: engine.emergencyRevoke on openclaw-admin/dev/rotator with a backend holding C1 (the leaked one): mint C2
 * with C1, promote, sweep revokes C1 with C1, then the confirmation `describe(C1)` is made with C1 -> 401 invalid_token.
 * The command exits 1 / the invocation errors although the leak is contained; the EmergencyRevoked event and metric are
 * never published, the leak checklist is never printed, and the entry is left `draining` with the revoked C1 retiring
 * (the 409 wedge of credential-self-emergency-wedge.test.ts follows from there). Had the ledger listed a pending or
 * retiring credential as well, the sweep would revoke C1 first and every later revocation would fail with 401.
 *
 * Proposed fix (src/rotation/engine.ts, the lead's area): for the credential's own entry, once the replacement is
 * promoted, sweep and confirm with a backend holding the replacement (read by the ledger's recorded version), or revoke
 * the actor's own credential last and count its 401 as the confirmation of that one token; the CLI could also insist on
 * the break-glass token for this one command, as the runbook already says.
 */
import { rotatorCredentialSecretName } from "../../src/store/metadata";
import { runCli } from "../cli/run-cli";
import { RotationHarness } from "../support/rotation-harness";
import { runBundledRotator } from "../support/run-rotator";

jest.setTimeout(120_000);

const CREDENTIAL = rotatorCredentialSecretName("dev");
let h: RotationHarness;

beforeAll(async () => {
  h = await RotationHarness.start();
}, 120_000);
beforeEach(async () => {
  await h.reset();
  await h.dropAdminSecret();
  const boot = await runCli(h, ["bootstrap-rotator", "--gateway-url", h.gateway.url, "--json"], {
    env: { OPENCLAW_ADMIN_TOKEN: h.gateway.adminToken, OPENCLAW_CLOCK_OFFSET_MS: String(h.clock.offsetMs) },
  });
  expect(boot.code).toBe(0);
}, 60_000);
afterAll(() => h?.stop());

it("the CLI's leak response on the credential, with the credential, reports the revocation it did", async () => {
  const leaked = (await h.ledger.get(CREDENTIAL))?.state.current?.tokenId as string;
  const run = await runCli(h, ["revoke", "openclaw-rotator", "--emergency", "--json"], { env: { OPENCLAW_CLOCK_OFFSET_MS: String(h.clock.offsetMs) } });
  expect(run.stderr).not.toMatch(/invalid_token|401/);
  expect(run.code).toBe(0);
  const result = JSON.parse(run.stdout) as { revokedTokenIds: string[]; newTokenId: string };
  expect(result.revokedTokenIds).toEqual([leaked]);
  expect(result.newTokenId).toBe((await h.ledger.get(CREDENTIAL))?.state.current?.tokenId);
});

it("the rotator's emergency-revoke request on its own credential completes", async () => {
  const leaked = (await h.ledger.get(CREDENTIAL))?.state.current?.tokenId as string;
  const run = await runBundledRotator(h, { event: { action: "emergency-revoke", secretName: CREDENTIAL }, env: { OPENCLAW_ADMIN_SECRET_ID: "" } });
  expect(run.code).toBe(0);
  expect(run.result.revokedTokenIds).toEqual([leaked]);
  expect((await h.ledger.get(CREDENTIAL))?.state.retiring).toBeUndefined();
});

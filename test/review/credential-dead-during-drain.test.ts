/**
 * Review 12b, finding 2: a rotator credential that dies during its own drain cannot be repaired by the runbook's
 * procedure (docs/runbook.md, "Rotator credential", "A dead credential": run bootstrap-rotator) until the drain's hold
 * on the old credential is over (the declared 1 h cache plus 15 min after the promotion); every run fails meanwhile.
 *
 * Interleaving: bootstrap-rotator (C1); `openclaw-tokens rotate openclaw-rotator` (C2 minted with C1 and promoted; the
 * entry drains C1); C2 is revoked on the gateway (a revocation by hand, the gateway forgetting it: docs/threat-model.md,
 * "the gateway may forget a token"). Every scheduled run now reads C2, the ledger's current, and fails with 401. The
 * operator runs bootstrap-rotator with the break-glass token, as the runbook says: it finds C2 refused and calls
 * `rotateNow` on the credential's entry, whose drain step (steps.ts, `ownRunsEvidence`'s `heldUntil`) waits for the
 * runs' hold on C1 without ever asking whether the current credential is alive; the command then proves C2 with whoami
 * and exits 1. C1, valid and recorded as retiring, goes unused.
 *
 * Expected: bootstrap-rotator exits 0 with a working credential, and the next scheduled run does not fail on it.
 * Observed (before the fix): exit 1 ("invalid token"), the ledger's current still the revoked C2.
 * Fix: the credential's drain checks that the current credential is live before waiting for the hold, and replaces
 * it at once (replaceCurrent, the old one kept retiring) when it is not, as the consumers' drain does.
 */
import { Sensitive } from "../../src/domain/sensitive";
import { DocumentedApiGateway } from "../../src/gateway/documented-api";
import { LedgerPhase } from "../../src/ledger/ledger";
import { rotatorCredentialSecretName } from "../../src/store/metadata";
import { runCli } from "../cli/run-cli";
import { RotationHarness } from "../support/rotation-harness";
import { runBundledRotator } from "../support/run-rotator";

jest.setTimeout(300_000);

const CREDENTIAL = rotatorCredentialSecretName("dev");
let h: RotationHarness;

beforeAll(async () => {
  h = await RotationHarness.start();
  await h.reset();
  await h.dropAdminSecret();
}, 120_000);
afterAll(() => h?.stop());

function bootstrap() {
  return runCli(h, ["bootstrap-rotator", "--gateway-url", h.gateway.url, "--json"], {
    env: { OPENCLAW_ADMIN_TOKEN: h.gateway.adminToken, OPENCLAW_CLOCK_OFFSET_MS: String(h.clock.offsetMs) },
  });
}

it("bootstrap-rotator repairs a credential revoked while its predecessor drains", async () => {
  expect((await bootstrap()).code).toBe(0);
  const rotate = await runCli(h, ["rotate", "openclaw-rotator", "--json"], { env: { OPENCLAW_CLOCK_OFFSET_MS: String(h.clock.offsetMs) } });
  expect(rotate.code).toBe(0);
  const draining = await h.ledger.get(CREDENTIAL);
  expect(draining?.state.phase).toBe(LedgerPhase.Draining);
  const dead = draining?.state.current?.tokenId as string;
  const checker = new DocumentedApiGateway({ url: h.gateway.url, environment: "dev", adminToken: new Sensitive(h.gateway.adminToken), userAgent: "review-check/1.0" });
  await checker.revoke(dead);
  await h.advance(10 * 60_000);

  const repair = await bootstrap();
  const current = (await h.ledger.get(CREDENTIAL))?.state.current?.tokenId as string;
  const run = await runBundledRotator(h, { env: { OPENCLAW_ADMIN_SECRET_ID: "" } });

  expect({ code: repair.code, stderr: repair.code === 0 ? "" : repair.stderr.slice(0, 400) }).toEqual({ code: 0, stderr: "" });
  expect(current).not.toBe(dead);
  expect((await checker.describe(current))?.status).toBe("active");
  expect((run.result.outcomes ?? {})[CREDENTIAL]).not.toMatch(/failed|bad-state/);
});

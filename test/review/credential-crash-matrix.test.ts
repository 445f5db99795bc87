/**
 * Review 12b: the rotator credential's own rotation killed at every step boundary (the bundled Lambda SIGKILLed there,
 * its lease left held), with the suspension window of a deployed rotator. The crash matrix of test/rotation covers an
 * ordinary token whose admin credential never changes; here the run that dies holds the credential it is rotating,
 * and every later run reads whatever the ledger then records as current. Later runs must converge on one live
 * credential that the ledger records, is AWSCURRENT and that the gateway accepts, with no failed run and no other
 * live credential on the gateway.
 */
import { LedgerPhase } from "../../src/ledger/ledger";
import { Boundary } from "../../src/rotation/observability";
import { rotatorCredentialSecretName } from "../../src/store/metadata";
import { runCli } from "../cli/run-cli";
import { DAY, LEASE_EXPIRY, RotationHarness } from "../support/rotation-harness";
import { runBundledRotator } from "../support/run-rotator";

jest.setTimeout(300_000);

const CREDENTIAL = rotatorCredentialSecretName("dev");
/** The deployed rotator: its own credential, the suspension window on. */
const DEPLOYED = { OPENCLAW_ADMIN_SECRET_ID: "", OPENCLAW_SUSPENSION_WINDOW: "30m" };
const BOUNDARIES = Object.values(Boundary);

let h: RotationHarness;
beforeAll(async () => {
  h = await RotationHarness.start();
}, 120_000);
afterAll(() => h?.stop());
beforeEach(async () => {
  await h.reset();
  await h.dropAdminSecret();
}, 60_000);

it.each(BOUNDARIES)("killed at %s during the credential's own rotation", async (boundary) => {
  const bootstrap = await runCli(h, ["bootstrap-rotator", "--gateway-url", h.gateway.url, "--json"], {
    env: { OPENCLAW_ADMIN_TOKEN: h.gateway.adminToken, OPENCLAW_CLOCK_OFFSET_MS: String(h.clock.offsetMs) },
  });
  expect(bootstrap.code).toBe(0);
  const original = (await h.ledger.get(CREDENTIAL))?.state.current?.tokenId as string;
  await h.advance(6 * DAY); // past 80% of its 7 days

  // Runs until the boundary is reached and the process dies there (the drain's boundaries come in later runs).
  let crashed = false;
  for (let run = 0; run < 12 && !crashed; run++) {
    const result = await runBundledRotator(h, { crashAt: boundary, env: DEPLOYED });
    crashed = result.signal === "SIGKILL";
    if (!crashed) {
      expect(result.code).toBe(0);
      await h.advance(20 * 60_000);
    }
  }
  expect(crashed).toBe(true);

  const outcomes: string[] = [];
  for (let run = 0; run < 12; run++) {
    await h.advance(run === 0 ? LEASE_EXPIRY : 20 * 60_000);
    const result = await runBundledRotator(h, { env: DEPLOYED });
    expect(result.code).toBe(0);
    outcomes.push(String((result.result.outcomes ?? {})[CREDENTIAL]));
    if ((await h.ledger.get(CREDENTIAL))?.state.phase === LedgerPhase.Idle && run > 0) break;
  }

  const { state } = (await h.ledger.get(CREDENTIAL))!;
  const live = (await h.gatewayTokens("openclaw-rotator")).filter((t) => t.status === "active").map((t) => t.id);
  const secret = await h.store.describe(CREDENTIAL);
  expect(outcomes.filter((o) => o === "failed" || o === "bad-state")).toEqual([]);
  expect(state).toMatchObject({ phase: LedgerPhase.Idle, rotation: undefined, retiring: undefined, pending: undefined });
  expect(state.current?.tokenId).not.toBe(original);
  expect(live).toEqual([state.current?.tokenId]);
  expect(secret?.stages.AWSCURRENT).toBe(state.current?.versionId);
  expect(secret?.stages.AWSPENDING).toBeUndefined();
});

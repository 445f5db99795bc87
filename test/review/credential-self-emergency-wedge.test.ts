/**
 * Review 12, finding 3: the leak response on the rotator credential, run as the CLI lets an operator run it (no
 * OPENCLAW_ADMIN_TOKEN: the CLI then acts with the rotator credential itself, cli/context.ts readAdminToken), wedges the
 * credential's entry for good.
 *
 * Interleaving: bootstrap-rotator (credential C1); `openclaw-tokens revoke openclaw-rotator --emergency` without the
 * break-glass token. The engine mints C2 with C1, promotes it (ledger: draining, C1 retiring), revokes C1 with C1, then
 * confirms with `describe(C1)`, again with C1: 401. The command exits 1 ("failed") after doing the revocation, and the
 * final write (idle, nothing retiring) never happens. The scheduled runs then drain C1 like any retiring credential,
 * decide to suspend it first (the deployed rotator's suspension window), and the gateway answers 409 (C1 is revoked,
 * revocation is final). holdSuspended treats that as a failure and never moves on: every later run fails on the
 * credential, its entry stays `suspended`, its next rotation never starts, and C2 expires in 7 days, after which no
 * token of the environment can be rotated. The same 409 wedge follows whenever a retiring token is revoked outside
 * the drain (by hand on the gateway, say) before the suspension.
 *
 * Expected: the entry gets back to idle with C2 current, C1 revoked, and no failed run. Observed: `failed` on every run.
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
}, 120_000);
beforeEach(async () => {
  await h.reset();
  await h.dropAdminSecret();
}, 60_000);
afterAll(() => h?.stop());

/** Four hours of the deployed rotator (suspension window on), a run every 20 minutes: the credential's outcomes. */
async function fourHoursOfRuns(): Promise<string[]> {
  const outcomes: string[] = [];
  for (let i = 0; i < 12; i++) {
    const run = await runBundledRotator(h, { env: { OPENCLAW_ADMIN_SECRET_ID: "", OPENCLAW_SUSPENSION_WINDOW: "30m" } });
    expect(run.code).toBe(0);
    const outcome = (run.result.outcomes ?? {})[CREDENTIAL];
    if (outcome) outcomes.push(outcome);
    await h.advance(20 * 60_000);
  }
  return outcomes;
}

function bootstrap() {
  return runCli(h, ["bootstrap-rotator", "--gateway-url", h.gateway.url, "--json"], {
    env: { OPENCLAW_ADMIN_TOKEN: h.gateway.adminToken, OPENCLAW_CLOCK_OFFSET_MS: String(h.clock.offsetMs) },
  });
}

it("a leak response on the rotator credential leaves an entry the scheduled runs can finish", async () => {
  expect((await bootstrap()).code).toBe(0);
  const leaked = (await h.ledger.get(CREDENTIAL))?.state.current?.tokenId as string;

  // The operator's leak response, without the break-glass token at hand.
  await runCli(h, ["revoke", "openclaw-rotator", "--emergency", "--json"], { env: { OPENCLAW_CLOCK_OFFSET_MS: String(h.clock.offsetMs) } });
  const checker = new DocumentedApiGateway({ url: h.gateway.url, environment: "dev", adminToken: new Sensitive(h.gateway.adminToken), userAgent: "review-check/1.0" });
  expect((await checker.describe(leaked))?.status).toBe("revoked");

  const outcomes = await fourHoursOfRuns();
  const entry = await h.ledger.get(CREDENTIAL);
  expect(outcomes.filter((o) => o === "failed" || o === "bad-state")).toEqual([]);
  expect(entry?.state.phase).toBe(LedgerPhase.Idle);
  expect(entry?.state.retiring).toBeUndefined();
  expect((await checker.describe(entry?.state.current?.tokenId as string))?.status).toBe("active");
});

it("a retiring credential revoked by hand during its drain does not wedge the entry", async () => {
  expect((await bootstrap()).code).toBe(0);
  const old = (await h.ledger.get(CREDENTIAL))?.state.current?.tokenId as string;
  // An operator's rotate: the successor is promoted, the old credential drains.
  const rotate = await runCli(h, ["rotate", "openclaw-rotator", "--json"], { env: { OPENCLAW_CLOCK_OFFSET_MS: String(h.clock.offsetMs) } });
  expect(rotate.code).toBe(0);
  expect((await h.ledger.get(CREDENTIAL))?.state.phase).toBe(LedgerPhase.Draining);
  // Someone with the break-glass token revokes the old one on the gateway by hand.
  const checker = new DocumentedApiGateway({ url: h.gateway.url, environment: "dev", adminToken: new Sensitive(h.gateway.adminToken), userAgent: "review-check/1.0" });
  await checker.revoke(old);
  const outcomes = await fourHoursOfRuns();
  const entry = await h.ledger.get(CREDENTIAL);
  expect(outcomes.filter((o) => o === "failed" || o === "bad-state")).toEqual([]);
  expect(entry?.state.phase).toBe(LedgerPhase.Idle);
  expect(entry?.state.retiring).toBeUndefined();
});

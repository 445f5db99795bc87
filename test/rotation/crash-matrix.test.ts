/**
 * Idempotent and resumable: for every step boundary of a rotation, the bundled Lambda is killed there (SIGKILL:
 * no clean-up, its lease left held), and later runs must converge on one valid current token, the old one
 * revoked and no orphan on the gateway.
 */
import { Boundary } from "../../src/rotation/observability";
import { LedgerPhase } from "../../src/ledger/ledger";
import { DAY, LEASE_EXPIRY, RotationHarness } from "../support/rotation-harness";
import { runBundledRotator } from "../support/run-rotator";

jest.setTimeout(120_000);

const FIRST_RUN = [Boundary.IntentRecorded, Boundary.Minted, Boundary.Staged, Boundary.Verified, Boundary.Promoted, Boundary.DrainingRecorded];
const DRAIN_RUN = [Boundary.OldRevoked, Boundary.RevocationConfirmed, Boundary.Completed];
/** Boundaries reached only when the old token is suspended before it is revoked. */
const SUSPENDING = { OPENCLAW_SUSPENSION_WINDOW: "30m" };

describe("a rotation killed at any step boundary converges on the next runs", () => {
  let h: RotationHarness;
  beforeAll(async () => {
    h = await RotationHarness.start();
  });
  afterAll(() => h?.stop());
  beforeEach(() => h.reset());

  /** Runs the bundle until the rotation completes, with consumer traffic on whatever is current. */
  async function runToCompletion(env?: Record<string, string>): Promise<void> {
    for (let run = 0; run < 6; run++) {
      await h.advance(LEASE_EXPIRY);
      const result = await runBundledRotator(h, { env });
      expect(result.code).toBe(0);
      const outcome = result.result.outcomes?.["openclaw/dev/ci-runner"];
      if (outcome === "completed") return;
      if ((outcome === undefined || outcome === "not-due") && (await h.entry("ci-runner")).state.phase === LedgerPhase.Idle) return;
      expect(await h.consume(await h.current("ci-runner"))).toBe(201);
      await h.advance(11 * 60_000);
    }
    throw new Error("the rotation did not complete in six runs");
  }

  async function assertConverged(originalTokenId: string): Promise<void> {
    const current = await h.current("ci-runner");
    const currentId = (await h.admin.whoami(current)).id;
    const tokens = await h.gatewayTokens("ci-runner");
    const { state } = await h.entry("ci-runner");
    expect(currentId).not.toBe(originalTokenId);
    expect(tokens.filter((t) => t.status === "active").map((t) => t.id)).toEqual([currentId]);
    expect(state).toMatchObject({ phase: LedgerPhase.Idle, rotation: undefined, retiring: undefined, pending: undefined });
    expect(state.current?.tokenId).toBe(currentId);
    const secret = await h.store.describe(h.secretName("ci-runner"));
    expect(secret?.stages.AWSPENDING).toBeUndefined();
    expect(secret?.stages.AWSCURRENT).toBe(state.current?.versionId);
  }

  it.each(FIRST_RUN)("killed at %s during the first run", async (boundary) => {
    await h.declare({ name: "ci-runner" });
    const originalId = (await h.admin.whoami(await h.current("ci-runner"))).id;
    await h.advance(25 * DAY);

    const crashed = await runBundledRotator(h, { crashAt: boundary });
    expect(crashed.signal).toBe("SIGKILL");
    // Whatever was interrupted, consumers still hold a token the gateway accepts.
    expect(await h.consume(await h.current("ci-runner"))).toBe(201);

    await runToCompletion();
    await assertConverged(originalId);
  });

  it.each(DRAIN_RUN)("killed at %s during the drain", async (boundary) => {
    await h.declare({ name: "ci-runner" });
    const originalId = (await h.admin.whoami(await h.current("ci-runner"))).id;
    await h.advance(25 * DAY);
    expect((await runBundledRotator(h)).result.outcomes?.["openclaw/dev/ci-runner"]).toBe("waiting");
    expect(await h.consume(await h.current("ci-runner"))).toBe(201);
    await h.advance(11 * 60_000);

    const crashed = await runBundledRotator(h, { crashAt: boundary });
    expect(crashed.signal).toBe("SIGKILL");
    expect(await h.consume(await h.current("ci-runner"))).toBe(201);

    await runToCompletion();
    await assertConverged(originalId);
  });

  it("killed at old-suspended (the old token suspended for its grace window)", async () => {
    await h.declare({ name: "ci-runner" });
    const originalId = (await h.admin.whoami(await h.current("ci-runner"))).id;
    await h.advance(25 * DAY);
    expect((await runBundledRotator(h, { env: SUSPENDING })).result.outcomes?.["openclaw/dev/ci-runner"]).toBe("waiting");
    expect(await h.consume(await h.current("ci-runner"))).toBe(201);
    await h.advance(11 * 60_000);

    const crashed = await runBundledRotator(h, { crashAt: Boundary.OldSuspended, env: SUSPENDING });
    expect(crashed.signal).toBe("SIGKILL");
    expect((await h.entry("ci-runner")).state.phase).toBe(LedgerPhase.Suspended);
    expect(await h.consume(await h.current("ci-runner"))).toBe(201);

    await runToCompletion(SUSPENDING);
    await assertConverged(originalId);
  });
});

/**
 * Review of the ledger design, finding 3: the drain compares the gateway's traffic timestamps (gateway clock) with the
 * acting engine's own clock. An operator CLI whose clock ran 14 minutes ahead (inside the 15-minute skew the design
 * tolerates) revoked the old token one minute after a consumer used it; the CLI now adds the skew bound.
 */
import { OffsetClock } from "../../local/clock";
import { LedgerPhase, MAX_CLOCK_SKEW_MS } from "../../src/ledger/ledger";
import { DAY, RotationHarness } from "../support/rotation-harness";

jest.setTimeout(90_000);

describe("review 9: a skewed clock and the quiet period", () => {
  let h: RotationHarness;
  beforeAll(async () => {
    h = await RotationHarness.start();
  });
  afterAll(() => h?.stop());

  it("a CLI 14 minutes ahead does not revoke an old token a consumer used 1 minute ago", async () => {
    const quietPeriodMs = 15 * 60_000;
    await h.declare({ name: "app" });
    const old = await h.current("app");
    await h.advance(25 * DAY);
    await h.engine({ settings: h.settings({ quietPeriodMs }) }).runScheduled();
    expect((await h.entry("app")).state.phase).toBe(LedgerPhase.Draining);
    const fresh = await h.current("app");

    // One consumer has moved; another one is still on the old token (it reads the secret less often).
    expect(await h.consume(fresh)).toBe(201);
    await h.advance(20 * 60_000);
    expect(await h.consume(old)).toBe(201);
    await h.advance(60_000);

    // An accurate rotator waits: the old token was used 1 minute ago.
    expect(await h.engine({ settings: h.settings({ quietPeriodMs }) }).rotateNow(h.secretName("app"))).toBe("waiting");

    // The operator's CLI, its clock 14 minutes ahead (OPENCLAW_CLOCK_OFFSET_MS or a drifting laptop).
    const skewed = new OffsetClock();
    skewed.offsetMs = h.clock.offsetMs + 14 * 60_000;
    // The CLI's engine adds the skew bound to the quiet period (cli/context.ts), as any engine off AWS's clock must.
    const outcome = await h.engine({ clock: skewed, settings: h.settings({ quietPeriodMs, clockSkewMs: MAX_CLOCK_SKEW_MS }) }).rotateNow(h.secretName("app"));

    // The consumer still on the old token must not be cut off a minute after its last request.
    expect({ outcome, oldAccepted: await h.consume(old) }).toEqual({ outcome: "waiting", oldAccepted: 201 });
  });
});

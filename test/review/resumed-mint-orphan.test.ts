/**
 * Review of the ledger design (a reproduced finding, now fixed): an actor that resumes a `minting` entry (mintAndStage, not its own intent) revokes what the earlier mint
 * name has minted so far and then overwrites the intent's mint name; it does not keep the old name in abandonedMints.
 * A mint of the earlier actor still in flight lands after that revocation and is then recorded nowhere. Here the
 * resuming actor is an operator CLI whose clock runs 30 minutes ahead (OPENCLAW_CLOCK_OFFSET_MS, or a drifting
 * clock; the AWS SDK corrects its own requests for skew), and the scheduled run dies right after its mint returns.
 */
import { OffsetClock } from "../../local/clock";
import { GatewayBackend } from "../../src/gateway/backend";
import { liveTokenIds } from "../../src/ledger/ledger";
import { DAY, RotationHarness } from "../support/rotation-harness";

jest.setTimeout(90_000);

describe("review 9: a mint in flight when another actor resumes the rotation", () => {
  let h: RotationHarness;
  beforeAll(async () => {
    h = await RotationHarness.start();
  });
  afterAll(() => h?.stop());

  it("leaves no live token that nothing records", async () => {
    await h.declare({ name: "app" });
    await h.advance(25 * DAY);
    const skewed = new OffsetClock();
    skewed.offsetMs = h.clock.offsetMs + 30 * 60_000;

    const slow: GatewayBackend = Object.create(h.admin);
    slow.mint = async (request) => {
      // The scheduled run passed its fence check and its mint is on the wire; meanwhile the operator rotates.
      await h.engine({ clock: skewed }).rotateNow(h.secretName("app"));
      await h.admin.mint(request);
      throw new Error("rotator process killed right after the mint returned");
    };
    await h.engine({ backend: slow }).runScheduled();

    // Everything that may run afterwards, for a while: scheduled runs (sweeps included).
    for (let i = 0; i < 6; i++) {
      await h.advance(20 * 60_000);
      await h.engine().runScheduled();
    }
    const recorded = liveTokenIds((await h.entry("app")).state);
    const active = (await h.gatewayTokens("app")).filter((t) => t.status === "active");
    const unrecorded = active.filter((t) => !recorded.includes(t.id));
    expect(unrecorded).toEqual([]);
  });
});

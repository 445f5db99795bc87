/**
 * Review of the ledger design (a reproduced finding, now fixed): the leak response during a drain, when the replacement cannot be issued (gateway refuses the mint once),
 * leaves the entry in `draining` with a revoked current token; no later run (scheduled or the operator's `rotate`,
 * which the error message recommends) can issue a token.
 */
import { GatewayBackend } from "../../src/gateway/backend";
import { GatewayUnavailableError } from "../../src/gateway/errors";
import { LedgerPhase } from "../../src/ledger/ledger";
import { DAY, RotationHarness } from "../support/rotation-harness";

jest.setTimeout(90_000);

describe("review 9: emergency during a drain with a failed replacement", () => {
  let h: RotationHarness;
  beforeAll(async () => {
    h = await RotationHarness.start();
  });
  afterAll(() => h?.stop());

  it("does not wedge: the next run issues a valid token", async () => {
    await h.declare({ name: "app" });
    await h.advance(25 * DAY);
    await h.engine().runScheduled();
    expect((await h.entry("app")).state.phase).toBe(LedgerPhase.Draining);

    // The gateway fails the verification's whoami once (a transient fault of the model): no replacement is issued.
    let failed = false;
    const flaky: GatewayBackend = Object.create(h.admin);
    flaky.whoami = (token) => {
      if (!failed) {
        failed = true;
        return Promise.reject(new GatewayUnavailableError({ method: "GET", endpoint: "/v1/auth/whoami", gatewayUrl: h.gateway.url }, "connection reset"));
      }
      return h.admin.whoami(token);
    };
    const error = await h.engine({ backend: flaky }).emergencyRevoke(h.secretName("app")).catch((e: Error) => e);
    expect(String(error)).toMatch(/no replacement could be issued/);

    // The gateway is back. The operator does what the error says: `openclaw-tokens rotate app`; schedules run too.
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      outcomes.push(await h.engine().rotateNow(h.secretName("app")));
      outcomes.push(String((await h.engine().runScheduled()).outcomes[h.secretName("app")]));
      await h.advance(30 * 60_000);
    }
    const entry = await h.entry("app");
    // A consumer reading AWSCURRENT must eventually get a token the gateway accepts.
    expect({ outcomes, phase: entry.state.phase, lastError: entry.state.lastError, currentAccepted: await h.accepted(await h.current("app")) }).toMatchObject({ currentAccepted: true });
  });
});
